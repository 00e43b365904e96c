"""The full-page screenshot of each page and theme shows what a reader sees (``visits`` takes them,
into ``_build/screenshots/``): the whole page, styled (text in the theme's column), in its theme's
colours, each explorer's cells drawn.
"""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from booksite import INK_STEP

pytestmark = [pytest.mark.book, pytest.mark.browser]


# What a screenshot shows, in grey levels (0-255, Pillow's "L"). Measured on this book: the background
# is 255 (light) or 18 (dark); 4-15 % of a page is ink; below the first screen the left tenth of a
# page holds under 0.6 % ink, where an unstyled page (text from the window's edge) holds 10 %.
LIGHT_BACKGROUND = 0.85 * 255  # the light theme's background is lighter than this,
DARK_BACKGROUND = 0.2 * 255  # the dark theme's darker than this
MIN_INK = 0.01  # share of the page that is ink, at least
MAX_MARGIN_INK = 0.02  # share of the left tenth that is ink below the first screen, at most


def _device_px(box: dict, scale: float) -> tuple[slice, slice]:
    """The rows and columns of a screenshot a CSS box (SHOT_LAYOUT) covers, 2 px in from its edges."""
    top, left = round(box["top"] * scale) + 2, round(box["left"] * scale) + 2
    return (slice(top, round((box["top"] + box["height"]) * scale) - 2),
            slice(left, round((box["left"] + box["width"]) * scale) - 2))


def test_screenshot_shows_the_whole_page_styled_in_its_theme(visits, book_page):
    """The full-page screenshot of each theme (taken by ``visits``) as a reader would see it: as wide
    as the window and as tall as the document (nothing clipped, nothing wider than the window); the
    background light in the light theme and dark in the dark one; text and figures drawn; the text
    set in the theme's column (the left tenth of the page bare below the first screen, which an
    unstyled page's is not); and every cell of every explorer drawn, something on its fill."""
    for theme in ("light", "dark"):
        visit = visits(book_page, theme)
        layout, where = visit.shot_layout, f"{book_page}, {theme} theme"
        scale = layout["scale"]
        with Image.open(visit.screenshot) as image:
            grey = np.asarray(image.convert("L"))
        height, width = grey.shape
        assert width == round(layout["viewport"]["width"] * scale), f"{where}: {width} px wide"
        assert abs(height - layout["height"] * scale) <= 1, (
            f"{where}: {height} px tall, the document {layout['height']} px")
        background = int(np.bincount(grey[::4].ravel(), minlength=256).argmax())
        if theme == "light":
            assert background > LIGHT_BACKGROUND, f"{where}: background grey {background}"
        else:
            assert background < DARK_BACKGROUND, f"{where}: background grey {background}"
        ink = np.abs(grey.astype(np.int16) - background) > INK_STEP
        assert ink.mean() > MIN_INK, f"{where}: {ink.mean():.1%} of the page differs from the background"
        margin = ink[round(layout["viewport"]["height"] * scale):, : width // 10].mean()
        assert margin < MAX_MARGIN_INK, f"{where}: {margin:.1%} ink in the left margin: is the page styled?"
        assert bool(layout["explorers"]) == bool(visit.dom["widgetViews"]), f"{where}: explorers in the screenshot"
        for explorer in layout["explorers"]:
            cells = [grey[_device_px(cell, scale)] for cell in explorer["cells"]]
            spreads = [int(cell.max()) - int(cell.min()) if cell.size else 0 for cell in cells]
            assert spreads, f"{where}: the {explorer['rule']} explorer has no cells"
            blank = sum(spread <= INK_STEP for spread in spreads)
            assert blank == 0, f"{where}: {blank} of {len(spreads)} cells of the {explorer['rule']} explorer are blank"
