"""Display helpers for the chapters: source listings (a CheckResult shows itself: gradlib.report)."""
from __future__ import annotations

import inspect
from typing import Any

from gradlib._validate import rule_error


def show_source(obj: Any) -> Any:
    """The real source of ``obj`` as a highlighted Python block (never a copy that can drift).

    Returned as Markdown so the book renders it with the theme's own highlighting (light and dark).
    """
    from IPython.display import Markdown  # here, so that importing gradlib does not import IPython

    return Markdown(f"```python\n{inspect.getsource(obj).rstrip()}\n```")


def show_lines(obj: Any, *needles: str) -> Any:
    """The lines of ``obj``'s real source that contain one of ``needles``, as a highlighted Python block.

    Each needle must be found (a GradlibError otherwise), so a chapter that quotes a line of gradlib
    stops building when the line changes instead of quoting something that is no longer there.
    """
    lines = inspect.getsource(obj).splitlines()
    picked = []
    for needle in needles:
        found = [line for line in lines if needle in line]
        if not found:
            raise rule_error("show_lines", f"no line of {getattr(obj, '__qualname__', obj)!r} contains {needle!r}")
        picked.extend(line for line in found if line not in picked)
    indent = min(len(line) - len(line.lstrip()) for line in picked)
    from IPython.display import Markdown

    return Markdown("```python\n" + "\n".join(line[indent:] for line in picked) + "\n```")
