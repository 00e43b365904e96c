"""The cheat sheet (appendix/cheatsheet.md) prints on one or two landscape pages, no column cut off."""
from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

#: Printable width of a landscape sheet in CSS pixels (96 per inch), 10 mm margins as book.css asks.
LANDSCAPE_WIDTH_PX = {"A4": (297 - 20) / 25.4 * 96, "Letter": 11 * 96 - 20 / 25.4 * 96}


@pytest.mark.browser
@pytest.mark.book
@pytest.mark.parametrize("paper", ["A4", "Letter"])
def test_cheat_sheet_prints_on_at_most_two_pages(open_page, screenshot_dir, paper):
    page = open_page("appendix/cheatsheet.html").page
    page.emulate_media(media="print")
    pdf = page.pdf(format=paper, prefer_css_page_size=True)  # as a browser prints: the page may ask for landscape
    (screenshot_dir / f"cheatsheet-{paper}.pdf").write_bytes(pdf)
    sheets = PdfReader(io.BytesIO(pdf)).pages
    assert 1 <= len(sheets) <= 2, f"the cheat sheet prints on {len(sheets)} {paper} pages"
    assert all(sheet.mediabox.width > sheet.mediabox.height for sheet in sheets), f"not landscape on {paper}"
    # and nothing is cut off: laid out at the sheet's printable width, no column sticks out
    page.set_viewport_size({"width": int(LANDSCAPE_WIDTH_PX[paper]), "height": 700})
    overflow = page.evaluate("""() => {
        const table = document.querySelector('table.cheatsheet'), box = table.parentElement;
        return [box.scrollWidth - box.clientWidth, table.getBoundingClientRect().right - window.innerWidth]; }""")
    assert overflow[0] <= 1 and overflow[1] <= 1, f"the table is {overflow} px too wide for {paper}"
