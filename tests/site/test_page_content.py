"""What every page shows a reader, in Chromium against the built book on 127.0.0.1 (``visits``).

Every formula rendered (at build time, by KaTeX) with no raw TeX or Markdown table left in the
text, each widget rendered exactly once (and its placeholder gone), alt text on every image, and no
critical or serious axe-core violation in either theme.
"""
from __future__ import annotations

import re

import pytest

from booksite import WIDGET_VIEW

pytestmark = [pytest.mark.book, pytest.mark.browser]

# Left in the page's text (outside code) only if a formula was not rendered.
RAW_TEX = re.compile(r"\$\$|\\frac|\\partial|\\\(|\\\[|\\begin\{")


def test_every_formula_is_rendered(visits, book_page):
    """The math was rendered when the book was built (KaTeX, with the book's macros): every math
    element holds KaTeX's output, none an error, no raw TeX is left, and KaTeX's fonts load."""
    dom = visits(book_page).dom
    assert dom["untypeset"] == [], "math elements KaTeX did not render"
    assert dom["texErrors"] == [], "TeX errors in rendered math"
    if dom["math"]:
        assert dom["mathFonts"] > 0, "no KaTeX font loaded on a page with math"
    assert RAW_TEX.findall(dom["text"]) == [], f"raw TeX left in the text: {RAW_TEX.findall(dom['text'])}"


# A Markdown table left as text: a separator row of pipes and dashes (smartquotes may have made the
# dashes en or em dashes), or a row of three or more pipe-separated cells.
RAW_MARKDOWN_TABLE = re.compile(r"\|\s*:?[-–—]+:?\s*\||(?:\|[^|\n]{1,80}){3,}\|")


def test_no_raw_markdown_table_in_the_prose(visits, book_page):
    """No page's text outside code shows a Markdown table as pipes and dashes (issue 16, item 2: an
    output rendered as Markdown without the table extension): tables reach the reader as tables."""
    raw = [match.group(0)[:80] for match in RAW_MARKDOWN_TABLE.finditer(visits(book_page).dom["text"])]
    assert raw == [], f"{book_page}: raw Markdown table text {raw[:5]}"


def test_every_widget_renders_exactly_once(visits, book_page, book_html):
    dom = visits(book_page).dom
    views = dom["widgetViews"]
    embedded = (book_html / book_page).read_text(encoding="utf-8").count(f'type="{WIDGET_VIEW}"')
    assert len(views) == embedded
    assert [v for v in views if v["renders"] != 1 or v["content"] != ["ok"]] == [], (
        "widget views not rendered exactly once with content"
    )
    assert dom["subareas"] == len(views), "more widget areas than embedded views"
    assert dom["placeholders"] == 0, "a widget placeholder was left on the page after the widgets rendered"


def test_every_image_has_alt_text(visits, book_page):
    images = visits(book_page).dom["images"]
    named_after_file = re.compile(r"\.(png|jpe?g|svg|gif|webp)$", re.I)
    bad = [
        img for img in images
        if not img["hidden"] and (not (img["alt"] or "").strip() or named_after_file.search(img["alt"].strip()))
    ]
    assert bad == [], "images without a real alt text (a file name is not one)"


def test_axe_reports_no_critical_or_serious_violation(visits, book_page):
    for theme in ("light", "dark"):
        assert visits(book_page, theme).serious_violations == [], f"axe-core, {theme} theme"
