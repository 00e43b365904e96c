"""The built book served locally, and a browser that sees only it: what tests and benchmarks share.

A plain module (no pytest): ``tests/conftest.py`` wraps it in fixtures and ``benchmarks/`` imports it.

- :func:`toc_pages` lists the html pages of ``_toc.yml``; ``ROOT`` is the repository, ``BOOK_ROOT``
  the book's source (the repository, or the source of the build ``$BOOK_HTML`` points at).
- :func:`serve` serves a folder on 127.0.0.1; :func:`launch_browser` starts Chromium (tests/chromium.py).
- :class:`BookSite` opens pages in contexts of their own whose network is the local site only: a request to
  any other origin is aborted (and recorded: the site must need none). It returns a :class:`BookPage`:
  playwright's ``page`` and what the browser logged on it (console errors, failed, blocked and all
  requests, the local file of each, ...). :func:`settle` waits for a quiet network, then brings the
  explorers into view (:func:`bring_explorers_in`); :func:`live_explorers` finds them drawn.
- :func:`file_sizes` (raw and gzip -6 bytes), :func:`contrast` (WCAG 2 contrast ratio),
  :class:`SiteReport` (a table printed at the end of a run).
"""
from __future__ import annotations

import contextlib
import functools
import gzip
import http.server
import io
import json
import mimetypes
import os
import re
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

import yaml

import chromium

if TYPE_CHECKING:
    import numpy
    from playwright.sync_api import Browser, BrowserContext, Locator, Page

ROOT = Path(__file__).resolve().parents[1]  # the repository


def _book_root() -> Path:
    """The book's source folder: the repository, or the source of the build BOOK_HTML points at
    (``<source>/_build/html``, when ``<source>/_toc.yml`` exists: a trimmed copy for iteration)."""
    given = os.environ.get("BOOK_HTML")
    if given and (Path(given).resolve().parents[1] / "_toc.yml").is_file():
        return Path(given).resolve().parents[1]
    return ROOT


BOOK_ROOT = _book_root()
LOCAL_HOSTS = {"127.0.0.1"}
WIDGET_WAIT_MS = 20_000
QUIET_MS = 500  # network idle: no request in flight for this long (playwright's networkidle rule)
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"  # a page's one script of every widget's state
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"  # a script per widget output, naming its model
WIDGET_VIEW_SELECTOR = f'script[type="{WIDGET_VIEW}"]'
HOST_SCRIPT = "widget-host.js"  # _assets/widget-host.js, the one script of widget pages: draws them
EXPLORER_SELECTOR = ".gradlib-explorer"  # the root of an explorer (gradlib/explorer_js/)

mimetypes.add_type("text/javascript", ".js")
mimetypes.add_type("font/woff2", ".woff2")
mimetypes.add_type("font/woff", ".woff")


# --------------------------------------------------------------------------- the book's pages


def toc_pages(root: Path = BOOK_ROOT) -> list[str]:
    """The html path of every page in ``_toc.yml`` (root, parts, chapters, sections), in order."""
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))

    def walk(entries: list[dict]) -> Iterator[str]:
        for entry in entries or []:
            if "file" in entry:
                yield entry["file"]
            for key in ("parts", "chapters", "sections"):
                yield from walk(entry.get(key, []))

    docnames = [toc["root"], *walk(toc.get("parts", [])), *walk(toc.get("chapters", []))]
    return [f"{name}.html" for name in docnames]


#: The chapters of the seven rules (01-07), each with a rule explorer.
RULE_PAGES = [p for p in toc_pages() if re.match(r"chapters/0[1-7]_", p)]


def _explorer_pages() -> dict[str, str]:
    """rule -> the page showing its explorer: a rule chapter's is named after it (chapters/03_matvec),
    chapter 8 shows gather and reduce_max, chapter 9 the backward pass (rule mlp)."""
    pages = {re.match(r"chapters/0\d_(\w+)\.html", p).group(1): p for p in RULE_PAGES}
    for page in toc_pages():
        if page.startswith("chapters/08_"):
            pages.update(dict.fromkeys(["gather", "reduce_max"], page))
        elif page.startswith("chapters/09_"):
            pages["mlp"] = page
    return pages


#: rule -> the page of its explorer, for every explorer of the book.
EXPLORER_PAGES = _explorer_pages()


def widget_models(html: str, anywidget: str) -> list[dict]:
    """The state of each widget of class ``anywidget`` (its ``_anywidget_id``, e.g.
    ``gradlib.explorer.Explorer``) embedded in a built page's ``html``, in the page's order."""
    found = re.search(rf'<script type="{re.escape(WIDGET_STATE)}">(.*?)</script>', html, re.S)
    models = json.loads(found.group(1))["state"].values() if found else []
    return [model["state"] for model in models if model["state"].get("_anywidget_id") == anywidget]


# --------------------------------------------------------------------------- server and browser


KEEPER_PATH = "__booksite_keeper__"  # a blank page of the site's origin that serve() answers (BookSite)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        pass

    def do_GET(self) -> None:
        if self.path != "/" + KEEPER_PATH:
            super().do_GET()
            return
        body = b"<!doctype html><title>keeper</title>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@contextlib.contextmanager
def serve(folder: Path) -> Iterator[str]:
    """``http://127.0.0.1:<free port>/`` serving ``folder`` until the block ends."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="book-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@contextlib.contextmanager
def launch_browser() -> Iterator[Browser]:
    """A playwright Chromium (the one tests/chromium.py finds) until the block ends."""
    from playwright.sync_api import sync_playwright

    path = chromium.find()
    assert path, "no Chromium on this machine: `python tests/chromium.py --install` (make test runs it)"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=chromium.ARGS)
        try:
            yield browser
        finally:
            browser.close()


_WIDGET_TIMING = """
(() => {
  const timing = { widgetsReady: null, views: 0 };
  window.__bookTiming = timing;
  const check = () => {
    if (timing.widgetsReady !== null) return;
    const views = document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]');
    timing.views = views.length;
    if (!views.length) return;
    const rendered = Array.from(views).every((view) => {
      const area = view.parentElement && view.parentElement.querySelector(':scope > .widget-subarea');
      const widget = area && area.firstElementChild;
      return widget && widget.childElementCount > 0;
    });
    if (rendered) timing.widgetsReady = performance.now();
  };
  new MutationObserver(check).observe(document, { childList: true, subtree: true });
  document.addEventListener('DOMContentLoaded', check);
})();
"""


@dataclass(eq=False)
class BookPage:
    """A page of the served book, in a browser context of its own, and what the browser logged on it.

    ``page`` is playwright's Page (navigate, locate, evaluate with it); the logs fill in as it loads.
    ``files`` maps every local URL requested to its file in the built book; ``initial_files`` is what
    had been fetched when the page settled at the top, before the explorers came in (:func:`settle`)."""

    page: Page
    path: str | None  # the book path opened (None: a blank page, navigated by the caller)
    theme: str  # "light" or "dark", set in localStorage before the page's scripts run
    width: int
    height: int
    console_errors: list[str] = field(default_factory=list)  # console errors and uncaught exceptions
    failed_requests: list[str] = field(default_factory=list)  # HTTP >= 400 and network failures
    blocked_requests: list[str] = field(default_factory=list)  # to another origin: aborted
    requests: list[str] = field(default_factory=list)  # every URL asked for, in order
    files: dict[str, Path] = field(default_factory=dict)
    initial_files: dict[str, Path] | None = None
    explorers_in_view_ms: float | None = None  # performance.now() when the explorers were scrolled in
    widgets_ready_ms: float | None = None  # performance.now() when every widget view was drawn
    in_flight: set = field(default_factory=set, repr=False)  # requests not finished yet
    last_network_activity: float = field(default_factory=time.monotonic, repr=False)
    site: BookSite | None = field(default=None, repr=False)  # takes the context back on close

    @property
    def uncaught(self) -> list[str]:
        """The JavaScript exceptions nothing caught (among ``console_errors``)."""
        return [error for error in self.console_errors if error.startswith("uncaught")]

    def close(self) -> None:
        """Close the page; its browser context, storage emptied, goes back to the site for the next
        page (closed instead if its storage cannot be emptied, or when the site reuses none)."""
        context = self.page.context
        emptied = False
        if self.site is not None and not self.page.is_closed():
            try:
                emptied = self.page.evaluate(_EMPTY_STORAGE)
            except Exception:  # playwright's Error: a crashed page, a page of another origin
                emptied = False
        if emptied:
            self.page.close()
            self.site.idle_contexts.setdefault((self.width, self.height), []).append(context)
        else:
            context.close()

    def record(self, book_html: Path) -> None:
        """Route the page's requests (only 127.0.0.1 answers, from ``book_html``) and fill the logs."""
        page = self.page

        def route(route, request) -> None:
            url = request.url
            self.requests.append(url)
            parts = urlsplit(url)
            if parts.hostname in LOCAL_HOSTS:
                local = book_html / unquote(parts.path).lstrip("/")
                self.files[url] = local / "index.html" if local.is_dir() else local
                route.continue_()
                return
            self.blocked_requests.append(url)
            route.abort("blockedbyclient")

        def on_console(message) -> None:
            if message.type == "error":
                where = message.location or {}
                self.console_errors.append(f"{message.text} ({where.get('url', '')}:{where.get('lineNumber', '')})")

        def on_response(response) -> None:
            if response.status >= 400:
                self.failed_requests.append(f"HTTP {response.status} {response.url}")

        def network(request, done: bool) -> None:
            (self.in_flight.discard if done else self.in_flight.add)(request)
            self.last_network_activity = time.monotonic()

        page.route("**/*", route)
        page.on("request", lambda request: network(request, False))
        page.on("requestfinished", lambda request: network(request, True))
        page.on("requestfailed", lambda request: network(request, True))
        page.on("console", on_console)
        page.on("pageerror", lambda error: self.console_errors.append(f"uncaught: {error}"))
        page.on("requestfailed", lambda request: self.failed_requests.append(f"{request.failure} {request.url}"))
        page.on("response", on_response)


# Empties the page's origin's storage (the theme's mode, the answer boxes' typed text); true when done.
_EMPTY_STORAGE = """() => {
  if (location.origin === 'null') return false;
  localStorage.clear();
  sessionStorage.clear();
  return localStorage.length === 0;
}"""


class BookSite:
    """Opens pages of the served book, routed as described above, each alone in a browser context
    with empty storage.

    With ``reuse_contexts`` (the tests) a context is reused once its page is closed (BookPage.close
    empties its storage; routing keeps the HTTP cache off, so every file is fetched again), and a
    blank page of the site (KEEPER_PATH) stays open in it, which keeps its renderer process up for
    the next page: a chapter then loads with ~1.5 s of CPU instead of ~2.3 s. ``False`` (the
    benchmarks): a fresh context and renderer for each page, as on a reader's first visit."""

    def __init__(self, browser: Browser, site_url: str, book_html: Path, *, reuse_contexts: bool = True):
        self.browser, self.url, self.html = browser, site_url, book_html
        self.reuse_contexts = reuse_contexts
        self.idle_contexts: dict[tuple[int, int], list[BrowserContext]] = {}  # (width, height) -> contexts

    def open(self, path: str | None, *, theme: str = "light", wait: bool = True, width: int = 1280,
             height: int = 900) -> BookPage:
        """A new page (alone in its context: close it with ``.close()``) at ``path``, settled unless
        ``wait=False`` (:func:`settle`); ``path=None``: a blank page, to navigate yourself."""
        idle = self.idle_contexts.get((width, height))
        if idle:
            context = idle.pop()
        else:
            context = self.browser.new_context(viewport={"width": width, "height": height}, service_workers="block")
            context.add_init_script(_WIDGET_TIMING)
            if self.reuse_contexts:
                context.new_page().goto(self.url + KEEPER_PATH)
        page = context.new_page()
        page.add_init_script(f"try {{ localStorage.setItem('mode', {json.dumps(theme)}); }} catch (e) {{}}")
        shown = BookPage(page, path, theme, width, height, site=self if self.reuse_contexts else None)
        shown.record(self.html)
        if path is not None:
            shown.page.goto(self.url + path, wait_until="load")
            if wait:
                settle(shown)
        return shown


def wait_for_quiet_network(shown: BookPage, timeout_ms: int = WIDGET_WAIT_MS) -> None:
    """Until no request has been in flight for QUIET_MS (playwright's ``networkidle`` fires once
    per navigation; this one can be awaited again after the page starts loading more)."""
    deadline = time.monotonic() + timeout_ms / 1000
    while time.monotonic() < deadline:
        if not shown.in_flight and time.monotonic() - shown.last_network_activity >= QUIET_MS / 1000:
            return
        shown.page.wait_for_timeout(50)


# Scrolls each widget output (the element holding a widget view) to the middle of the viewport in
# turn, two frames apart (so scroll observers see each), and returns when the first was in view.
_BRING_IN = """
async (selector) => {
  const areas = [...new Set(Array.from(document.querySelectorAll(selector), (view) => view.parentElement))];
  if (!areas.length) return null;
  const start = performance.now();
  for (const area of areas) {
    area.scrollIntoView({ block: 'center' });
    await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
  }
  return start;
}
"""


def bring_explorers_in(shown: BookPage) -> None:
    """Scroll every widget output into view, as a reader does, then wait for every widget view to
    render (_assets/widget-host.js draws them as soon as the page is parsed: usually done by now),
    the network to be quiet. Sets ``explorers_in_view_ms`` (None on a page without widgets) and
    ``widgets_ready_ms``."""
    shown.explorers_in_view_ms = shown.page.evaluate(_BRING_IN, WIDGET_VIEW_SELECTOR)
    if shown.explorers_in_view_ms is not None:
        try:
            shown.page.wait_for_function("window.__bookTiming.widgetsReady !== null", timeout=WIDGET_WAIT_MS)
        except Exception:  # playwright's TimeoutError: the tests report the missing widgets
            pass
    shown.widgets_ready_ms = shown.page.evaluate("window.__bookTiming.widgetsReady")
    wait_for_quiet_network(shown)


def settle(shown: BookPage, *, explorers: bool = True) -> None:
    """Wait for a quiet network (the math was rendered when the book was built), keep what the page
    has fetched by then in ``initial_files`` (a reader at the top of the page loads that much); then,
    unless ``explorers=False``, bring the explorers in (:func:`bring_explorers_in`)."""
    wait_for_quiet_network(shown)
    shown.initial_files = dict(shown.files)
    shown.widgets_ready_ms = shown.page.evaluate("window.__bookTiming.widgetsReady")
    if explorers:
        bring_explorers_in(shown)


def live_explorers(shown: BookPage, rule: str | None = None) -> Locator:
    """The explorers (of ``rule``) of a settled page, all drawn, the first scrolled into view; fails
    if the page's widgets were not drawn within WIDGET_WAIT_MS or it has no such explorer."""
    where = f"{shown.path}{'' if rule is None else f' ({rule})'}"
    assert shown.widgets_ready_ms is not None, f"{where}: the explorers were not drawn within {WIDGET_WAIT_MS} ms"
    roots = shown.page.locator(EXPLORER_SELECTOR if rule is None else f'{EXPLORER_SELECTOR}[data-rule="{rule}"]')
    assert roots.count() >= 1, f"{where}: no explorer on the page"
    roots.first.scroll_into_view_if_needed()
    return roots


INK_STEP = 48  # two greys (0-255) this far apart are different pixels: text, rules, figures on a background
SHOT_TRIES = 3
SHOT_MISMATCH = 0.02  # share of the article's pixels in the first screen that may differ (greys 48 apart)
# The article's columns in the window (CSS px; the sidebars scroll on their own and are left out).
_ARTICLE_COLUMNS = """() => {
  const box = (document.querySelector('article.bd-article') || document.body).getBoundingClientRect();
  return [Math.max(0, box.left), Math.min(window.innerWidth, box.right)];
}"""


def _grey(png: bytes) -> numpy.ndarray:
    import numpy as np
    from PIL import Image

    with Image.open(io.BytesIO(png)) as image:
        return np.asarray(image.convert("L"), dtype=np.int16)


def full_page_screenshot(page: Page, path: Path) -> None:
    """A full-page screenshot of ``page`` (scrolled to the top) into ``path``. Chromium's capture
    beyond the window now and then (under load, ~1 page in 50) draws that one capture in another
    layout (the sidebar gone, the article shifted left, its text cut at the window's edge); so the
    capture's first screen is compared with a screenshot of the window, in the article's columns
    (the sidebars scroll on their own), and one that differs is taken again, at most SHOT_TRIES
    times. The last capture is kept either way: the tests judge it (tests/site/test_screenshots.py);
    a scrollbar's width of reflow can differ every time, and did on one page in ~100."""
    scale = page.evaluate("window.devicePixelRatio")
    left, right = (round(x * scale) for x in page.evaluate(_ARTICLE_COLUMNS))
    for _ in range(SHOT_TRIES):
        window = _grey(page.screenshot())[:, left:right]
        whole = page.screenshot(full_page=True)
        top = _grey(whole)[: window.shape[0], left:right]
        if (abs(top - window[: top.shape[0]]) > INK_STEP).mean() <= SHOT_MISMATCH:
            break
    path.write_bytes(whole)


# --------------------------------------------------------------------------- sizes and the report


@functools.cache
def file_sizes(path: Path) -> tuple[int, int]:
    """``(bytes, gzip -6 bytes)`` of a file: what it costs raw and over a compressing server."""
    data = path.read_bytes()
    return len(data), len(gzip.compress(data, compresslevel=6))


@dataclass
class SiteReport:
    """Rows of per-page figures, printed as a table at the end of the pytest run."""

    title: str = "Site report"
    notes: list[str] = field(default_factory=list)
    rows: dict[str, dict[str, object]] = field(default_factory=dict)

    def add(self, page: str, **columns: object) -> None:
        self.rows.setdefault(page, {}).update(columns)

    def lines(self) -> list[str]:
        if not self.rows:
            return []
        columns = ["page", *dict.fromkeys(key for row in self.rows.values() for key in row)]
        table = [columns] + [
            [page] + [str(row.get(key, "")) for key in columns[1:]] for page, row in self.rows.items()
        ]
        widths = [max(len(row[i]) for row in table) for i in range(len(columns))]
        out = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in table]
        out.insert(1, "  ".join("-" * width for width in widths))
        return out + self.notes


def relative_luminance(rgb: Sequence[float]) -> float:
    """WCAG 2 relative luminance of an sRGB colour given as 0-255 channels."""
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in (v / 255 for v in rgb[:3])]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(foreground: Sequence[float], background: Sequence[float]) -> float:
    """WCAG 2 contrast ratio (1 to 21) of two sRGB colours (0-255 channels)."""
    lighter, darker = sorted((relative_luminance(foreground), relative_luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)
