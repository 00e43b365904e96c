"""What a reader sees of a failing check (CheckResult._repr_html_), measured in Chromium.

Not the CSS it is written with: on a light and a dark page, in a 700 px column (a book page) and on a
390 px phone, every
number is on one line and nothing is cut off, the text of every cell keeps WCAG AA contrast against
what is behind it (the red tint included), the mismatched entries are bold and outlined and the
worst one is outlined more heavily and marked, so nothing depends on colour alone.
"""
from __future__ import annotations

import re

import numpy as np
import pytest

from booksite import contrast
from gradlib import check_gradient

pytestmark = pytest.mark.browser

PAGES = {"light": ((255, 255, 255), (33, 37, 41)), "dark": ((18, 18, 18), (206, 212, 218))}

MEASURE = """() => {
  const rgba = (css) => (css.match(/[\\d.]+/g) || []).map(Number);
  const cells = [...document.querySelectorAll('.gradlib-check td')].map((td) => {
    const style = getComputedStyle(td);
    const range = document.createRange();
    range.selectNodeContents(td);
    return { text: td.textContent, classes: td.className, lines: range.getClientRects().length,
             fits: td.scrollWidth <= td.clientWidth + 1, color: rgba(style.color),
             background: rgba(style.backgroundColor), weight: Number(style.fontWeight),
             outline: style.outlineStyle === 'none' ? 0 : parseFloat(style.outlineWidth) };
  });
  const right = Math.max(...[...document.querySelectorAll('.gradlib-check table')]
                              .map((t) => t.getBoundingClientRect().right));
  const root = document.documentElement;
  return { cells, right, width: root.clientWidth, pageScroll: root.scrollWidth - root.clientWidth };
}"""


def _over(background: list[float], page: tuple[int, int, int]) -> list[float]:
    """An rgba() background composited over the page's colour (what the eye gets)."""
    if len(background) < 4:
        return background[:3]
    alpha = background[3]
    return [alpha * c + (1 - alpha) * p for c, p in zip(background[:3], page, strict=True)]


@pytest.fixture(scope="module")
def failing_check():
    x = np.random.default_rng(24).standard_normal((6, 6)) * np.array([1e-3, 1, 10, 100, 1e4, 1e-6])
    analytic = np.cos(x)
    analytic[3, 1] += 1.0
    analytic[5, 4] *= -1.0
    result = check_gradient(lambda x: np.sum(np.sin(x)), x, analytic)
    assert not result.passed and result.worst_index in ((3, 1), (5, 4))
    return result


def measure_check(browser, result, theme: str, width: int, script: str, style: str = "") -> dict:
    """``script`` evaluated on a page of ``width`` px in ``theme``'s colours that shows only the check
    ``result`` (its ``_repr_html_``), under the extra CSS ``style``."""
    background, text = PAGES[theme]
    page = browser.new_page(viewport={"width": width, "height": 900})
    try:
        page.set_content(f'<head><style>{style}</style></head><body style="margin:8px;font-family:sans-serif;'
                         f'background:rgb{background};color:rgb{text}">{result._repr_html_()}</body>')
        return page.evaluate(script)
    finally:
        page.close()


@pytest.mark.parametrize("width", [700, 390])
@pytest.mark.parametrize("theme", list(PAGES))
def test_a_failing_check_reads_well_in_a_book_column(browser, failing_check, theme, width):
    background = PAGES[theme][0]
    seen = measure_check(browser, failing_check, theme, width, MEASURE)
    cells = seen["cells"]
    assert len(cells) == 3 * 36
    assert seen["pageScroll"] <= 0, "the check widens the page: its tables must wrap or scroll inside"
    if width >= 700:
        assert seen["right"] <= seen["width"], "a table sticks out of a book column: the tables must wrap"
    for cell in cells:
        assert cell["lines"] == 1 and cell["fits"], cell  # one line, nothing cut off
        behind = _over(cell["background"], background) if cell["background"][3:4] != [0] else list(background)
        assert contrast(cell["color"][:3], behind) >= 4.5, (theme, cell)
    mismatched = [c for c in cells if "gradlib-mismatch" in c["classes"]]
    worst = [c for c in cells if "gradlib-worst" in c["classes"]]
    assert len(mismatched) == 3 * 2 and len(worst) == 3  # two wrong entries, in each of the three tables
    assert all(c["weight"] >= 600 and c["outline"] >= 2 for c in mismatched)
    assert all(c["outline"] >= 3 and c["text"].startswith("\u25c6") for c in worst)  # marked, not only coloured
    plain = [c for c in cells if not re.search(r"gradlib-(mismatch|worst)", c["classes"])]
    assert all(c["outline"] == 0 and c["weight"] < 600 for c in plain)


TEXT = """() => {
  const rgba = (css) => { const v = (css.match(/[\\d.]+/g) || []).map(Number); return v.length === 3 ? [...v, 1] : v; };
  const behind = (el) => {  // what is behind el's text: its own and its ancestors' backgrounds, composited
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = rgba(getComputedStyle(e).backgroundColor);
      if (c[3] > 0) layers.push(c);
      if (c[3] >= 1) break;
    }
    let out = [255, 255, 255];
    for (const [r, g, b, a] of layers.reverse()) out = [r, g, b].map((v, i) => a * v + (1 - a) * out[i]);
    return out;
  };
  const opacity = (el) => {
    let o = 1;
    for (let e = el; e; e = e.parentElement) o *= Number(getComputedStyle(e).opacity);
    return o;
  };
  const texts = [...document.querySelectorAll('.gradlib-check, .gradlib-check *')]
    .filter((el) => [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim()));
  return texts.map((el) => ({ tag: el.tagName, classes: String(el.className), text: el.textContent.slice(0, 30),
                               color: rgba(getComputedStyle(el).color), behind: behind(el), opacity: opacity(el),
                               own: rgba(getComputedStyle(el).backgroundColor) }));
}"""


@pytest.mark.parametrize("theme", list(PAGES))
def test_a_themes_colours_for_tables_captions_and_code_do_not_reach_the_check(browser, failing_check, theme):
    """Themes give tables, captions, headers and code colours of their own (pydata-sphinx-theme's dark
    output panel: captions at 1.7:1). Under a theme that paints those elements in its page's own
    background colour on a background of its text colour, every piece of text of the check (captions,
    headers, cells, code, summary, legend) still keeps WCAG AA contrast against what is behind it,
    nothing is dimmed with opacity, and only the mismatched cells (and the legend's sample) are tinted."""
    background, text = PAGES[theme]
    hostile = f"table, caption, th, td, code {{ color: rgb{background}; background-color: rgb{text}; }}"
    seen = measure_check(browser, failing_check, theme, 1000, TEXT, hostile)
    tags = {t["tag"] for t in seen}
    assert {"CAPTION", "TH", "TD", "CODE", "STRONG", "DIV", "SPAN"} <= tags, tags
    for t in seen:
        assert contrast(t["color"][:3], t["behind"]) >= 4.5, (theme, t)
        assert t["opacity"] == 1, t
    tinted = {t["text"] for t in seen if t["own"][3] > 0}
    marked = {t["text"] for t in seen if "gradlib-mismatch" in t["classes"]}
    assert tinted == marked and len(marked) == 3 * 2 + 1  # two wrong entries per table, and the legend's sample
