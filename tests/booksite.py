"""The built book served locally, and a browser that sees only it: what tests and benchmarks share.

A plain module (no pytest): ``tests/conftest.py`` wraps it in fixtures and ``benchmarks/`` imports it.

- :func:`toc_pages` lists the html pages of ``_toc.yml``; ``ROOT`` is the repository, ``BOOK_ROOT``
  the book's source (the repository, or the source of the build ``$BOOK_HTML`` points at).
- :func:`serve` serves a folder on 127.0.0.1; :func:`launch_browser` starts Chromium (tests/chromium.py).
- :class:`BookSite` opens pages in fresh contexts whose network is the local site only: a request to
  any other origin is aborted (and recorded: the site must need none). Each page records
  ``console_errors``, ``failed_requests``, ``blocked_requests``, ``requests``,
  ``files`` ({url: local file}), ``initial_files`` (before the explorers came in),
  ``explorers_in_view_ms`` and ``widgets_ready_ms``. :func:`settle` waits for a quiet network, then
  brings the explorers into view (:func:`bring_explorers_in`).
- :func:`file_sizes` (raw and gzip -6 bytes), :func:`contrast` (WCAG 2 contrast ratio),
  :class:`SiteReport` (a table printed at the end of a run).
"""
from __future__ import annotations

import contextlib
import functools
import gzip
import http.server
import json
import mimetypes
import os
import re
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

import yaml

import chromium

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
WIDGET_VIEW_SELECTOR = 'script[type="application/vnd.jupyter.widget-view+json"]'

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


# --------------------------------------------------------------------------- server and browser


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        pass


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
def launch_browser() -> Iterator[object]:
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


def _record(page, site_url: str, book_html: Path) -> None:
    """Attach the logs described in the module docstring to ``page`` and route its requests."""
    page.console_errors, page.failed_requests, page.blocked_requests = [], [], []
    page.requests, page.files = [], {}
    page.initial_files, page.explorers_in_view_ms, page.widgets_ready_ms = None, None, None
    page.in_flight, page.last_network_activity = set(), time.monotonic()

    def route(route, request) -> None:
        url = request.url
        page.requests.append(url)
        parts = urlsplit(url)
        if parts.hostname in LOCAL_HOSTS:
            local = book_html / unquote(parts.path).lstrip("/")
            page.files[url] = local / "index.html" if local.is_dir() else local
            route.continue_()
            return
        page.blocked_requests.append(url)
        route.abort("blockedbyclient")

    def on_console(message) -> None:
        if message.type == "error":
            where = message.location or {}
            page.console_errors.append(f"{message.text} ({where.get('url', '')}:{where.get('lineNumber', '')})")

    def on_response(response) -> None:
        if response.status >= 400:
            page.failed_requests.append(f"HTTP {response.status} {response.url}")

    def network(request, done: bool) -> None:
        (page.in_flight.discard if done else page.in_flight.add)(request)
        page.last_network_activity = time.monotonic()

    page.route("**/*", route)
    page.on("request", lambda request: network(request, False))
    page.on("requestfinished", lambda request: network(request, True))
    page.on("requestfailed", lambda request: network(request, True))
    page.on("console", on_console)
    page.on("pageerror", lambda error: page.console_errors.append(f"uncaught: {error}"))
    page.on("requestfailed", lambda request: page.failed_requests.append(f"{request.failure} {request.url}"))
    page.on("response", on_response)


class BookSite:
    """Opens pages of the served book in fresh browser contexts routed as described above."""

    def __init__(self, browser, site_url: str, book_html: Path):
        self.browser, self.url, self.html = browser, site_url, book_html

    def open(self, path: str | None, *, theme: str = "light", wait: bool = True, width: int = 1280,
             height: int = 900):
        """A new page (in its own context: close it with ``page.context.close()``) at ``path``."""
        context = self.browser.new_context(viewport={"width": width, "height": height}, service_workers="block")
        context.add_init_script(_WIDGET_TIMING)
        context.add_init_script(f"try {{ localStorage.setItem('mode', {json.dumps(theme)}); }} catch (e) {{}}")
        page = context.new_page()
        _record(page, self.url, self.html)
        if path is not None:
            page.goto(self.url + path, wait_until="load")
            if wait:
                settle(page)
        return page


def wait_for_quiet_network(page, timeout_ms: int = WIDGET_WAIT_MS) -> None:
    """Until no request has been in flight for QUIET_MS (playwright's ``networkidle`` fires once
    per navigation; this one can be awaited again after the page starts loading more)."""
    deadline = time.monotonic() + timeout_ms / 1000
    while time.monotonic() < deadline:
        if not page.in_flight and time.monotonic() - page.last_network_activity >= QUIET_MS / 1000:
            return
        page.wait_for_timeout(50)


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


def bring_explorers_in(page) -> None:
    """Scroll every widget output into view, as a reader does, then wait for every widget view to
    render (_assets/widget-host.js draws them as soon as the page is parsed: usually done by now),
    the network to be quiet. Sets ``page.explorers_in_view_ms`` (None on a
    page without widgets) and ``page.widgets_ready_ms``."""
    page.explorers_in_view_ms = page.evaluate(_BRING_IN, WIDGET_VIEW_SELECTOR)
    if page.explorers_in_view_ms is not None:
        try:
            page.wait_for_function("window.__bookTiming.widgetsReady !== null", timeout=WIDGET_WAIT_MS)
        except Exception:  # playwright's TimeoutError: the tests report the missing widgets
            pass
    page.widgets_ready_ms = page.evaluate("window.__bookTiming.widgetsReady")
    wait_for_quiet_network(page)


def settle(page, *, explorers: bool = True) -> None:
    """Wait for a quiet network (the math was rendered when the book was built), keep what the page has fetched by
    then in ``page.initial_files`` (a reader at the top of the page loads that much); then, unless
    ``explorers=False``, bring the explorers in (:func:`bring_explorers_in`)."""
    wait_for_quiet_network(page)
    page.initial_files = dict(page.files)
    page.widgets_ready_ms = page.evaluate("window.__bookTiming.widgetsReady")
    if explorers:
        bring_explorers_in(page)


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


# --------------------------------------------------------------------------- display math a reader can see

#: A4 in CSS px (96 per inch), and the printable width with the 15 mm side margins book.css sets.
A4_WIDTH_PX = 210 / 25.4 * 96
PRINT_MARGIN_MM = 15
A4_PRINTABLE_WIDTH_PX = (210 - 2 * PRINT_MARGIN_MM) / 25.4 * 96

# Every display equation (KaTeX's .katex-display: its .katex-html, the drawn formula) and every
# equation number, with each part of it that a reader cannot see. Walking up from the formula, each
# ancestor whose overflow clips (anything but `visible`) either scrolls (overflow auto or scroll, on
# screen only: on paper nothing scrolls) -- then scrolled to both ends it must bring the formula's
# left and right edges into its box -- or it does not, and then the formula must lie inside its
# padding box. Past a clipping box only what that box shows goes on up. At the top the formula must
# lie inside the window's width (the page never scrolls sideways: checked too). Folded solutions
# are unfolded first (the toggle only hides them). Returns the cuts, in CSS px.
DISPLAY_MATH_CUTS = r"""
async (printing) => {
  document.querySelectorAll('.toggle-hidden').forEach((el) => el.classList.remove('toggle-hidden'));
  document.querySelectorAll('details').forEach((el) => { el.open = true; });
  await document.fonts.ready;
  await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
  const TOLERANCE = 1;
  const label = (el) => {
    const tex = el.closest('.katex-display')?.querySelector('annotation')?.textContent
      || el.closest('.math')?.textContent || el.textContent;
    return tex.replace(/\s+/g, ' ').trim().slice(0, 70);
  };
  const extentOf = (part) => {
    const range = document.createRange();
    range.selectNodeContents(part);
    const r = range.getBoundingClientRect();
    return { left: r.left, right: r.right, width: r.width };
  };
  const padding = (el) => {
    const r = el.getBoundingClientRect();
    const left = r.left + el.clientLeft;
    return { left, right: left + el.clientWidth };
  };
  const parts = [
    ...Array.from(document.querySelectorAll('.katex-display .katex-html'), (el) => ({ el, kind: 'formula' })),
    ...Array.from(document.querySelectorAll('div.math .eqno'), (el) => ({ el, kind: 'number' })),
  ].filter(({ el }) => el.getClientRects().length > 0);
  const cuts = [];
  for (const { el, kind } of parts) {
    let extent = extentOf(el);  // where the part can appear (inner scroll boxes moved to either end)
    if (extent.width === 0) continue;
    const where = [];
    for (let box = kind === 'formula' ? el : el.parentElement; box && box !== document.documentElement;
         box = box.parentElement) {
      const style = getComputedStyle(box);
      if (style.overflowX === 'visible' && style.overflowY === 'visible') continue;
      const area = padding(box);
      const scrolls = !printing && ['auto', 'scroll'].includes(style.overflowX);
      let { left, right } = extent;
      if (scrolls) {  // scrolled to its start and to its end, how far the part moves
        const kept = box.scrollLeft, now = extentOf(el);
        box.scrollLeft = -1e7;
        left += extentOf(el).left - now.left;
        box.scrollLeft = 1e7;
        right += extentOf(el).right - now.right;
        box.scrollLeft = kept;
      }
      const cutLeft = area.left - left, cutRight = right - area.right;
      if (cutLeft > TOLERANCE || cutRight > TOLERANCE) {
        where.push(`${box.tagName.toLowerCase()}.${[...box.classList].join('.')} (overflow ${style.overflowX}`
          + `${scrolls ? ', scrolled to both ends' : ''}) cuts ${Math.max(0, Math.round(cutLeft))} px left,`
          + ` ${Math.max(0, Math.round(cutRight))} px right`);
      }
      left = Math.max(left, area.left);
      right = Math.min(right, area.right);
      extent = { left, right, width: right - left };
      if (extent.width <= 0) break;
    }
    const page = document.documentElement.clientWidth;
    if (extent.width > 0 && (extent.left < -TOLERANCE || extent.right > page + TOLERANCE)) {
      where.push(`the window (${page} px) cuts ${Math.max(0, Math.round(-extent.left))} px left, `
        + `${Math.max(0, Math.round(extent.right - page))} px right`);
    }
    if (where.length) cuts.push({ kind, tex: label(el), where });
  }
  const root = document.documentElement;
  return {
    parts: parts.length,
    formulas: parts.filter((p) => p.kind === 'formula').length,
    sideways: Math.max(root.scrollWidth, document.body.scrollWidth) - root.clientWidth,
    cuts,
  };
}
"""


def display_math_cuts(page, *, printing: bool = False) -> dict:
    """Run :data:`DISPLAY_MATH_CUTS` on ``page`` as it is laid out now (print media: ``printing``)."""
    return page.evaluate(DISPLAY_MATH_CUTS, printing)
