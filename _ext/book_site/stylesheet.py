"""Works around pydata-sphinx-theme's stylesheet (64 KiB gzip on every page) holding rules for
components this book never shows.

8. Page weight (every page <= 400 KiB gzip with its explorer live). The theme's stylesheet
(64 KiB gzip, on every page) is trimmed after the build to the rules that can match: a selector
that needs a class which no built page and no script of the site names is dropped (``:not()``,
``:is()``, ``:where()`` and ``:has()`` kept as they are): about 70 % of it goes. The search index
off the search page is ``templates/layout.html``'s (``templates.py``), the unused files of other
extensions ``scripts.py``'s.
"""
from __future__ import annotations

import re
from pathlib import Path

from sphinx.application import Sphinx

# The theme's stylesheet, trimmed to the rules the site can use (see 8. in the module docstring).
THEME_STYLESHEET = Path("styles", "pydata-sphinx-theme.css")
_CLASS = re.compile(r"\.(-?[_a-zA-Z][_a-zA-Z0-9-]*)")
_WORD = re.compile(r"[A-Za-z0-9_-]+")
_OPAQUE = re.compile(r":(?:is|where|has|matches|-webkit-any)\(")  # selector lists we do not take apart


def _split_selectors(prelude: str) -> list[str]:
    """A rule's selectors, split at the commas outside parentheses."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(prelude):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(prelude[start:i].strip())
            start = i + 1
    return [*parts, prelude[start:].strip()]


def _selector_can_match(selector: str, words: set[str]) -> bool:
    """False only when the selector needs a class that no page and no script of the site names."""
    if _OPAQUE.search(selector):
        return True
    needed = re.sub(r":not\([^()]*\)", "", selector)  # a class under :not() is not needed
    return all(name in words for name in _CLASS.findall(needed))


def trim_stylesheet(css: str, words: set[str]) -> str:
    """``css`` without the selectors that need a class absent from ``words`` (rules left with no
    selector go, and so do @media / @supports blocks left empty); everything else as it was."""
    import tinycss2

    def keep(rules: list) -> list[str]:
        out = []
        for rule in rules:
            if rule.type == "qualified-rule":
                selectors = [s for s in _split_selectors(tinycss2.serialize(rule.prelude))
                             if _selector_can_match(s, words)]
                if selectors:
                    out.append(",".join(selectors) + "{" + tinycss2.serialize(rule.content) + "}")
            elif rule.type == "at-rule" and rule.content is not None and \
                    rule.lower_at_keyword in ("media", "supports", "layer", "container"):
                inner = keep(tinycss2.parse_rule_list(rule.content, skip_whitespace=True, skip_comments=True))
                if inner:
                    out.append(f"@{rule.at_keyword}{tinycss2.serialize(rule.prelude)}{{{''.join(inner)}}}")
            elif rule.type in ("at-rule", "qualified-rule"):
                out.append(tinycss2.serialize([rule]))
        return out

    return "".join(keep(tinycss2.parse_stylesheet(css, skip_whitespace=True, skip_comments=True)))


def trim_theme_stylesheet(app: Sphinx, exception: Exception | None) -> None:
    """Rewrite the theme's stylesheet in ``_static`` without the rules no page can use."""
    if exception is not None or app.builder.format != "html":
        return
    out = Path(app.outdir)
    sources = [*out.rglob("*.html"), *(out / "_static").rglob("*.js")]
    words = {word for path in sources for word in _WORD.findall(path.read_text(encoding="utf-8", errors="replace"))}
    stylesheet = out / "_static" / THEME_STYLESHEET
    stylesheet.write_text(trim_stylesheet(stylesheet.read_text(encoding="utf-8"), words), encoding="utf-8")
