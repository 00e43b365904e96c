"""The dark theme on every page (issue 16, item 7), from the dark ``visits`` (tests/site/conftest.py).

No light panel (HTML outputs, admonitions, code, tables) on the dark page, and each rule chapter's
explorers respond to a click with lit and selected cells that carry a marker, not just a colour,
that stands out from the page and the cell (the look is measured by conftest.EXPLORER_LOOK).
"""
from __future__ import annotations

import pytest

from booksite import RULE_PAGES, contrast, relative_luminance

pytestmark = [pytest.mark.book, pytest.mark.browser]

DARK_PANEL_LUMINANCE = 0.1  # a panel of the dark theme is at most this light (the page: 0.006; #555: 0.09)


def test_dark_theme_has_no_light_panels(visits, book_page):
    """Dark theme: check tables and every other HTML output, widget outputs (explorers, answer
    boxes), admonitions, code and tables sit on dark backgrounds, no light-grey panel on the dark
    page (the theme puts HTML and widget outputs on a light panel); their text contrast (>= 4.5) is
    axe-core's to check, in both themes."""
    panels = visits(book_page, "dark").dom["panels"]
    light = sorted({p["what"] for p in panels if relative_luminance(p["background"]) > DARK_PANEL_LUMINANCE})
    assert light == [], f"{book_page}: light panels on the dark page: {light}"


@pytest.mark.parametrize("book_page", RULE_PAGES, ids=lambda p: p.removesuffix(".html"))
def test_explorers_work_in_dark_mode_with_lit_cells_distinguishable(visits, book_page):
    """Dark theme: the explorer responds, and its lit / selected cells carry a marker (not just a
    colour) at least 2 px wide with a colour of contrast >= 3:1 against the page and the cell's fill."""
    visit = visits(book_page, "dark")
    assert visit.dom["theme"] == "dark", "the theme did not switch to dark mode"
    assert visit.explorers, "no explorer on the page"
    for explorer in visit.explorers:
        assert explorer["lit"] and explorer["selected"] and explorer["plain"], explorer
        assert explorer["pointing_moves_lights"], f"{explorer['rule']}: clicking a cell did not move the lights"
        plain = explorer["plainLook"]
        for state in ("litLook", "selectedLook"):
            look = explorer[state]
            assert look["marker"] != plain["marker"], f"{state} looks like a plain cell: {look['marker']}"
            assert look["edgePx"] >= 2, f"{state}: marker only {look['edgePx']} px wide"
            against_page = max((contrast(ring, explorer["page"]) for ring in look["rings"]), default=0)
            against_fill = max((contrast(ring, look["fill"]) for ring in look["rings"]), default=0)
            assert against_page >= 3, f"{state}: marker contrast {against_page:.2f} against the page"
            assert against_fill >= 3, f"{state}: marker contrast {against_fill:.2f} against the cell"
    assert visit.console_errors == [], "errors while pointing at cells"
