"""The site as readers get it, proven in Chromium against the built book served on 127.0.0.1.

Each page of ``_toc.yml`` is visited once per colour theme (light, dark) with the network cut off
except for the local server and local npm copies of the CDN assets (see booksite.py); everything
a test asserts is collected during that one visit (:class:`Visit`), which loads the page, lets it
settle at the top, then brings its explorers in (scrolls each widget into view: the widget
manager is loaded only then). Pages are checked for: console errors and failed requests, MathJax
having typeset every formula, each widget rendered exactly once (and its placeholder gone), the
widget manager's scripts added once each and in order, alt text on every image, header icons
drawn, no critical or serious axe-core violation, explorers that respond and stay readable in
dark mode. A screenshot of each page and theme goes to ``_build/screenshots/``. Transfer size
(before and after the explorers are brought in) and time until the explorers are interactive are
printed as a table at the end of the run, against the goals below (reported, not asserted:
timings depend on the machine).

Lazy loading: on each rule chapter opened at the top (1280x800) the widget manager is not
requested until its explorer nears the viewport, and each widget output shows a placeholder about
as tall as the explorer that replaces it (within PLACEHOLDER_JUMP_PX); opening the page at an anchor near the explorer, focusing
into the explorer's cell from the keyboard, or a browser without IntersectionObserver load it at
once.

A page built like a widget page, with a labelled slider and an icon button, shows that
``_assets/widgets-setup.js`` removes the widget manager's defects (and that without it they are
there). Static checks of the built HTML: no repeated ``<script>``, widget pages carrying only the
set-up script, which names the widget scripts pinned to the versions package.json installs
(nothing else loads the manager), launch buttons derived from the
``repository`` setting of _config.yml, and the .ipynb / .md downloads (Binder: test_toolchain.py).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin

import jupytext
import nbformat
import pytest

from booksite import RULE_PAGES, WIDGET_VIEW_SELECTOR, bring_explorers_in, contrast, file_sizes, settle, toc_pages

pytestmark = pytest.mark.book

# Goals for a chapter page, served locally (see the report table at the end of the run).
PAGE_BUDGET_GZIP_BYTES = 1_500_000  # transferred before any scroll, gzipped (as GitHub Pages, the CDN send it)
INTERACTIVE_BUDGET_MS = 1_000  # explorer scrolled into view -> every widget rendered
LAZY_VIEWPORT = {"width": 1280, "height": 800}  # the laziness tests' window
PLACEHOLDER_JUMP_PX = 200  # most a widget output's height may change when the widget replaces its placeholder
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
SERIOUS = {"critical", "serious"}
# Left in the page's text (outside code) only if MathJax did not typeset it.
RAW_TEX = re.compile(r"\$\$|\\frac|\\partial|\\\(|\\\[|\\begin\{")


# --------------------------------------------------------------------------- what one visit collects

# Text of the page outside code, scripts and typeset math; math elements MathJax did not typeset;
# TeX errors; widget views and how often each was rendered; images and their alt text.
COLLECT = r"""
() => {
  const skip = 'script, style, pre, code, textarea, mjx-container, .highlight, .MathJax';
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
      .filter((el) => !el.querySelector('mjx-container')).map((el) => el.textContent.slice(0, 80)),
    texErrors: Array.from(document.querySelectorAll('mjx-merror'))
      .map((el) => el.getAttribute('data-mjx-error') || el.textContent),
    rawLabels: Array.from(document.querySelectorAll('.widget-label, .widget-label-basic'))
      .filter((el) => !el.querySelector('mjx-container') && el.textContent.includes('$'))
      .map((el) => el.textContent),
    widgetViews: views.map((view) => ({
      model: JSON.parse(view.textContent).model_id,
      renders: view.parentElement.querySelectorAll(':scope > .widget-subarea').length,
      content: Array.from(view.parentElement.querySelectorAll(':scope > .widget-subarea'))
        .map((area) => area.innerText.includes('Error displaying widget') ? 'error'
          : (area.firstElementChild && area.firstElementChild.childElementCount > 0 ? 'ok' : 'empty')),
    })),
    subareas: document.querySelectorAll('.widget-subarea').length,
    placeholders: document.querySelectorAll('.widget-placeholder').length,
    widgetScripts: Array.from(document.scripts)
      .filter((s) => /\/require(\.min)?\.js$|\/embed-amd\.js$/.test(s.src))
      .map((s) => ({ src: s.src, attributes: Object.fromEntries(
        Array.from(s.attributes, (a) => [a.name, a.value]).filter(([name]) => name !== 'src')) })),
    icons: Array.from(document.querySelectorAll('.bd-header-article i[class*="fa-"], .bd-header i[class*="fa-"]'))
      .map((icon) => ({
        icon: icon.className, family: getComputedStyle(icon).fontFamily,
        glyph: getComputedStyle(icon, '::before').content, shown: icon.offsetParent !== null,
        width: icon.getBoundingClientRect().width,
      })),
    iconFontLoaded: document.fonts.check('900 16px "Font Awesome 6 Free"'),
    scripts: Array.from(document.scripts).map((s) => s.src).filter(Boolean),
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
    npm_served: list[str]
    requests: list[str]
    initial_files: dict[str, Path]
    files: dict[str, Path]
    explorers_in_view_ms: float | None
    widgets_ready_ms: float | None
    dom: dict
    axe: list[dict]
    screenshot: Path | None
    explorers: list[dict] = field(default_factory=list)

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
                page.screenshot(path=str(shot), full_page=True)
                cache[key] = Visit(
                    page_path, theme, list(page.console_errors), list(page.failed_requests),
                    list(page.npm_served), list(page.requests), dict(page.initial_files),
                    dict(page.files), page.explorers_in_view_ms, page.widgets_ready_ms, dom, axe, shot,
                    explorers,
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
def test_mathjax_typeset_every_formula(visits, book_page):
    dom = visits(book_page).dom
    assert dom["untypeset"] == [], "math elements MathJax did not typeset"
    assert dom["texErrors"] == [], "TeX errors in typeset math"
    assert RAW_TEX.findall(dom["text"]) == [], f"raw TeX left in the text: {RAW_TEX.findall(dom['text'])}"
    assert dom["rawLabels"] == [], "widget labels with untypeset $...$"


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
def test_header_icons_render_from_the_themes_font(visits, book_page):
    """The theme's icons draw from its Font Awesome 6 web font (fontawesome.js is left out, and the
    widget manager's Font Awesome 5 stylesheet must not take them over)."""
    dom = visits(book_page).dom
    assert not [src for src in dom["scripts"] if "fontawesome" in src]
    assert dom["icons"], "no icons in the page header"
    assert dom["iconFontLoaded"]
    for icon in dom["icons"]:
        assert "Font Awesome 6" in icon["family"] and icon["glyph"] not in ("none", "normal", '""'), icon
        assert icon["width"] > 0 or not icon["shown"], icon


@pytest.mark.browser
def test_axe_reports_no_critical_or_serious_violation(visits, book_page):
    for theme in ("light", "dark"):
        assert visits(book_page, theme).serious_violations == [], f"axe-core, {theme} theme"


@pytest.mark.browser
def test_screenshot_of_each_page(visits, book_page):
    for theme in ("light", "dark"):
        shot = visits(book_page, theme).screenshot
        assert shot.is_file() and shot.stat().st_size > 10_000 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _gzip_bytes(files: dict[str, Path]) -> int:
    return sum(file_sizes(path)[1] for path in files.values() if path.is_file())


@pytest.mark.browser
def test_transfer_size_and_time_to_interactive(visits, book_page, site_report):
    visit = visits(book_page)
    initial, everything = _gzip_bytes(visit.initial_files), _gzip_bytes(visit.files)
    views = len(visit.dom["widgetViews"])
    in_view, ready = visit.explorers_in_view_ms, visit.widgets_ready_ms
    interactive = None if not views or ready is None else max(0.0, ready - in_view)
    site_report.title = "Per page: transfer and time to interactive (light theme, served on 127.0.0.1)"
    site_report.notes[:] = [
        f"Goal for a chapter page, judged on two columns (within_goal): MB_gzip_initial <= "
        f"{PAGE_BUDGET_GZIP_BYTES / 1e6:.1f} MB and explorer_interactive_ms <= {INTERACTIVE_BUDGET_MS} ms.",
        "MB_gzip_initial: every file fetched by a reader at the top of the page (load, MathJax, network idle;"
        " no scroll), gzip -6 as GitHub Pages and jsDelivr send it; MB_gzip_with_explorers: after every"
        " explorer was scrolled into view and rendered (the widget manager loads only then).",
        "dom_ready_ms: navigation start -> DOMContentLoaded done. explorer_interactive_ms: the explorer"
        " scrolled into view (a jump straight to it: a reader scrolling down starts the load one viewport"
        " earlier) -> every widget rendered. Times depend on the machine's load.",
    ]
    site_report.add(
        book_page.removesuffix(".html"),
        widgets=views,
        MB_gzip_initial=f"{initial / 1e6:.2f}",
        MB_gzip_with_explorers=f"{everything / 1e6:.2f}",
        dom_ready_ms=round(visit.dom["timing"]["domContentLoaded"]),
        explorer_interactive_ms="-" if not views else (round(interactive) if interactive is not None else "never"),
        within_goal="yes" if initial <= PAGE_BUDGET_GZIP_BYTES
        and (not views or (interactive is not None and interactive <= INTERACTIVE_BUDGET_MS)) else "NO",
    )
    assert visit.files and all(path.is_file() for path in visit.files.values()), "a request was answered by no local file"
    assert set(visit.initial_files) <= set(visit.files)
    if views:
        assert in_view is not None and ready is not None, "the widgets never became interactive"


@pytest.mark.browser
def test_widget_manager_scripts_added_once_in_order(visits, book_page, book_config):
    """After the explorers came in: require.js, then embed-amd.js, each added and requested exactly once,
    with the URLs and attributes _config.yml gives them; pages without widgets load neither."""
    visit = visits(book_page)
    scripts = visit.dom["widgetScripts"]
    if not visit.dom["widgetViews"]:
        assert scripts == [], "a page without widgets loaded the widget manager"
        return
    setup = book_config["sphinx"]["config"]["nb_ipywidgets_js"]["widgets-setup.js"]
    wanted = [json.loads(setup["data-requirejs"]), json.loads(setup["data-widget-manager"])]
    assert [s["src"] for s in scripts] == [w["src"] for w in wanted], "not require.js then embed-amd.js, once each"
    for script, attributes in zip(scripts, wanted):
        assert script["attributes"] == {k: v for k, v in attributes.items() if k != "src"}, script
        assert visit.requests.count(script["src"]) == 1, f"{script['src']} requested more than once"


# --------------------------------------------------------------------------- browser: explorers, dark mode

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
    """Each explorer's look (EXPLORER_LOOK), then a click on a plain cell: do the lights move to it?"""
    explorers = page.evaluate(EXPLORER_LOOK)
    for number, explorer in enumerate(explorers):
        root = page.locator(".gradlib-explorer").nth(number)
        before = root.evaluate(LIGHTS)
        target = root.locator('.ge-cell:not([data-lit="true"]):not([data-selected="true"])').last
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


# --------------------------------------------------------------------------- browser: the manager loads lazily

MANAGER_SUFFIX = "/embed-amd.js"

# Each widget output (the element holding a widget view): where it is in the viewport, how tall
# it is, its placeholder's text (null: none) and whether a widget was rendered in it.
WIDGET_AREAS = """(selector) => [...new Set(Array.from(document.querySelectorAll(selector), (v) => v.parentElement))]
  .map((area) => {
    const box = area.getBoundingClientRect();
    const placeholder = area.querySelector(':scope > .widget-placeholder');
    return { top: box.top, height: box.height, placeholder: placeholder && placeholder.textContent,
             rendered: area.querySelectorAll(':scope > .widget-subarea').length };
  })"""

# Focuses, without scrolling, the last tab stop before the first widget's notebook cell.
FOCUS_BEFORE_WIDGET_CELL = """(selector) => {
  const cell = document.querySelector(selector).parentElement.closest('.cell');
  const stops = Array.from(document.querySelectorAll('a[href], button, input, select, textarea, [tabindex]'))
    .filter((el) => el.tabIndex >= 0 && !el.disabled && el.getClientRects().length > 0
      && (cell.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_PRECEDING));
  const before = stops[stops.length - 1];
  before.focus({ preventScroll: true });
  return document.activeElement === before;
}"""


def manager_requests(page) -> list[str]:
    return [url for url in page.requests if url.endswith(MANAGER_SUFFIX)]


@pytest.mark.browser
@pytest.mark.parametrize("book_page", RULE_PAGES, ids=lambda p: p.removesuffix(".html"))
def test_widget_manager_loads_only_when_an_explorer_comes_near(book_site, node_modules, book_config, book_page):
    """Opened at the top of a chapter (1280x800): while the explorer is beyond the observer's reach
    (more than one viewport below the fold) the widget manager is not requested, the output shows
    the placeholder (which passes axe-core); scrolled to, the manager is requested once and the
    explorer replaces the placeholder without changing the page's height by much."""
    page = book_site.open(book_page, wait=False, **LAZY_VIEWPORT)
    try:
        settle(page, explorers=False)  # load, MathJax, network idle: a reader at the top
        before = page.evaluate(WIDGET_AREAS, WIDGET_VIEW_SELECTOR)
        assert before, "no widget on a rule chapter"
        if min(area["top"] for area in before) > 2 * LAZY_VIEWPORT["height"]:
            assert manager_requests(page) == [], "the widget manager was requested before an explorer came near"
            assert page.evaluate("window.requirejs") is None, "require.js loaded before an explorer came near"
            text = book_config["sphinx"]["config"]["nb_ipywidgets_js"]["widgets-setup.js"]["data-placeholder"]
            assert [(a["placeholder"], a["rendered"]) for a in before] == [(text, 0)] * len(before)
            assert serious(run_axe(page, node_modules)) == [], "axe-core, with the placeholders showing"
        else:  # the first explorer is within reach of the window as the page opens
            assert manager_requests(page), "an explorer within reach at load, but the manager was not requested"
        bring_explorers_in(page)
        after = page.evaluate(WIDGET_AREAS, WIDGET_VIEW_SELECTOR)
        assert len(manager_requests(page)) == 1, "the widget manager was not requested exactly once"
        assert page.widgets_ready_ms is not None, "the explorer did not render after it was scrolled into view"
        assert [(a["placeholder"], a["rendered"]) for a in after] == [(None, 1)] * len(after)
        jumps = [round(a["height"] - b["height"]) for a, b in zip(after, before)]
        assert all(abs(jump) <= PLACEHOLDER_JUMP_PX for jump in jumps), (
            f"the page jumps by {jumps} px when the explorer replaces its placeholder"
        )
        assert page.console_errors == [] and page.failed_requests == []
    finally:
        page.context.close()


def _section_holding_first_widget(html: str) -> str:
    """The id of the last <section> opened before the page's first widget view."""
    head = html[: html.index(f'type="{WIDGET_VIEW}"')]
    return re.findall(r'<section id="([^"]+)"', head)[-1]


@pytest.mark.browser
@pytest.mark.parametrize("trigger", ["anchor", "keyboard-focus", "no-intersection-observer"])
def test_widget_manager_loads_at_once_when_the_reader_is_at_the_explorer(book_site, book_html, trigger):
    """Without scrolling: a page opened at the explorer's section, Tab into the explorer's cell (with the
    scroll observer made inert, so only the focus can load it), or a browser without IntersectionObserver
    loads the manager, and the widget renders once."""
    chapter = RULE_PAGES[0]
    page = book_site.open(None, **LAZY_VIEWPORT)
    try:
        if trigger == "no-intersection-observer":
            page.add_init_script("delete window.IntersectionObserver;")
        if trigger == "keyboard-focus":
            page.add_init_script(
                "window.IntersectionObserver = class { observe() {} unobserve() {} disconnect() {} };")
        anchor = _section_holding_first_widget((book_html / chapter).read_text(encoding="utf-8"))
        page.goto(book_site.url + chapter + (f"#{anchor}" if trigger == "anchor" else ""), wait_until="load")
        settle(page, explorers=False)
        areas = page.evaluate(WIDGET_AREAS, WIDGET_VIEW_SELECTOR)
        if trigger == "anchor":
            assert areas[0]["top"] < 2 * LAZY_VIEWPORT["height"], f"#{anchor} is not near the explorer"
        if trigger == "keyboard-focus":
            assert areas[0]["top"] > LAZY_VIEWPORT["height"] and manager_requests(page) == []
            assert page.evaluate(FOCUS_BEFORE_WIDGET_CELL, WIDGET_VIEW_SELECTOR)
            page.keyboard.press("Tab")
            inside = page.evaluate(
                "(selector) => document.querySelector(selector).parentElement.closest('.cell')"
                ".contains(document.activeElement)", WIDGET_VIEW_SELECTOR)
            assert inside, "Tab did not move the focus into the explorer's cell"
        scroll = page.evaluate("window.scrollY")
        page.wait_for_function("window.__bookTiming.widgetsReady !== null", timeout=20_000)
        assert len(manager_requests(page)) == 1
        assert page.evaluate(WIDGET_AREAS, WIDGET_VIEW_SELECTOR)[0]["rendered"] == 1
        if trigger != "keyboard-focus":  # focusing scrolls the focused element into view
            assert page.evaluate("window.scrollY") == scroll, "the page was scrolled"
        # the theme's own scripts need IntersectionObserver (and say so); nothing else may fail
        missing = "uncaught: IntersectionObserver is not defined"
        errors = [e for e in page.console_errors if not (trigger == "no-intersection-observer" and e == missing)]
        assert errors == []
    finally:
        page.context.close()


# --------------------------------------------------------------------------- the widget page set-up itself


def _widget_probe_html(book_config: dict, with_setup: bool) -> str:
    """A page shaped like a built widget page (the book's MathJax config and nb_ipywidgets_js
    script) embedding a labelled slider, whose label has math, and a button with a Font Awesome
    icon (drawn with the manager's own font files). Without the set-up script, the page loads
    the two widget scripts it names the way myst-nb does by default: deferred, in order."""
    import html

    import ipywidgets
    from ipywidgets.embed import embed_data
    from sphinx.ext.mathjax import MATHJAX_URL

    sphinx = book_config["sphinx"]["config"]
    box = ipywidgets.VBox([ipywidgets.IntSlider(value=3, description="$x_1$ size"),
                           ipywidgets.Button(description="check", icon="check")])
    data = embed_data(views=[box])
    setup = sphinx["nb_ipywidgets_js"]["widgets-setup.js"]
    if with_setup:
        tags = [{"src": "/_static/widgets-setup.js", **setup}]
    else:
        tags = [{**json.loads(setup[name]), "defer": "defer"} for name in ("data-requirejs", "data-widget-manager")]
    scripts = [
        "<script" + "".join(f' {name}="{html.escape(str(value))}"' for name, value in tag.items()) + "></script>"
        for tag in tags
    ]
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>widget probe</title>
<script>window.MathJax = {json.dumps(sphinx.get("mathjax3_config", {}))}</script>
<script defer src="{sphinx.get("mathjax_path", MATHJAX_URL)}"></script>
<script type="{WIDGET_STATE}">{json.dumps(data["manager_state"])}</script>
{"".join(scripts)}
</head><body><main><p class="math">\\(y = x^2\\)</p>
<div class="output"><script type="{WIDGET_VIEW}">{json.dumps(data["view_specs"][0])}</script></div>
</main></body></html>"""


@pytest.mark.browser
@pytest.mark.parametrize("with_setup", [True, False], ids=["with-setup", "without-setup"])
def test_widget_setup_fixes_the_managers_defects(open_page, site_url, book_config, with_setup):
    """A labelled widget (whichever page has one) renders once with its label typeset, without
    MathJax 2's Hub TypeError and without the font 404s -- and without widgets-setup.js the same
    page shows exactly those defects, so this test can tell the difference."""
    page = open_page(None)
    url = f"{site_url}chapters/widget-probe.html"  # a page one folder down, like a chapter
    body = _widget_probe_html(book_config, with_setup)
    page.route(url, lambda route: route.fulfill(body=body, content_type="text/html"))
    page.goto(url, wait_until="load")
    settle(page)
    label = page.locator(".widget-label").first
    typeset = label.locator("mjx-container").count() > 0
    errors = " ".join(page.console_errors)
    failed = " ".join(page.failed_requests)
    assert page.locator(".widget-subarea").count() == 1, "the widget did not render exactly once"
    if with_setup:
        assert page.console_errors == [] and page.failed_requests == []
        assert typeset, f"label not typeset: {label.inner_text()!r}"
    else:
        assert "Queue" in errors, "expected MathJax 2's Hub.Queue TypeError without the set-up"
        assert "woff" in failed, "expected the manager's fonts to 404 without the set-up"
        assert not typeset


# --------------------------------------------------------------------------- static: the HTML as built


class _Tags(HTMLParser):
    """Collects <script>, <a> and <img> tags (attributes, and inline script bodies)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.scripts: list[dict] = []
        self.links: list[dict] = []
        self._in_script: dict | None = None

    def handle_starttag(self, tag, attrs):
        attributes = {name: value or "" for name, value in attrs}
        if tag == "script":
            self._in_script = {**attributes, "body": ""}
            self.scripts.append(self._in_script)
        elif tag == "a":
            self.links.append(attributes)

    def handle_data(self, data):
        if self._in_script is not None:
            self._in_script["body"] += data

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = None


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


def _setup_script(scripts: list[dict]) -> dict | None:
    """The widget set-up script's tag (its attributes) among a page's scripts, if there is one."""
    found = [s for s in scripts if "_static/widgets-setup.js" in s.get("src", "")]
    assert len(found) <= 1, "widgets-setup.js included more than once"
    return found[0] if found else None


def test_widget_pages_carry_only_the_setup_script_which_names_the_manager(book_html, book_page):
    """The built HTML loads no widget script but widgets-setup.js (it adds require.js and the
    manager when a reader nears a widget); its attributes name both, with the CDN the manager
    fetches front ends from and requirejs paths that send those front ends there."""
    scripts = tags(book_html, book_page).scripts
    sources = [s.get("src", "") for s in scripts]
    assert not [src for src in sources if re.search(r"/require(\.min)?\.js$|/embed-amd\.js$", src)], (
        "a widget script is loaded up front, not when a reader nears a widget"
    )
    setup = _setup_script(scripts)
    if not any(s.get("type") == WIDGET_STATE for s in scripts):
        assert setup is None, "widget set-up on a page without widgets"
        return
    assert setup is not None, "a page with widgets but no widgets-setup.js"
    assert not setup.get("defer") and not setup.get("async"), "the set-up must run before MathJax (it shims MathJax.Hub)"
    requirejs, manager = json.loads(setup["data-requirejs"]), json.loads(setup["data-widget-manager"])
    assert re.search(r"/require(\.min)?\.js$", requirejs["src"]) and manager["src"].endswith("/embed-amd.js")
    assert setup.get("data-placeholder", "").strip(), "no placeholder text for the widget outputs"
    paths = json.loads(setup["data-require-paths"])
    cdn = manager["data-jupyter-widgets-cdn"]
    for module, version in _front_end_modules(scripts):
        assert paths.get(module) == f"{cdn}{module}@{version}/dist/index", (
            f"requirejs would look for {module} next to the page (a 404) before the CDN"
        )


def _front_end_modules(scripts: list[dict]) -> set[tuple[str, str]]:
    """(module, version range) of the widget front ends the manager fetches from its CDN."""
    return {
        (model["model_module"], model["model_module_version"])
        for script in scripts if script.get("type") == WIDGET_STATE
        for model in json.loads(script["body"])["state"].values()
        if not model["model_module"].startswith("@jupyter-widgets/")  # built into the manager
    }


def test_every_cdn_asset_is_answered_by_the_pinned_npm_copy(book_html, book_page, npm_cdn):
    """Each CDN URL a page asks for (and anywidget's front end, which the manager asks for) resolves
    to node_modules at a version satisfying the request: package.json pins what the pages request."""
    page = tags(book_html, book_page)
    urls = [s["src"] for s in page.scripts if s.get("src", "").startswith("http")]
    setup = _setup_script(page.scripts)
    if setup is not None:
        requirejs, manager = json.loads(setup["data-requirejs"]), json.loads(setup["data-widget-manager"])
        urls += [requirejs["src"], manager["src"]]
        for module, version in _front_end_modules(page.scripts):
            urls.append(f"{manager['data-jupyter-widgets-cdn']}{module}@{version}/dist/index.js")
    unanswered = [u for u in dict.fromkeys(urls) if npm_cdn.resolve(u) is None]
    assert unanswered == [], "CDN assets with no matching pinned npm copy (update package.json)"


def _expected_launch_urls(book_config: dict, notebook: str) -> dict[str, str]:
    repository = book_config["repository"]
    owner, name = re.fullmatch(r"https://github\.com/([^/]+)/([^/]+?)/?", repository["url"]).groups()
    branch = repository.get("branch", "main")
    path = f"{repository.get('path_to_book', '').strip('/')}/{notebook}".lstrip("/")
    launch = book_config["launch_buttons"]
    ui = {"classic": "tree", "jupyterlab": "lab/tree"}[launch.get("notebook_interface", "classic")]
    return {
        "Colab": f"{launch['colab_url'].rstrip('/')}/github/{owner}/{name}/blob/{branch}/{path}",
        "Binder": f"{launch['binderhub_url'].rstrip('/')}/v2/gh/{owner}/{name}/{branch}?urlpath={ui}/{path}",
    }


@pytest.mark.parametrize("chapter", [p for p in toc_pages() if p.startswith("chapters/")],
                         ids=lambda p: p.removesuffix(".html"))
def test_launch_buttons_open_this_notebook_in_colab_and_binder(book_html, book_config, chapter):
    notebook = chapter.removesuffix(".html") + ".ipynb"
    hrefs = [link.get("href", "") for link in tags(book_html, chapter).links]
    for service, url in _expected_launch_urls(book_config, notebook).items():
        assert url in hrefs, f"no {service} launch button for {notebook} (expected {url})"
    assert book_config["launch_buttons"]["colab_url"] == "https://colab.research.google.com"


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
