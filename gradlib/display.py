"""Small display helpers for the chapters."""
from __future__ import annotations

import inspect
from typing import Any

from IPython.display import Markdown

from gradlib._validate import fail


def show_source(obj: Any) -> Markdown:
    """The real source of ``obj`` as a highlighted Python block (never a copy that can drift).

    Returned as Markdown so the book renders it with the theme's own highlighting (light and dark).
    """
    return Markdown(f"```python\n{inspect.getsource(obj).rstrip()}\n```")


def show_lines(obj: Any, *needles: str) -> Markdown:
    """The lines of ``obj``'s real source that contain one of ``needles``, as a highlighted Python block.

    Each needle must be found (a GradlibError otherwise), so a chapter that quotes a line of gradlib
    stops building when the line changes instead of quoting something that is no longer there.
    """
    lines = inspect.getsource(obj).splitlines()
    picked = []
    for needle in needles:
        found = [line for line in lines if needle in line]
        if not found:
            raise fail("show_lines", f"no line of {getattr(obj, '__qualname__', obj)!r} contains {needle!r}")
        picked.extend(line for line in found if line not in picked)
    indent = min(len(line) - len(line.lstrip()) for line in picked)
    return Markdown("```python\n" + "\n".join(line[indent:] for line in picked) + "\n```")
