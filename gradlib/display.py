"""Display helpers for the chapters: source listings, plain tables (a check result: gradlib.check_view)."""
from __future__ import annotations

import html
import inspect
from typing import Any

import numpy as np

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


# -- a plain table ---------------------------------------------------------------------------------

_INHERIT = "color:inherit;background:transparent"  # the page's own colours, light or dark
_TABLE = f"border-collapse:collapse;font-size:0.8em;{_INHERIT}"
_PLAIN_CELL = f"padding:2px 6px;vertical-align:top;border:1px solid rgba(128,128,128,0.5);{_INHERIT}"


def table_html(header: list[str], rows: list[list[Any]]) -> str:
    """``header`` and ``rows`` as an HTML table (cells escaped, numbers right-aligned), coloured by the page."""
    if any(len(row) != len(header) for row in rows):
        raise rule_error("table", f"every row needs {len(header)} cells (one per header), got "
                         f"{sorted({len(row) for row in rows})}")

    def cell(tag: str, value: Any) -> str:
        align = "right" if isinstance(value, (int, float, np.number)) else "left"
        return f'<{tag} style="{_PLAIN_CELL};text-align:{align}">{html.escape(str(value))}</{tag}>'

    head = "".join(cell("th", h) for h in header)
    body = "".join(f"<tr>{''.join(cell('td', v) for v in row)}</tr>" for row in rows)
    return (f'<div style="max-width:100%;overflow-x:auto"><table class="gradlib-table" '
            f'style="{_TABLE};font-family:inherit;margin:0.2em 0 0.8em">'
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>")


def table(header: list[str], rows: list[list[Any]]) -> Any:
    """An HTML table for a notebook (a real table on the site, not Markdown's ``| a | b |`` text)."""
    from IPython.display import HTML
    return HTML(table_html(header, rows))
