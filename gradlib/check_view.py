r"""A check result as HTML: numerical, analytic and their difference side by side, around the worst entry.

The view of :class:`gradlib.verdict.CheckResult`, imported by its ``_repr_html_`` only (a notebook
showing a result), so the checker itself loads no HTML code. Each table shows at most 12 x 8 entries
of a 2-D slice through the worst entry ``k = argmax_j (|numerical_j - analytic_j| - tol_j)``; the
cells outside their tolerance (``|numerical_j - analytic_j| > tol_j``) are marked. How it reads in a
browser (light, dark, phone): tests/site/test_check_view.py.
"""
from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # for the type hints only: the verdict imports this module, not the other way round
    from .verdict import CheckResult

__all__ = ["check_result_html"]

# -- colours and layout ------------------------------------------------------------------------
# Colours: every element inherits the page's text colour and background (light or dark, book or
# JupyterLab), also where a theme styles captions, code or table cells; the only colours set are a
# translucent red tint under mismatched cells (the inherited text keeps >= 7:1 contrast on light and
# dark pages) and red outlines. A mismatch is also bold and outlined, the worst entry marked with a
# diamond, so nothing depends on colour alone. Layout: compact cells, and the three tables wrap.

_ROWS, _COLUMNS = 12, 8  # at most this many rows and columns per table (6-8 columns fit a 700 px page)
_INHERIT = "color:inherit;background:transparent"
_TABLE = f"border-collapse:collapse;font-family:monospace;font-size:0.8em;margin:0;{_INHERIT}"
_CAPTION = f"caption-side:top;text-align:left;font-weight:bold;white-space:nowrap;padding:0 0 0.2em;{_INHERIT}"
_CELL = f"padding:1px 4px;text-align:right;white-space:nowrap;border:1px solid rgba(128,128,128,0.5);{_INHERIT}"
_HEAD = _CELL + ";font-weight:normal;font-style:italic"
_TINT = "background:rgba(214,39,40,0.2)"
_MISMATCH = f"font-weight:bold;outline:2px solid #d62728;outline-offset:-2px;{_TINT}"
_WORST = "outline:3px double currentColor;outline-offset:-3px"
_WORST_MISMATCH = f"font-weight:bold;outline:3px double #d62728;outline-offset:-3px;{_TINT}"


def _window(shape: tuple[int, ...], worst: tuple[int, ...]) -> tuple[tuple[int, ...], range, range, str]:
    """The 2-D slice (leading indices) and row/column ranges shown around the worst entry; a 1-D
    array is shown as a column (its entries are the rows)."""
    if len(shape) == 0:
        return (), range(1), range(1), ""
    lead = worst[:-2]
    rows_total, cols_total = (shape[0], 1) if len(shape) == 1 else shape[-2:]
    row, col = (worst[0], 0) if len(shape) == 1 else worst[-2:]
    r0 = min(max(row - _ROWS // 2, 0), max(rows_total - _ROWS, 0))
    c0 = min(max(col - _COLUMNS // 2, 0), max(cols_total - _COLUMNS, 0))
    rows, cols = range(r0, min(r0 + _ROWS, rows_total)), range(c0, min(c0 + _COLUMNS, cols_total))
    parts = []
    if lead:
        parts.append(f"the slice [{', '.join(map(str, lead))}, :, :] of the {'x'.join(map(str, shape))} array")
    if len(rows) < rows_total:
        parts.append(f"{'entries' if len(shape) == 1 else 'rows'} {rows.start}-{rows.stop - 1} of {rows_total}")
    if len(cols) < cols_total:
        parts.append(f"columns {cols.start}-{cols.stop - 1} of {cols_total}")
    note = ("Showing " + ", ".join(parts) + ", around the worst entry.") if parts else ""
    return lead, rows, cols, note


def _short(value: float, kind: str) -> str:
    """A value in few characters (hover shows all its digits): 6 significant digits, a difference
    with 2 and a sign, exponents without padding zeros (``1.5e-5``, not ``1.5e-05``)."""
    return re.sub(r"e([+-])0+(?=\d)", r"e\1", f"{value:+.2g}" if kind == "difference" else f"{value:.6g}")


def _grid(values: np.ndarray, lead: tuple[int, ...]) -> np.ndarray:
    """``values`` as the 2-D grid a table shows: a scalar as 1 x 1, a vector as a column."""
    return values.reshape(1, 1) if values.ndim == 0 else values[:, None] if values.ndim == 1 else values[lead]


def _table(title: str, values: np.ndarray, result: CheckResult, kind: str) -> str:
    """One table of ``values`` (x's shape) in the window around the worst entry: each cell is the value
    in short with every digit in its title; the cells with ``|numerical_j - analytic_j| > tol_j`` are
    marked ``gradlib-mismatch``, the worst one ``gradlib-worst`` and a diamond."""
    shape, worst = values.shape, result.worst_index
    lead, rows, cols, _ = _window(shape, worst)
    grid, bad = _grid(values, lead), _grid(result.mismatched, lead)
    worst_rc = (0, 0) if not worst else (worst[0], 0) if len(worst) == 1 else tuple(worst[-2:])
    out = [f'<table class="gradlib-table gradlib-{kind}" style="{_TABLE}">',
           f'<caption style="{_CAPTION}">{html.escape(title)}</caption>']
    if values.ndim >= 2:
        head = "".join(f'<th style="{_HEAD}">{c}</th>' for c in cols)
        out.append(f'<tr><th style="{_HEAD}"></th>{head}</tr>')
    for r in rows:
        cells = []
        for c in cols:
            value = float(grid[r, c])
            text = _short(value, kind)
            classes, style = ["gradlib-cell"], _CELL
            is_worst = (r, c) == worst_rc
            if bad[r, c]:
                classes.append("gradlib-mismatch")
            if is_worst:
                classes.append("gradlib-worst")
                text = "\u25c6\u00a0" + text
            if bad[r, c] or is_worst:
                style += ";" + (_WORST_MISMATCH if bad[r, c] and is_worst else _WORST if is_worst else _MISMATCH)
            cells.append(f'<td class="{" ".join(classes)}" style="{style}" title="{value!r}">{html.escape(text)}</td>')
        label = r if values.ndim >= 1 else ""
        out.append(f'<tr><th style="{_HEAD}">{label}</th>{"".join(cells)}</tr>')
    out.append("</table>")
    return "".join(out)


def check_result_html(result: CheckResult) -> str:
    """Numerical, analytic and their difference side by side; mismatched entries bold and outlined."""
    what, mode = result.labels
    verdict = "PASS" if result.passed else "FAIL"
    summary = (f"<strong>{verdict}</strong> &mdash; method <code style=\"{_INHERIT};font-size:inherit\">"
               f"{html.escape(result.method)}</code>{html.escape(mode)}, {result.calls} calls of f; max abs "
               f"error {result.max_abs_error:.3g} (tolerance {result.tolerance:.3g}), max rel error "
               f"{result.max_rel_error:.3g}; worst {what} {html.escape(str(result.worst_index))}: numerical "
               f"{float(result.numerical[result.worst_index])!r}, analytic "
               f"{float(result.analytic[result.worst_index])!r}")
    directional = result.direction_vectors is not None
    names = ("numerical J w", "analytic \u00b7 w") if directional else ("numerical", "analytic")
    tables = "".join(f'<div style="max-width:100%;overflow-x:auto">{_table(title, values, result, kind)}</div>'
                     for title, values, kind in [
                         (names[0], result.numerical, "numerical"), (names[1], result.analytic, "analytic"),
                         ("numerical \u2212 analytic", result.numerical - result.analytic, "difference")])
    window_note = _window(result.numerical.shape, result.worst_index)[3]
    legend = (f'Legend: <span class="gradlib-mismatch" style="{_CELL};{_MISMATCH}">bold, solid outline</span> '
              f'= outside the tolerance; <span class="gradlib-worst" style="{_CELL};{_WORST}">\u25c6 double '
              f'outline</span> = the worst {what}. Hover a value for all its digits.')
    parts = [f'<div class="gradlib-check" style="{_INHERIT};line-height:1.4">',
             f'<div class="gradlib-summary">{summary}</div>']
    if result.diagnosis:
        parts.append(f'<div class="gradlib-diagnosis"><strong>Diagnosis:</strong> '
                     f'{html.escape(result.diagnosis)}</div>')
    if result.note:
        parts.append(f'<div class="gradlib-note">Note: {html.escape(result.note)}</div>')
    parts.append(f'<div class="gradlib-tables" style="display:flex;flex-wrap:wrap;align-items:flex-start;'
                 f'gap:0.6em 1.2em;margin:0.4em 0">{tables}</div>')
    if window_note:
        parts.append(f'<div class="gradlib-window">{html.escape(window_note)}</div>')
    parts.append(f'<div class="gradlib-legend">{legend}</div></div>')
    return "".join(parts)
