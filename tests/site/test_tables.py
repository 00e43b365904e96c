"""Tables with math wrap sensibly, and the cheat sheet keeps its columns on a phone (issue 16, item 4).

Geometry in Chromium, at 390 px and 1280 px: no line of a page starts with the punctuation that
follows an inline formula (", ∂A/∂X" on a line of its own was the fault: Chromium breaks after
KaTeX's inline boxes even before a comma); and the cheat sheet at 390 px neither squeezes its
columns nor widens the page: it scrolls sideways inside its own box, with the rule's name (the
first column) still in view when scrolled to the far end.
"""
from __future__ import annotations

import pytest

pytestmark = [pytest.mark.book, pytest.mark.browser]

# Every text that starts with punctuation right after an inline formula, and whether it starts a
# new line: its first character lies below the formula's last line box.
PUNCTUATION_AFTER_MATH = r"""
async () => {
  await document.fonts.ready;
  const out = [];
  const walker = document.createTreeWalker(document.querySelector('article') || document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!/^[,.;:)]/.test(node.textContent)) continue;
    const before = node.previousSibling;
    if (!before || before.nodeType !== 1 || !before.matches('.math') || before.closest('.katex-display')) continue;
    const lines = before.getClientRects();
    if (!lines.length) continue;
    const range = document.createRange();
    range.setStart(node, 0); range.setEnd(node, 1);
    const mark = range.getBoundingClientRect();
    const last = lines[lines.length - 1];
    out.push({ text: (before.textContent.slice(-20) + node.textContent.slice(0, 20)).replace(/\s+/g, ' '),
               broken: mark.top >= last.bottom - 2 });
  }
  return out;
}
"""


@pytest.mark.parametrize("width", [390, 1280])
def test_no_line_starts_with_the_punctuation_after_a_formula(open_page, book_page, width):
    page = open_page(book_page, width=width, wait=False)
    found = page.evaluate(PUNCTUATION_AFTER_MATH)
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
    page = open_page("appendix/cheatsheet.html", width=390, wait=False)
    sheet = page.evaluate(CHEAT_SHEET)
    assert sheet["columns"] >= 5, sheet
    assert sheet["narrowest"] >= 90, f"a column squeezed to {sheet['narrowest']:.0f} px"
    assert sheet["sideways"] <= 1, "the page scrolls sideways"
    assert sheet["lastInView"], "the last column cannot be scrolled into view"
    assert sheet["firstInView"], "scrolled to the end, the first column (the rule) is out of view"
