"""The site as readers get it, proven in Chromium against the built book served on 127.0.0.1.

Each page of ``_toc.yml`` is visited once per colour theme (light, dark) with every request to any
other origin aborted (the site must need none: KaTeX's fonts, the icon fonts and the widget host
are all served by the site itself; see booksite.py); everything a test asserts is collected during that one
visit (:class:`Visit`), which loads the page, lets it settle at the top, then brings its explorers
in (scrolls each widget into view). Pages are checked for: console errors and failed requests, no
request leaving the site, every formula rendered (at build time, by KaTeX), each widget rendered exactly once
(and its placeholder gone), the widget host loaded once by widget pages and by no other page, alt
text on every image, header icons drawn from the cut-down icon fonts (the theme's full fonts never
fetched), no critical or serious axe-core violation, explorers that respond and stay readable in
dark mode, and the page weight budget (every file fetched, explorers live, gzip). A full-page
screenshot of each page and theme goes to ``_build/screenshots/`` and is checked for what a reader
sees there: the whole page, styled (text in the theme's column), in its theme's colours, each
explorer's cells drawn. Times (DOM ready, explorer live) are measured by benchmarks/bench_site.py,
not asserted here.

The widget host (_assets/widget-host.js) draws each explorer as soon as the page is parsed: a
placeholder about as tall as the explorer holds its place until then (within PLACEHOLDER_JUMP_PX),
and a reader who arrives by keyboard or at an #anchor finds the explorer live. A probe page built
like a widget page checks the host's side of anywidget's contract (render, get/set/on/off/
save_changes, _css once, one model per widget) and its message for a widget it cannot draw.
Static checks of the built HTML: no repeated ``<script>``, the widget host on widget pages only,
no asset named on another origin, one Colab and one Binder button on each notebook page opening
that very notebook in the ``repository`` of _config.yml, and the .ipynb / .md downloads (what
Binder installs: test_toolchain.py).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, unquote, urljoin, urlsplit

import jupytext
import nbformat
import numpy as np
import pytest
from PIL import Image

from booksite import (
    LOCAL_HOSTS,
    RULE_PAGES,
    WIDGET_VIEW_SELECTOR,
    contrast,
    file_sizes,
    relative_luminance,
    settle,
    toc_pages,
)

pytestmark = pytest.mark.book

# Budget of a page (issues 10, 16): every file it fetched, explorers live, gzip -6 as a static host sends it.
PAGE_BUDGET_GZIP_BYTES = 400 * 1024
HOST_SCRIPT = "widget-host.js"  # _assets/widget-host.js, the one script of widget pages
VIEWPORT = {"width": 1280, "height": 800}  # the placeholder, keyboard and anchor tests' window
PLACEHOLDER_JUMP_PX = 200  # most a widget output's height may change when the widget replaces its placeholder
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
SERIOUS = {"critical", "serious"}
# Left in the page's text (outside code) only if a formula was not rendered.
RAW_TEX = re.compile(r"\$\$|\\frac|\\partial|\\\(|\\\[|\\begin\{")


# --------------------------------------------------------------------------- what one visit collects

# Text of the page outside code, scripts and rendered math; math elements KaTeX did not render;
# TeX errors; KaTeX fonts loaded; widget views and how often each was rendered; images and their alt text.
COLLECT = r"""
() => {
  const PANELS = '.cell_output .text_html, .admonition, div.highlight, table, .gradlib-check';
  const skip = 'script, style, pre, code, textarea, .katex, .highlight';
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT, {
    acceptNode: (node) => node.parentElement && node.parentElement.closest(skip)
      ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT,
  });
  const texts = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) texts.push(node.textContent);
  const views = Array.from(document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]'));
  return {
    theme: document.documentElement.dataset.theme || null,
    text: texts.join(' '),
    untypeset: Array.from(document.querySelectorAll('.math'))
      .filter((el) => !el.querySelector('.katex')).map((el) => el.textContent.slice(0, 80)),
    texErrors: Array.from(document.querySelectorAll('.katex-error'))
      .map((el) => el.getAttribute('title') || el.textContent),
    math: document.querySelectorAll('.math').length,
    mathFonts: Array.from(document.fonts).filter((f) => f.family.startsWith('KaTeX') && f.status === 'loaded').length,
    widgetViews: views.map((view) => ({
      model: JSON.parse(view.textContent).model_id,
      renders: view.parentElement.querySelectorAll(':scope > .widget-subarea').length,
      content: Array.from(view.parentElement.querySelectorAll(':scope > .widget-subarea'))
        .map((area) => area.innerText.includes('Error displaying widget') ? 'error'
          : (area.firstElementChild && area.firstElementChild.childElementCount > 0 ? 'ok' : 'empty')),
    })),
    subareas: document.querySelectorAll('.widget-subarea').length,
    placeholders: document.querySelectorAll('.widget-placeholder').length,
    icons: Array.from(document.querySelectorAll('.bd-header-article i[class*="fa-"], .bd-header i[class*="fa-"]'))
      .map((icon) => ({
        icon: icon.className, family: getComputedStyle(icon).fontFamily,
        glyph: getComputedStyle(icon, '::before').content, shown: icon.offsetParent !== null,
        width: icon.getBoundingClientRect().width,
      })),
    iconFontsLoaded: Array.from(document.fonts)
      .filter((f) => f.family.includes('Font Awesome 6') && f.status === 'loaded').length,
    scripts: Array.from(document.scripts).map((s) => s.src).filter(Boolean),
    // The page's panels (HTML outputs such as check tables, admonitions, code, tables) and the
    // colour each shows: the first opaque background from it up to the page.
    panels: Array.from(document.querySelectorAll(PANELS)).filter((el) => el.getClientRects().length > 0)
      .map((el) => {
        let colour = null;
        for (let node = el; node && !colour; node = node.parentElement) {
          const c = getComputedStyle(node).backgroundColor.match(/[\d.]+/g).map(Number);
          if (c.length === 3 || c[3] > 0.5) colour = c.slice(0, 3);
        }
        return { what: `${el.tagName.toLowerCase()}.${[...el.classList].join('.')}`,
                 background: colour || [255, 255, 255] };
      }),
    images: Array.from(document.querySelectorAll('img')).map((img) => ({
      src: img.getAttribute('src'), alt: img.getAttribute('alt'),
      inFigure: !!img.closest('figure'), hidden: img.getAttribute('aria-hidden') === 'true',
    })),
    timing: (() => {
      const nav = performance.getEntriesByType('navigation')[0];
      return { domContentLoaded: nav.domContentLoadedEventEnd, load: nav.loadEventEnd };
    })(),
  };
}
"""

# Where the full-page screenshot's pixels come from (CSS px, page coordinates): the device pixel
# ratio, the document's height, and the box of each cell of each explorer.
SHOT_LAYOUT = r"""
() => {
  const box = (el) => {
    const r = el.getBoundingClientRect();
    return { left: r.left + window.scrollX, top: r.top + window.scrollY, width: r.width, height: r.height };
  };
  return {
    scale: window.devicePixelRatio,
    height: document.documentElement.scrollHeight,
    explorers: Array.from(document.querySelectorAll('.gradlib-explorer'), (root) => ({
      rule: root.dataset.rule, cells: Array.from(root.querySelectorAll('.ge-cell'), box),
    })),
  };
}
"""

AXE_RUN = """
async () => {
  const result = await axe.run(document, { resultTypes: ['violations'] });
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ')),
  }));
}
"""


def run_axe(page, node_modules: Path) -> list[dict]:
    """axe-core's violations on the page as it is now (AXE_RUN)."""
    page.add_script_tag(path=str(node_modules / "axe-core" / "axe.min.js"))
    return page.evaluate(AXE_RUN)


@dataclass
class Visit:
    """Everything one page load showed (see COLLECT) plus the browser's logs."""

    page: str
    theme: str
    console_errors: list[str]
    failed_requests: list[str]
    blocked_requests: list[str]
    requests: list[str]
    initial_files: dict[str, Path]
    files: dict[str, Path]
    explorers_in_view_ms: float | None
    widgets_ready_ms: float | None
    dom: dict
    axe: list[dict]
    screenshot: Path | None
    explorers: list[dict] = field(default_factory=list)
    shot_layout: dict = field(default_factory=dict)  # SHOT_LAYOUT, plus the viewport, as the screenshot was taken

    @property
    def serious_violations(self) -> list[str]:
        return serious(self.axe)


def serious(violations: list[dict]) -> list[str]:
    """The critical and serious ones of axe-core's violations (AXE_RUN), one line each."""
    return [f"{v['impact']}: {v['id']} ({v['help']}) at {v['nodes']}" for v in violations if v["impact"] in SERIOUS]


@pytest.fixture(scope="module")
def visits(book_site, node_modules, screenshot_dir):
    """``visits(page, theme="light") -> Visit``: each page and theme loaded once per module."""
    cache: dict[tuple[str, str], Visit] = {}

    def visit(page_path: str, theme: str = "light") -> Visit:
        key = (page_path, theme)
        if key not in cache:
            page = book_site.open(page_path, theme=theme)
            try:
                dom = page.evaluate(COLLECT)
                explorers = explore(page) if theme == "dark" else []
                axe = run_axe(page, node_modules)
                name = page_path.removesuffix(".html").replace("/", "__")
                shot = screenshot_dir / f"{name}-{theme}.png"
                page.evaluate("window.scrollTo(0, 0)")  # sticky header and sidebars at the top
                shot_layout = {**page.evaluate(SHOT_LAYOUT), "viewport": page.viewport_size}
                page.screenshot(path=str(shot), full_page=True)
                cache[key] = Visit(
                    page_path, theme, list(page.console_errors), list(page.failed_requests),
                    list(page.blocked_requests), list(page.requests), dict(page.initial_files),
                    dict(page.files), page.explorers_in_view_ms, page.widgets_ready_ms, dom, axe, shot,
                    explorers, shot_layout,
                )
            finally:
                page.context.close()
        return cache[key]

    return visit


# --------------------------------------------------------------------------- browser: every page


@pytest.mark.browser
def test_no_console_error_and_no_failed_request(visits, book_page):
    for theme in ("light", "dark"):
        visit = visits(book_page, theme)
        assert visit.console_errors == [], f"{theme}: console errors on {book_page}"
        assert visit.failed_requests == [], f"{theme}: failed or blocked requests on {book_page}"


@pytest.mark.browser
def test_no_request_leaves_the_site(visits, book_page):
    """Self-contained: every file a page asks for, explorers live, comes from its own origin."""
    for theme in ("light", "dark"):
        visit = visits(book_page, theme)
        assert visit.requests, "no request recorded"
        assert [url for url in visit.requests if urlsplit(url).hostname not in LOCAL_HOSTS] == [], theme
        assert visit.blocked_requests == []


@pytest.mark.browser
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


@pytest.mark.browser
def test_no_raw_markdown_table_in_the_prose(visits, book_page):
    """No page's text outside code shows a Markdown table as pipes and dashes (issue 16, item 2: an
    output rendered as Markdown without the table extension): tables reach the reader as tables."""
    raw = [match.group(0)[:80] for match in RAW_MARKDOWN_TABLE.finditer(visits(book_page).dom["text"])]
    assert raw == [], f"{book_page}: raw Markdown table text {raw[:5]}"


@pytest.mark.browser
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


@pytest.mark.browser
def test_every_image_has_alt_text(visits, book_page):
    images = visits(book_page).dom["images"]
    named_after_file = re.compile(r"\.(png|jpe?g|svg|gif|webp)$", re.I)
    bad = [
        img for img in images
        if not img["hidden"] and (not (img["alt"] or "").strip() or named_after_file.search(img["alt"].strip()))
    ]
    assert bad == [], "images without a real alt text (a file name is not one)"


@pytest.mark.browser
def test_header_icons_render_from_the_cut_down_icon_fonts(visits, book_page):
    """The theme's icons draw from its Font Awesome 6 families (fontawesome.js is left out), whose
    files are the site's cut-down fonts (_static/fonts/, _ext/book_site/): the theme's full
    fonts are never fetched."""
    visit = visits(book_page)
    dom = visit.dom
    assert [url for url in visit.requests if "/_static/fonts/fa-" in url], "the cut-down icon fonts were not used"
    assert [url for url in visit.requests if "/fontawesome/webfonts/" in url] == [], "a full icon font was fetched"
    assert not [src for src in dom["scripts"] if "fontawesome" in src]
    assert dom["icons"], "no icons in the page header"
    assert dom["iconFontsLoaded"] > 0
    for icon in dom["icons"]:
        assert "Font Awesome 6" in icon["family"] and icon["glyph"] not in ("none", "normal", '""'), icon
        assert icon["width"] > 0 or not icon["shown"], icon


@pytest.mark.browser
def test_axe_reports_no_critical_or_serious_violation(visits, book_page):
    for theme in ("light", "dark"):
        assert visits(book_page, theme).serious_violations == [], f"axe-core, {theme} theme"


# What a screenshot shows, in grey levels (0-255, Pillow's "L"). Measured on this book: the background
# is 255 (light) or 18 (dark); 4-15 % of a page is ink; below the first screen the left tenth of a
# page holds under 0.6 % ink, where an unstyled page (text from the window's edge) holds 10 %.
INK_STEP = 48  # a pixel this much lighter or darker than the background is ink: text, rules, figures
LIGHT_BACKGROUND = 0.85 * 255  # the light theme's background is lighter than this,
DARK_BACKGROUND = 0.2 * 255  # the dark theme's darker than this
MIN_INK = 0.01  # share of the page that is ink, at least
MAX_MARGIN_INK = 0.02  # share of the left tenth that is ink below the first screen, at most


def _device_px(box: dict, scale: float) -> tuple[slice, slice]:
    """The rows and columns of a screenshot a CSS box (SHOT_LAYOUT) covers, 2 px in from its edges."""
    top, left = round(box["top"] * scale) + 2, round(box["left"] * scale) + 2
    return (slice(top, round((box["top"] + box["height"]) * scale) - 2),
            slice(left, round((box["left"] + box["width"]) * scale) - 2))


@pytest.mark.browser
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


def _gzip_bytes(files: dict[str, Path]) -> int:
    return sum(file_sizes(path)[1] for path in files.values() if path.is_file())


@pytest.mark.browser
def test_page_weight_within_budget(visits, book_page, site_report):
    """Every file the page fetched, its explorers live, gzip -6: at most PAGE_BUDGET_GZIP_BYTES.
    (Per-page figures, times included: benchmarks/bench_site.py; this table is printed at the end.)"""
    visit = visits(book_page)
    assert visit.files and all(path.is_file() for path in visit.files.values()), (
        "a request was answered by no local file")
    total = _gzip_bytes(visit.files)
    site_report.title = "Per page: every file fetched, explorers live (light theme, served on 127.0.0.1)"
    site_report.notes[:] = [f"Budget: {PAGE_BUDGET_GZIP_BYTES // 1024} KiB gzip -6 per page."
                            " Times: benchmarks/bench_site.py."]
    site_report.add(book_page.removesuffix(".html"), widgets=len(visit.dom["widgetViews"]), files=len(visit.files),
                    KiB_gzip=f"{total / 1024:.1f}")
    assert total <= PAGE_BUDGET_GZIP_BYTES, f"{total / 1024:.0f} KiB gzip"


@pytest.mark.browser
def test_widget_host_loaded_once_and_only_by_widget_pages(visits, book_page):
    """A page with widgets fetches widget-host.js once and no other widget script; a page without
    widgets loads no widget script at all."""
    visit = visits(book_page)
    hosts = [url for url in visit.requests if urlsplit(url).path.endswith("/" + HOST_SCRIPT)]
    widgetish = [src for src in visit.dom["scripts"] if re.search(r"widget|require|embed-amd|anywidget", src)]
    if visit.dom["widgetViews"]:
        assert len(hosts) == 1 and widgetish == hosts, widgetish
    else:
        assert hosts == [] and widgetish == [], "a page without widgets loaded a widget script"


# --------------------------------------------------------------------------- browser: explorers, dark mode

DARK_PANEL_LUMINANCE = 0.1  # a panel of the dark theme is at most this light (the page: 0.006; #555: 0.09)


@pytest.mark.browser
def test_dark_theme_has_no_light_panels(visits, book_page):
    """Dark theme (issue 16, item 7): check tables and every other HTML output, admonitions, code and
    tables sit on dark backgrounds, no light-grey panel on the dark page (the theme puts HTML outputs
    on a light panel); their text contrast (>= 4.5) is axe-core's to check, in both themes."""
    panels = visits(book_page, "dark").dom["panels"]
    light = sorted({p["what"] for p in panels if relative_luminance(p["background"]) > DARK_PANEL_LUMINANCE})
    assert light == [], f"{book_page}: light panels on the dark page: {light}"


# The explorer's DOM (gradlib/explorer.js): a .gradlib-explorer of .ge-cell buttons; the entry
# pointed at has data-selected="true", the entries it is computed from / feeds data-lit="true".
# For each explorer: the computed look of a lit, a selected and a plain cell, and the page
# background around the explorer.
EXPLORER_LOOK = r"""
() => {
  const colours = (css) => (css.match(/rgba?\([^)]+\)/g) || []).map((c) => {
    const [r, g, b, a] = c.replace(/rgba?\(|\)/g, '').split(/[ ,/]+/).filter(Boolean).map(Number);
    return [r, g, b, a === undefined ? 1 : a];
  });
  const opaqueBackground = (el) => {
    for (let node = el; node; node = node.parentElement) {
      const [c] = colours(getComputedStyle(node).backgroundColor);
      if (c && c[3] > 0.5) return c;
    }
    return [255, 255, 255, 1];
  };
  const look = (el) => {
    if (!el) return null;
    const s = getComputedStyle(el);
    const outline = s.outlineStyle === 'none' ? [] : colours(s.outlineColor);
    const shadow = colours(s.boxShadow);
    return {
      marker: `${s.outlineStyle} ${s.outlineWidth} ${s.outlineColor} | ${s.boxShadow} | ${s.fontWeight}`,
      edgePx: Math.max(s.outlineStyle === 'none' ? 0 : parseFloat(s.outlineWidth) || 0,
        ...(s.boxShadow.match(/(\d+(\.\d+)?)px inset/g) || []).map(parseFloat), 0),
      rings: [...outline, ...shadow].filter((c) => c[3] > 0.5),
      fill: colours(s.backgroundColor)[0] || null,
    };
  };
  return Array.from(document.querySelectorAll('.gradlib-explorer')).map((root) => {
    const cells = Array.from(root.querySelectorAll('.ge-cell'));
    const lit = cells.filter((c) => c.dataset.lit === 'true' && c.dataset.selected !== 'true');
    const selected = cells.filter((c) => c.dataset.selected === 'true');
    const plain = cells.filter((c) => c.dataset.lit !== 'true' && c.dataset.selected !== 'true');
    return {
      rule: root.dataset.rule, cells: cells.length, lit: lit.length, selected: selected.length,
      plain: plain.length, page: opaqueBackground(root.parentElement),
      litLook: look(lit[0]), selectedLook: look(selected[0]), plainLook: look(plain[0]),
    };
  });
}
"""
LIGHTS = """(root) => Array.from(root.querySelectorAll('.ge-cell[data-lit="true"], .ge-cell[data-selected="true"]'))
  .map((c) => `${c.dataset.array}[${c.dataset.index}]${c.dataset.selected === 'true' ? '*' : ''}`).sort()"""


def explore(page) -> list[dict]:
    """Each explorer's look (EXPLORER_LOOK), then a click on a plain cell: do the lights move to it?
    (A visible one: the capstone's explorer folds the arrays its current step does not use.)"""
    explorers = page.evaluate(EXPLORER_LOOK)
    for number, explorer in enumerate(explorers):
        root = page.locator(".gradlib-explorer").nth(number)
        before = root.evaluate(LIGHTS)
        target = root.locator('.ge-cell:not([data-lit="true"]):not([data-selected="true"]):visible').last
        name = target.evaluate("(c) => `${c.dataset.array}[${c.dataset.index}]*`")
        target.click()
        after = root.evaluate(LIGHTS)
        explorer["pointing_moves_lights"] = after != before and name in after
    return explorers


def test_contrast_ratio_matches_wcag_examples():
    assert contrast([0, 0, 0], [255, 255, 255]) == pytest.approx(21.0)
    assert contrast([118, 118, 118], [255, 255, 255]) == pytest.approx(4.54, abs=0.01)
    assert contrast([10, 10, 10], [10, 10, 10]) == pytest.approx(1.0)


@pytest.mark.browser
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


# --------------------------------------------------------------------------- browser: no jump, keyboard, #anchor

# Each widget output (the element holding a widget view): where it is in the viewport, how tall
# it is, how tall a placeholder in it is (margins included), and how many widgets were drawn in it.
WIDGET_AREAS = """(selector) => [...new Set(Array.from(document.querySelectorAll(selector), (v) => v.parentElement))]
  .map((area) => {
    const probe = document.createElement('div');
    probe.className = 'widget-placeholder';
    area.appendChild(probe);
    const style = getComputedStyle(probe);
    const placeholder = probe.getBoundingClientRect().height
      + parseFloat(style.marginTop) + parseFloat(style.marginBottom);
    probe.remove();
    const subarea = area.querySelector(':scope > .widget-subarea');
    return { top: area.getBoundingClientRect().top, placeholder,
             widget: subarea ? subarea.getBoundingClientRect().height : null,
             waiting: area.querySelectorAll(':scope > .widget-placeholder').length,
             rendered: area.querySelectorAll(':scope > .widget-subarea').length };
  })"""

# Focuses, without scrolling, the last tab stop before the first widget's notebook cell.
FOCUS_BEFORE_WIDGET_CELL = """(selector) => {
  const cell = document.querySelector(selector).parentElement.closest('.cell');
  const stops = Array.from(document.querySelectorAll('a[href], button, input, select, textarea, [tabindex]'))
    .filter((el) => el.tabIndex >= 0 && !el.disabled && el.getClientRects().length > 0
      && getComputedStyle(el).visibility !== 'hidden'  // e.g. a heading's link, shown on hover
      && (cell.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_PRECEDING));
  const before = stops[stops.length - 1];
  before.focus({ preventScroll: true });
  return document.activeElement === before;
}"""


@pytest.mark.browser
@pytest.mark.parametrize("book_page", RULE_PAGES, ids=lambda p: p.removesuffix(".html"))
def test_placeholder_holds_the_explorers_place(book_site, node_modules, book_page):
    """Opened at the top (1280x800), with no scroll: every explorer is drawn once, each output's
    placeholder (shown until then) is within PLACEHOLDER_JUMP_PX of the explorer's height, so the
    page does not jump; a placeholder passes axe-core."""
    page = book_site.open(book_page, wait=False, **VIEWPORT)
    try:
        page.wait_for_function("window.__bookTiming.widgetsReady !== null", timeout=20_000)
        areas = page.evaluate(WIDGET_AREAS, WIDGET_VIEW_SELECTOR)
        assert areas and page.evaluate("window.scrollY") == 0
        assert [(a["waiting"], a["rendered"]) for a in areas] == [(0, 1)] * len(areas)
        jumps = [round(a["widget"] - a["placeholder"]) for a in areas]
        assert all(abs(jump) <= PLACEHOLDER_JUMP_PX for jump in jumps), (
            f"the page jumps by {jumps} px when the explorer replaces its placeholder")
        page.evaluate("""(selector) => { const box = document.createElement('div');
            box.className = 'widget-placeholder'; box.textContent = 'Explorer loading\u2026';
            document.querySelector(selector).parentElement.prepend(box); }""", WIDGET_VIEW_SELECTOR)
        assert serious(run_axe(page, node_modules)) == [], "axe-core, with a placeholder showing"
        assert page.console_errors == [] and page.failed_requests == []
    finally:
        page.context.close()


def _section_holding_first_widget(html: str) -> str:
    """The id of the last <section> opened before the page's first widget view."""
    head = html[: html.index(f'type="{WIDGET_VIEW}"')]
    return re.findall(r'<section id="([^"]+)"', head)[-1]


@pytest.mark.browser
@pytest.mark.parametrize("trigger", ["anchor", "keyboard"])
def test_explorer_is_live_for_a_reader_arriving_by_anchor_or_keyboard(book_site, book_html, trigger):
    """Opened at the explorer's section (#anchor), the section stays in view and the explorer is
    drawn; from the tab stop before the explorer's cell, Tab reaches the explorer's cells."""
    chapter = RULE_PAGES[0]
    page = book_site.open(None, **VIEWPORT)
    try:
        anchor = _section_holding_first_widget((book_html / chapter).read_text(encoding="utf-8"))
        page.goto(book_site.url + chapter + (f"#{anchor}" if trigger == "anchor" else ""), wait_until="load")
        page.wait_for_function("window.__bookTiming.widgetsReady !== null", timeout=20_000)
        areas = page.evaluate(WIDGET_AREAS, WIDGET_VIEW_SELECTOR)
        assert areas[0]["rendered"] == 1
        if trigger == "anchor":
            settle(page, explorers=False)
            top = page.evaluate("(id) => document.getElementById(id).getBoundingClientRect().top", anchor)
            assert 0 <= top < VIEWPORT["height"] / 2, f"#{anchor} is at {top} px after the explorer was drawn"
        else:
            assert areas[0]["top"] > VIEWPORT["height"], "the explorer is in view at the top: move the test"
            assert page.evaluate(FOCUS_BEFORE_WIDGET_CELL, WIDGET_VIEW_SELECTOR)
            for _ in range(12):  # the cell's own stops first (copy button), then the explorer's controls
                page.keyboard.press("Tab")
                if page.evaluate("!!document.activeElement.closest('.gradlib-explorer')"):
                    break
            reached = page.evaluate("!!document.activeElement.closest('.gradlib-explorer')")
            assert reached, "Tab never reached the explorer"
        assert page.console_errors == []
    finally:
        page.context.close()


# --------------------------------------------------------------------------- the widget host itself

# An anywidget for the probe page: a button counting clicks (set + save_changes, and a change
# listener redrawing it), a style from _css, and render's clean-up removing the listener.
PROBE_ESM = """
export default {
  render({ model, el }) {
    const button = document.createElement('button');
    button.className = 'probe-count';
    const draw = () => { button.textContent = `count ${model.get('count')}`; };
    button.addEventListener('click', () => { model.set('count', model.get('count') + 1); model.save_changes(); });
    model.on('change:count', draw);
    draw();
    el.appendChild(button);
    return () => model.off('change:count', draw);
  },
};
"""
PROBE_CSS = ".probe-count { outline: 3px solid rgb(1, 2, 3); }"


def _widget_probe_html() -> str:
    """A page shaped like a built widget page: the widget state of a counter anywidget shown twice
    (two views, one model) and of an IntSlider (not an anywidget), and the widget host's tag as
    _config.yml sets it. The host is fetched from the served site."""
    import anywidget
    import ipywidgets
    import traitlets
    from ipywidgets.embed import embed_data

    class Counter(anywidget.AnyWidget):
        _esm = PROBE_ESM
        _css = PROBE_CSS
        count = traitlets.Int(3).tag(sync=True)

    counter, slider = Counter(), ipywidgets.IntSlider(value=3)
    data = embed_data(views=[counter, counter, slider], drop_defaults=False)  # _esm is a trait's default
    counter.close()
    slider.close()
    views = "".join(f'<div class="output"><script type="{WIDGET_VIEW}">{json.dumps(view)}</script></div>'
                    for view in data["view_specs"])
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>widget probe</title>
<link rel="stylesheet" href="../_static/book.css">
<script type="{WIDGET_STATE}">{json.dumps(data["manager_state"])}</script>
<script defer src="../_static/{HOST_SCRIPT}" data-placeholder="waiting" data-placeholder-failed="cannot draw"></script>
</head><body><main>{views}</main></body></html>"""


@pytest.mark.browser
def test_widget_host_keeps_anywidgets_contract(open_page, site_url):
    """Both views of the counter render from the embedded state, share one model (a click in one
    redraws both through on('change:count')), get its _css once; the IntSlider, which needs the
    widget manager, shows the failure message instead."""
    page = open_page(None)
    url = f"{site_url}chapters/widget-probe.html"  # a page one folder down, like a chapter
    body = _widget_probe_html()
    page.route(url, lambda route: route.fulfill(body=body, content_type="text/html"))
    page.goto(url, wait_until="load")
    buttons = page.locator(".widget-subarea .probe-count")
    page.wait_for_function("document.querySelectorAll('.widget-subarea .probe-count').length === 2"
                           " && !document.querySelector('.widget-placeholder:not(:empty)')"
                           "?.textContent.includes('waiting')",
                           timeout=20_000)
    assert buttons.all_inner_texts() == ["count 3", "count 3"]
    buttons.first.click()
    buttons.first.click()
    assert buttons.all_inner_texts() == ["count 5", "count 5"]
    assert page.evaluate("Array.from(document.querySelectorAll('style'))"
                         ".filter((s) => s.textContent.includes('.probe-count')).length") == 1, "_css not injected once"
    assert buttons.first.evaluate("(b) => getComputedStyle(b).outlineColor") == "rgb(1, 2, 3)"
    placeholders = page.locator(".widget-placeholder")
    assert placeholders.all_inner_texts() == ["cannot draw"], "the IntSlider's output should say it cannot be drawn"
    assert page.locator(".widget-subarea").count() == 2
    assert [e for e in page.console_errors if "not an anywidget" not in e] == []
    assert len(page.console_errors) == 1 and page.failed_requests == []


# --------------------------------------------------------------------------- static: the HTML as built


class _Tags(HTMLParser):
    """Collects <script> and <a> tags (attributes, and inline script bodies), the <a> tags of the
    theme's launch menu (``.dropdown-launch-buttons``), and the URLs of the files a page loads by
    itself (script, stylesheet or preload links, images, media)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.scripts: list[dict] = []
        self.links: list[dict] = []
        self.launch_links: list[dict] = []
        self.assets: list[str] = []
        self._in_script: dict | None = None
        self._launch_divs = 0  # <div>s open inside the launch menu (0: outside it)

    def handle_starttag(self, tag, attrs):
        attributes = {name: value or "" for name, value in attrs}
        if tag in ("script", "img", "source", "video", "audio", "iframe") and attributes.get("src"):
            self.assets.append(attributes["src"])
        if tag == "link" and attributes.get("rel") in ("stylesheet", "preload", "modulepreload", "icon"):
            self.assets.append(attributes.get("href", ""))
        if tag == "div" and (self._launch_divs or "dropdown-launch-buttons" in attributes.get("class", "").split()):
            self._launch_divs += 1
        if tag == "script":
            self._in_script = {**attributes, "body": ""}
            self.scripts.append(self._in_script)
        elif tag == "a":
            self.links.append(attributes)
            if self._launch_divs:
                self.launch_links.append(attributes)

    def handle_data(self, data):
        if self._in_script is not None:
            self._in_script["body"] += data

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = None
        elif tag == "div" and self._launch_divs:
            self._launch_divs -= 1


def tags(book_html: Path, book_page: str) -> _Tags:
    parser = _Tags()
    parser.feed((book_html / book_page).read_text(encoding="utf-8"))
    return parser


def test_no_script_is_included_twice(book_html, book_page):
    """Catches the duplicated `const THEBE_JS_URL` (and any asset loaded twice, e.g. embed-amd.js)."""
    scripts = tags(book_html, book_page).scripts
    keys = [s.get("src") or s["body"].strip() for s in scripts if s.get("type") not in (WIDGET_STATE, WIDGET_VIEW)]
    repeated = sorted({key[:100] for key in keys if keys.count(key) > 1})
    assert repeated == []
    assert sum("THEBE_JS_URL =" in s["body"] for s in scripts) <= 1


SEARCH_ASSETS = ("searchindex.js", "searchtools.js", "language_data.js")


@pytest.mark.parametrize("book_page", [*toc_pages(), "search.html"], ids=lambda p: p.removesuffix(".html"))
def test_search_index_only_on_the_search_page(book_html, book_page):
    """The search index and Sphinx's search tools (27 KiB gzip) load on search.html alone: the theme's
    search box submits there (search-as-you-type is off), so no other page needs them
    (_ext/book_site/templates/layout.html)."""
    scripts = [urlsplit(s["src"]).path for s in tags(book_html, book_page).scripts if s.get("src")]
    loaded = sorted(name for name in SEARCH_ASSETS if any(path.endswith(name) for path in scripts))
    assert loaded == (sorted(SEARCH_ASSETS) if book_page == "search.html" else []), f"{book_page} loads {loaded}"


def _host_scripts(scripts: list[dict]) -> list[dict]:
    """The widget host's tags (their attributes) among a page's scripts."""
    return [s for s in scripts if urlsplit(s.get("src", "")).path.endswith("_static/" + HOST_SCRIPT)]


def test_only_widget_pages_carry_the_widget_host(book_html, book_page, book_config):
    """A page with widget state carries the widget host once, deferred, with the attributes
    _config.yml gives it, and no other widget script; a page without widgets carries none."""
    scripts = tags(book_html, book_page).scripts
    hosts = _host_scripts(scripts)
    widget_managers = r"require(\.min)?\.js|embed-amd|anywidget|widgets-setup"
    others = [s["src"] for s in scripts if re.search(widget_managers, s.get("src", ""))]
    assert others == [], "a widget manager script"
    if not any(s.get("type") == WIDGET_STATE for s in scripts):
        assert hosts == [], "the widget host on a page without widgets"
        return
    assert len(hosts) == 1, "a page with widgets should carry the widget host exactly once"
    wanted = book_config["sphinx"]["config"]["nb_ipywidgets_js"][HOST_SCRIPT]
    assert {k: v for k, v in hosts[0].items() if k not in ("src", "body")} == wanted
    assert wanted.get("data-placeholder", "").strip() and wanted.get("data-placeholder-failed", "").strip()


def test_built_pages_name_no_other_origin(book_html, book_page):
    """No script, stylesheet, preload or image of a page is on another origin (links may be)."""
    assets = tags(book_html, book_page).assets
    assert assets, "no asset found: the parser is broken"
    assert [url for url in assets if urlsplit(url).scheme or url.startswith("//")] == []


def _colab_opens(href: str) -> tuple[str, str, str, str] | None:
    """(owner, name, branch, path) of the GitHub notebook a Colab link opens: Colab reads
    ``/github/<owner>/<name>/blob/<branch>/<path>``."""
    found = re.fullmatch(r"/github/([^/]+)/([^/]+)/blob/([^/]+)/(.+)", unquote(urlsplit(href).path))
    return found.groups() if found else None


def _binder_opens(href: str) -> tuple[str, str, str, str] | None:
    """(owner, name, ref, path) of what a Binder link opens: BinderHub builds ``/v2/gh/<owner>/<name>/<ref>``
    and opens ``labpath``, or ``urlpath`` (a Jupyter server path: tree/, notebooks/, lab/tree/, doc/tree/)."""
    parts = urlsplit(href)
    found = re.fullmatch(r"/v2/gh/([^/]+)/([^/]+)/([^/]+)/?", unquote(parts.path))
    query = parse_qs(parts.query)
    server_path = query.get("urlpath", [""])[0]
    opened = query.get("labpath") or re.findall(r"^/?(?:lab/tree|doc/tree|tree|notebooks)/(.+)", server_path)
    return (*found.groups(), opened[0]) if found and opened else None


LAUNCH_SERVICES = {"Colab": ("colab_url", _colab_opens), "Binder": ("binderhub_url", _binder_opens)}


def test_launch_buttons_open_this_notebook_in_colab_and_binder(book_html, book_config, book_root, book_page):
    """A page built from a notebook has one Colab and one Binder button in the theme's launch menu
    (titled "Launch on ..."), each on the host _config.yml names, opening the page's own notebook in
    the ``repository`` (url and branch) of _config.yml: its path, taken from the repository's root,
    is that .ipynb file. Binder builds from binder/requirements.txt (what it installs:
    tests/tooling/test_toolchain.py). A page built from Markdown has no launch button."""
    links = tags(book_html, book_page).launch_links
    notebook = (book_root / book_page).with_suffix(".ipynb")
    if not notebook.is_file():
        assert links == [], f"{book_page} is not a notebook but has launch buttons"
        return
    services = [re.sub(r"^Launch on ", "", link.get("title", "")) for link in links]
    assert sorted(services) == sorted(LAUNCH_SERVICES), f"{book_page}: launch buttons {services}"
    repository = book_config["repository"]
    owner, name = urlsplit(repository["url"]).path.strip("/").removesuffix(".git").split("/")
    root = book_root.joinpath(*[".."] * len(Path(repository.get("path_to_book", "")).parts))
    for service, link in zip(services, links, strict=True):
        setting, opens = LAUNCH_SERVICES[service]
        href, host = urlsplit(link["href"]), urlsplit(book_config["launch_buttons"][setting])
        assert (href.scheme, href.netloc) == (host.scheme, host.netloc), f"{service} button: {link['href']}"
        opened = opens(link["href"])
        assert opened, f"the {service} button opens no notebook: {link['href']}"
        assert opened[:3] == (owner, name, repository["branch"]), f"{service} button: {link['href']}"
        assert (root / opened[3]).resolve() == notebook.resolve(), f"{service} button opens {opened[3]}"
    assert (root / "binder" / "requirements.txt").is_file(), "Binder would find no environment file"


def _download_links(book_html: Path, book_page: str) -> dict[str, Path]:
    """{'.ipynb': file, '.md': file, ...} offered by the theme's download button of a page."""
    offered = {}
    for link in tags(book_html, book_page).links:
        classes = link.get("class", "")
        if "dropdown-item" in classes and "download" in classes and "_sources/" in link.get("href", ""):
            target = (book_html / book_page).parent / link["href"]
            offered[Path(link["href"]).suffix] = target.resolve()
    return offered


def _cells(notebook) -> list[tuple[str, str]]:
    return [(cell.cell_type, cell.source.strip()) for cell in notebook.cells]


def test_each_page_downloads_as_ipynb_and_md(book_html, book_page, book_root):
    offered = _download_links(book_html, book_page)
    source = book_root / book_page.removesuffix(".html")
    if source.with_suffix(".ipynb").is_file():
        assert set(offered) >= {".ipynb", ".md"}, f"download button offers {sorted(offered)}"
        original = nbformat.read(source.with_suffix(".ipynb"), as_version=4)
        downloaded = nbformat.read(offered[".ipynb"], as_version=4)
        nbformat.validate(downloaded)
        assert _cells(downloaded) == _cells(original)
        as_markdown = jupytext.read(offered[".md"], fmt="md:myst")
        assert _cells(as_markdown) == _cells(original)
        assert as_markdown.metadata["kernelspec"]["name"] == original.metadata["kernelspec"]["name"]
    else:
        assert set(offered) >= {".md"}, f"download button offers {sorted(offered)}"
        assert offered[".md"].read_text(encoding="utf-8") == source.with_suffix(".md").read_text(encoding="utf-8")


@pytest.mark.browser
def test_download_button_links_are_served(open_page, book_html):
    """In the browser, the download menu of a chapter lists .ipynb and .md and both are served."""
    chapter = next(p for p in toc_pages() if p.startswith("chapters/"))
    page = open_page(chapter, wait=False)
    page.locator(".dropdown-download-buttons button").first.click()
    menu = page.locator(".dropdown-download-buttons .dropdown-menu")
    menu.wait_for(state="visible")
    items = {text.strip(): href for text, href in menu.locator("a").evaluate_all(
        "(links) => links.map((a) => [a.textContent, a.getAttribute('href')])")}
    assert {".ipynb", ".md"} <= set(items), items
    for suffix in (".ipynb", ".md"):
        response = page.request.get(urljoin(page.url, items[suffix]))
        assert response.ok, f"{suffix}: HTTP {response.status}"
        if suffix == ".ipynb":
            nbformat.validate(nbformat.reads(response.text(), as_version=4))
        else:
            assert "kernelspec" in response.text() and "```{code-cell}" in response.text()
