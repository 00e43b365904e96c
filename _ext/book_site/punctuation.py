"""Works around Chromium breaking a line after KaTeX's inline boxes even before a comma.

9. Punctuation kept with its formula. KaTeX draws an inline formula as inline blocks, after which
Chromium may break the line even before a comma, so a narrow table cell showed a line starting with
", ∂A/∂X". Each inline formula followed by punctuation is wrapped, with that punctuation, in a
``book-nowrap`` span, which book.css keeps on one line.
"""
from __future__ import annotations

import re
from typing import Any

from sphinx.application import Sphinx

# Punctuation that must stay on the line of the formula before it (see 9. in the module docstring).
_TRAILING_PUNCTUATION = re.compile(r"^[,.;:!?)\]\u2019\u201d]+")


def keep_punctuation_with_math(app: Sphinx, doctree: Any, docname: str) -> None:
    """Wrap each inline formula and the punctuation right after it in ``<span class="book-nowrap">``."""
    from docutils import nodes

    for math in list(doctree.findall(nodes.math)):
        parent = math.parent
        at = next(i for i, child in enumerate(parent.children) if child is math)
        following = parent.children[at + 1] if at + 1 < len(parent.children) else None
        found = _TRAILING_PUNCTUATION.match(str(following)) if isinstance(following, nodes.Text) else None
        if not found:
            continue
        glued = nodes.inline(classes=["book-nowrap"])
        glued += math.deepcopy()
        glued += nodes.Text(found.group(0))
        rest = str(following)[found.end():]
        parent.children[at:at + 2] = [glued, nodes.Text(rest)] if rest else [glued]
        glued.parent = parent
        for child in parent.children[at + 1:at + 2]:
            child.parent = parent
