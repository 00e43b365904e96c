"""Word budgets: the conventions page and the seven rule chapters stay short.

A word is a whitespace-separated token of a notebook's markdown cells, math included: the count
the budget was set in (21,439 words when it was set; at most 15,500 since).
"""
from __future__ import annotations

import re

import nbformat

from booksite import ROOT

RULE_PAGES = sorted(p for p in (ROOT / "chapters").glob("0*.ipynb") if re.match(r"0[0-7]_", p.name))
BUDGET = 15_500


def words(path) -> int:
    """Whitespace-separated tokens of the markdown cells of a notebook."""
    return sum(len(c.source.split()) for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown")


def test_the_count_is_the_issues_count():
    cell = nbformat.v4.new_markdown_cell("Two  words\n$x = 1$")
    notebook = nbformat.v4.new_notebook(cells=[cell, nbformat.v4.new_code_cell("not counted at all")])
    path = ROOT / "_build" / "budget-probe.ipynb"
    path.parent.mkdir(exist_ok=True)
    nbformat.write(notebook, path)
    try:
        assert words(path) == 5
    finally:
        path.unlink()


def test_conventions_and_rule_chapters_fit_the_budget():
    assert [p.stem[:2] for p in RULE_PAGES] == ["00", "01", "02", "03", "04", "05", "06", "07"]
    counts = {p.stem: words(p) for p in RULE_PAGES}
    total = sum(counts.values())
    assert total <= BUDGET, f"{total} words > {BUDGET}: {counts}"
