"""Every display equation is whole or scrollable on screen, and whole on paper (issue 16, item 1).

Geometry, not selectors: for every page of ``_toc.yml`` at 390 px (a phone) and 1280 px (a laptop),
and laid out for print (print media, the printable width of A4), each display equation KaTeX drew
is measured against every ancestor that clips it (display_math.DISPLAY_MATH_CUTS): on screen a box that
scrolls must reach both ends of the formula; a box that clips without scrolling, and on paper any
box at all, must hold it whole; and nothing may stick out of the window. The page itself never
scrolls sideways. Equation numbers count as part of their equation. On screen the page is measured
with its explorers drawn, in the load tests/site/test_tables.py measures too (``math_layouts``); on
paper in the load the printed book reads the page from (``printed_pages``, tests/print_book.py).
"""
from __future__ import annotations

import pytest

from display_math import A4_PRINTABLE_WIDTH_PX

pytestmark = [pytest.mark.book, pytest.mark.browser]

LAYOUTS = {"390px": (390, False), "1280px": (1280, False), "print-A4": (round(A4_PRINTABLE_WIDTH_PX), True)}


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_no_display_equation_is_cut_off(math_layouts, printed_pages, book_page, layout):
    width, printing = LAYOUTS[layout]
    found = printed_pages(book_page)["cuts"] if printing else math_layouts(book_page, width)["cuts"]
    cuts = "\n".join(f"  {cut['kind']} {cut['tex']!r}: " + "; ".join(cut["where"]) for cut in found["cuts"])
    assert not found["cuts"], (
        f"{book_page} at {layout}: {len(found['cuts'])} of {found['parts']} equation parts cut off\n{cuts}")
    assert found["sideways"] <= 1, f"{book_page} at {layout}: the page scrolls {found['sideways']} px sideways"
