"""Tables with math wrap sensibly, and the cheat sheet keeps its columns on a phone (issue 16, item 4).

Geometry in Chromium, at 390 px and 1280 px: no line of a page starts with the punctuation that
follows an inline formula (", ∂A/∂X" on a line of its own was the fault: Chromium breaks after
KaTeX's inline boxes even before a comma); and the cheat sheet at 390 px neither squeezes its
columns nor widens the page: it scrolls sideways inside its own box, with the rule's name (the
first column) still in view when scrolled to the far end. The punctuation is measured with the
explorers drawn (display_math.PUNCTUATION_AFTER_MATH), in the load test_math_fits.py measures too.
"""
from __future__ import annotations

import pytest

pytestmark = [pytest.mark.book, pytest.mark.browser]


@pytest.mark.parametrize("width", [390, 1280])
def test_no_line_starts_with_the_punctuation_after_a_formula(math_layouts, book_page, width):
    found = math_layouts(book_page, width)["punctuation"]
    broken = [f["text"] for f in found if f["broken"]]
    assert broken == [], f"{book_page} at {width} px: lines starting with punctuation after a formula: {broken[:6]}"


CHEAT_SHEET = r"""
() => {
  const table = document.querySelector('table.cheatsheet');
  let box = table.parentElement;
  while (box && !['auto', 'scroll'].includes(getComputedStyle(box).overflowX)) box = box.parentElement;
  const firstCells = () => Array.from(table.rows, (row) => row.cells[0].getBoundingClientRect());
  const area = box.getBoundingClientRect();
  box.scrollLeft = 1e7;
  const scrolled = firstCells();
  const lastCells = Array.from(table.rows, (row) => row.cells[row.cells.length - 1].getBoundingClientRect());
  return {
    columns: Math.max(...Array.from(table.rows, (row) => row.cells.length)),
    narrowest: Math.min(...Array.from(table.rows[0].cells, (cell) => cell.getBoundingClientRect().width)),
    sideways: document.documentElement.scrollWidth - document.documentElement.clientWidth,
    box: [area.left, area.right],
    firstInView: scrolled.every((r) => r.left >= area.left - 1 && r.right <= area.right + 1),
    lastInView: lastCells.every((r) => r.right <= area.right + 1),
  };
}
"""


def test_cheat_sheet_keeps_its_columns_on_a_phone(open_page):
    sheet = open_page("appendix/cheatsheet.html", width=390, wait=False).page.evaluate(CHEAT_SHEET)
    assert sheet["columns"] >= 5, sheet
    assert sheet["narrowest"] >= 90, f"a column squeezed to {sheet['narrowest']:.0f} px"
    assert sheet["sideways"] <= 1, "the page scrolls sideways"
    assert sheet["lastInView"], "the last column cannot be scrolled into view"
    assert sheet["firstInView"], "scrolled to the end, the first column (the rule) is out of view"
