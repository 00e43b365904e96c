"""Fixtures of the site tests: each page seen once a session, and a rule's explorer opened live.

``visits(path, theme="light") -> Visit``: each page of the book and theme is loaded once per session
(:meth:`booksite.BookSite.open`: every request to another origin aborted, the explorers brought in)
and everything the tests of ``tests/site/test_page_*.py``, ``test_screenshots.py`` and
``test_dark_theme.py`` assert is collected during that one load: the browser's logs, what the page
shows (COLLECT), axe-core's violations, a full-page screenshot in ``_build/screenshots/`` with the
layout it was taken in, in the dark theme each explorer's look and response to a click, and in the
light theme the math's layout at 1280 px (display_math.math_layout). ``math_layouts(path, width)``
gives that layout at any width (1280: the visit's; others: a load of their own).
``open_explorer(rule, path=None, **options) -> (BookPage, root)``: the page of a rule's explorer,
and the explorer, drawn and in view. ``built_page(path)``: a built page's HTML, parsed (BeautifulSoup).
"""
from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from bs4 import BeautifulSoup

import print_book
from booksite import EXPLORER_PAGES, BookPage, BookSite, full_page_screenshot, live_explorers, toc_pages
from display_math import math_layout
from run_once import once_per_run, once_per_run_helping

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

SERIOUS = {"critical", "serious"}
VISIT_WIDTH = 1280  # the width of a visit (BookSite.open's default window, 1280 x 900)


# --------------------------------------------------------------------------- what one visit collects

# Text of the page outside code, scripts and rendered math; math elements KaTeX did not render;
# TeX errors; KaTeX fonts loaded; widget views and how often each was rendered; images and their alt text.
COLLECT = r"""
() => {
  const PANELS = ['.cell_output .text_html', '.cell_output .widget-subarea', '.admonition', 'div.highlight', 'table',
                  '.gradlib-check'].join(', ');
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
    // The page's panels (HTML and widget outputs such as check tables, explorers and answer boxes,
    // admonitions, code, tables) and the colour each shows: the first opaque background from it up
    // to the page.
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
async (within) => {
  const result = await axe.run(within ? document.querySelector(within) : document, { resultTypes: ['violations'] });
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ')),
  }));
}
"""


def run_axe(page: Page, node_modules: Path, within: str | None = None) -> list[dict]:
    """axe-core's violations on the page as it is now (AXE_RUN), in the whole document or only in
    the first element matching the selector ``within`` (a page's KaTeX makes a whole run ~3 s)."""
    page.add_script_tag(path=str(node_modules / "axe-core" / "axe.min.js"))
    return page.evaluate(AXE_RUN, within)


def serious(violations: list[dict]) -> list[str]:
    """The critical and serious ones of axe-core's violations (AXE_RUN), one line each."""
    return [f"{v['impact']}: {v['id']} ({v['help']}) at {v['nodes']}" for v in violations if v["impact"] in SERIOUS]


@pytest.fixture(scope="session")
def serious_violations(node_modules: Path) -> Callable[..., list[str]]:
    """``serious_violations(page, within=None)``: axe-core's critical and serious violations on
    playwright's ``page`` as it is laid out now (only in the element ``within`` selects, if given),
    one line each."""
    return lambda page, within=None: serious(run_axe(page, node_modules, within))


# --------------------------------------------------------------------------- dark theme: the explorers

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


def explore(page: Page) -> list[dict]:
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


@dataclass(kw_only=True)
class Visit:
    """Everything one load of a page showed (see COLLECT) plus the browser's logs (booksite.BookPage)."""

    path: str  # the page, e.g. "chapters/03_matvec.html"
    theme: str  # "light" or "dark"
    console_errors: list[str]
    failed_requests: list[str]
    blocked_requests: list[str]
    requests: list[str]
    files: dict[str, Path]  # every local URL fetched (explorers live) -> its file in the built book
    dom: dict  # COLLECT
    axe: list[dict]  # AXE_RUN
    screenshot: Path  # the full-page screenshot
    shot_layout: dict  # SHOT_LAYOUT, plus the viewport, as the screenshot was taken
    explorers: list[dict] = field(default_factory=list)  # dark theme: explore()
    math: dict | None = None  # light theme: display_math.math_layout at VISIT_WIDTH

    @property
    def serious_violations(self) -> list[str]:
        return serious(self.axe)

    def to_json(self) -> dict:
        """The visit as JSON (paths as strings), for the other test workers (run_once)."""
        return json.loads(json.dumps(asdict(self), default=str))

    @classmethod
    def from_json(cls, saved: dict) -> Visit:
        files = {url: Path(file) for url, file in saved["files"].items()}
        return cls(**{**saved, "files": files, "screenshot": Path(saved["screenshot"])})


def _visit(book_site: BookSite, node_modules: Path, screenshot_dir: Path, path: str, theme: str) -> Visit:
    """Load ``path`` in ``theme`` and collect what a :class:`Visit` holds (the order matters: the
    screenshot before the math's layout, which unfolds the solutions)."""
    shown = book_site.open(path, theme=theme, width=VISIT_WIDTH)
    page = shown.page
    try:
        dom = page.evaluate(COLLECT)
        explorers = explore(page) if theme == "dark" else []
        axe = run_axe(page, node_modules)
        shot = screenshot_dir / f"{path.removesuffix('.html').replace('/', '__')}-{theme}.png"
        page.evaluate("window.scrollTo(0, 0)")  # sticky header and sidebars at the top
        shot_layout = {**page.evaluate(SHOT_LAYOUT), "viewport": page.viewport_size}
        full_page_screenshot(page, shot)
        math = math_layout(page) if theme == "light" else None
        return Visit(path=path, theme=theme, console_errors=list(shown.console_errors),
                     failed_requests=list(shown.failed_requests), blocked_requests=list(shown.blocked_requests),
                     requests=list(shown.requests), files=dict(shown.files), dom=dom, axe=axe, screenshot=shot,
                     shot_layout=shot_layout, explorers=explorers, math=math)
    finally:
        shown.close()


@pytest.fixture(scope="session")
def visits(book_site: BookSite, node_modules: Path, screenshot_dir: Path) -> Callable[..., Visit]:
    """``visits(path, theme="light") -> Visit``: each page and theme loaded once per test run, by
    whichever test worker needs it first (run_once). A worker whose page another worker is loading
    meanwhile loads one that no worker has yet (the tests of both want every page), then asks again."""
    cache: dict[tuple[str, str], Visit] = {}

    def work(path: str, theme: str) -> tuple[str, Callable[[], dict]]:
        return (f"visit-{path}-{theme}",
                lambda: _visit(book_site, node_modules, screenshot_dir, path, theme).to_json())

    # from the end: the other workers go from the start
    spares = [work(path, theme) for path in reversed(toc_pages()) for theme in ("dark", "light")]

    def visit(path: str, theme: str = "light") -> Visit:
        if (path, theme) not in cache:
            cache[path, theme] = Visit.from_json(once_per_run_helping(*work(path, theme), spares))
        return cache[path, theme]

    return visit


def _math_layout(book_site: BookSite, path: str, width: int) -> dict:
    shown = book_site.open(path, width=width, height=900)
    try:
        return math_layout(shown.page)
    finally:
        shown.close()


@pytest.fixture(scope="session")
def math_layouts(book_site: BookSite, visits) -> Callable[[str, int], dict]:
    """``math_layouts(path, width) -> display_math.math_layout`` of the page in a ``width`` x 900 px
    window, explorers drawn: at VISIT_WIDTH the light visit's, at another width one load per test run."""
    cache: dict[tuple[str, int], dict] = {}

    def layout(path: str, width: int) -> dict:
        if width == VISIT_WIDTH:
            return visits(path).math
        if (path, width) not in cache:
            cache[path, width] = once_per_run(f"math-{path}-{width}", lambda: _math_layout(book_site, path, width))
        return cache[path, width]

    return layout


@pytest.fixture(scope="session")
def printed_pages(book_site: BookSite) -> Callable[[str], dict]:
    """``printed_pages(path) -> dict``: the page as print_book.read_page reads it, with its print
    cuts, one load per test run (the printed book and test_math_fits.py share them)."""
    cache: dict[str, dict] = {}

    def work(path: str) -> tuple[str, Callable[[], dict]]:
        return f"print-{path}", lambda: print_book.read_page(book_site, path, cuts=True)

    spares = [work(path) for path in reversed(toc_pages())]

    def read(path: str) -> dict:
        if path not in cache:
            cache[path] = once_per_run_helping(*work(path), spares)
        return cache[path]

    return read


@pytest.fixture(scope="session")
def built_page(book_html: Path) -> Callable[[str], BeautifulSoup]:
    """``built_page(path) -> BeautifulSoup``: a page of the built book as the build wrote it, parsed
    once a session (Python's html.parser; every attribute a string, ``class`` included)."""

    @functools.cache
    def parse(path: str) -> BeautifulSoup:
        html = (book_html / path).read_text(encoding="utf-8")
        return BeautifulSoup(html, "html.parser", multi_valued_attributes=None)

    return parse


@pytest.fixture
def open_explorer(open_page) -> Callable[..., tuple[BookPage, Locator]]:
    """Factory ``open_explorer(rule, path=None, **options) -> (BookPage, root)``: the page of the
    rule's explorer (``path``, else booksite.EXPLORER_PAGES) opened with ``open_page`` (settled), and
    the root of its first explorer of ``rule``, drawn and scrolled into view (booksite.live_explorers)."""

    def open_(rule: str, path: str | None = None, **options) -> tuple[BookPage, Locator]:
        shown = open_page(path or EXPLORER_PAGES[rule], **options)
        return shown, live_explorers(shown, rule).first

    return open_
