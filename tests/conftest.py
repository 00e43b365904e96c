"""Shared fixtures: the built book, a local web server for it, and a real browser that sees only them.

Fixtures (all documented again on their definitions)
----------------------------------------------------
``repo_root``    (session) Path of the repository.
``book_root``    (session) The book's source folder: the repository, or -- when BOOK_HTML points at
                 ``<folder>/_build/html`` and ``<folder>/_toc.yml`` exists -- that folder.
``book_config``  (session) ``_config.yml`` of the book, parsed.
``book_html``    (session) Path of the built site's ``html`` folder. Builds the book once per session
                 with ``jupyter-book build . -W -n --keep-going`` into ``_build/`` and fails the tests
                 that need it if the build fails. Set ``BOOK_HTML=/path/to/_build/html`` to test an
                 existing build instead (fast iteration; ``make test`` never sets it).
``screenshot_dir`` (session) ``_build/screenshots/`` next to ``book_html`` (older PNGs removed).
``node_modules`` (session) Path of ``node_modules/`` after ``npm ci``; fails if it is missing or if an
                 installed package is not at the exact version ``package.json`` pins.
``npm_cdn``      (session) :class:`NpmCdn`: maps a CDN URL (``cdn.jsdelivr.net/npm/``, ``unpkg.com/``)
                 to the file in ``node_modules`` that answers it, if the installed version satisfies
                 the version the URL asks for.
``site_url``     (session) ``http://127.0.0.1:<free port>/`` serving ``book_html`` (a threaded
                 ``http.server`` stopped at the end of the session).
``browser``      (session) Debian's Chromium (``/usr/bin/chromium``, or ``$CHROMIUM``) driven by
                 playwright. ``playwright install`` is never needed nor run.
``book_site``    (session) :class:`BookSite`; ``book_site.open(path, *, theme="light", wait=True,
                 width=1280, height=900)`` opens a page like ``open_page`` does, for fixtures that
                 cache pages across tests (the caller closes ``page.context``).
``open_page``    (function) factory ``open_page(path, *, theme="light", wait=True, ...) -> Page``: a
                 new browser context whose network is the local site only: requests to 127.0.0.1
                 pass, known CDN URLs are answered from ``node_modules`` (``npm_cdn``), everything
                 else is aborted. The returned playwright ``Page`` carries what happened, for
                 assertions:
                   ``page.console_errors``  console errors and uncaught exceptions (``pageerror``)
                   ``page.failed_requests`` requests that failed, were aborted, or got HTTP >= 400
                   ``page.blocked_requests`` the aborted requests to other hosts (also failed)
                   ``page.npm_served``      CDN URLs answered from node_modules
                   ``page.requests``        every requested URL, in order (repeats included)
                   ``page.files``           {url: local file} of every answered request
                   ``page.initial_files``   ``page.files`` as it was before the explorers were
                                            brought in: what a reader at the top of the page loads
                   ``page.explorers_in_view_ms`` ms from navigation start until the first widget
                                            was scrolled into view (None: not brought in)
                   ``page.widgets_ready_ms`` ms from navigation start until every embedded widget
                                            view had rendered content (None: not within the wait)
                 With ``wait=True`` it returns after ``settle(page)``: the ``load`` event,
                 MathJax's first typeset and network idle, then the explorers brought in
                 (``bring_explorers_in``), rendered, and the network quiet again.
                 ``theme="dark"`` stores the theme's mode before the page loads, as the theme's own
                 switch does.
``page``         (function) a blank page from the same factory (``open_page`` with no navigation).
``site_report``  (session) :class:`SiteReport`: tests add one row per page (any columns); the
                 table is printed in pytest's terminal summary (no ``-s`` needed).

Helpers for tests (import from conftest): ``toc_pages()`` (the html pages of _toc.yml),
``settle(page, *, explorers=True)`` (the waiting ``open_page`` does after navigation; with
``explorers=False`` it stops before scrolling), ``bring_explorers_in(page)`` (scroll every widget
output into view, as a reader does, and wait for the widgets: the widget manager is loaded only
when a reader nears a widget, see _assets/widgets-setup.js), ``file_sizes(path)`` (bytes raw and
gzipped).

Test parametrisation: a test function with a ``book_page`` argument runs once per page listed
in the book's ``_toc.yml``: ``"intro.html"``, ``"chapters/00_conventions.html"``, ...

Markers (registered in pyproject.toml): ``@pytest.mark.book`` for tests of the built book,
``@pytest.mark.browser`` for tests that drive Chromium.
"""

from __future__ import annotations

import functools
import gzip
import http.server
import json
import mimetypes
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]


def _book_root() -> Path:
    """The book's source folder: the repository, or the source of the build BOOK_HTML points at
    (``<source>/_build/html``, when ``<source>/_toc.yml`` exists: a trimmed copy for iteration)."""
    given = os.environ.get("BOOK_HTML")
    if given and (Path(given).resolve().parents[1] / "_toc.yml").is_file():
        return Path(given).resolve().parents[1]
    return REPO_ROOT


BOOK_ROOT = _book_root()
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
# CDN prefixes whose URLs name an npm package: <prefix><name>@<version range>/<path in package>
NPM_CDNS = ("https://cdn.jsdelivr.net/npm/", "https://unpkg.com/")
LOCAL_HOSTS = {"127.0.0.1"}
BUILD_TIMEOUT_S = 1800
WIDGET_WAIT_MS = 20_000
QUIET_MS = 500  # network idle: no request in flight for this long (playwright's networkidle rule)
WIDGET_VIEW_SELECTOR = 'script[type="application/vnd.jupyter.widget-view+json"]'

mimetypes.add_type("text/javascript", ".js")
mimetypes.add_type("font/woff2", ".woff2")
mimetypes.add_type("font/woff", ".woff")


# --------------------------------------------------------------------------- the book


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


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    explicit = any("book_page" in str(m.args[0]) for m in metafunc.definition.iter_markers("parametrize"))
    if "book_page" in metafunc.fixturenames and not explicit:
        metafunc.parametrize("book_page", toc_pages(), ids=lambda p: p.removesuffix(".html"))


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """Path of the repository."""
    return REPO_ROOT


@pytest.fixture(scope="session")
def book_root() -> Path:
    """The book's source folder: the repository (or, with BOOK_HTML, the source of that build)."""
    return BOOK_ROOT


@pytest.fixture(scope="session")
def book_config(book_root: Path) -> dict:
    """``_config.yml`` of the book, parsed."""
    return yaml.safe_load((book_root / "_config.yml").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def book_html(repo_root: Path) -> Path:
    """The built site's html folder: ``$BOOK_HTML`` if set, else a fresh ``-W -n`` build in _build/."""
    given = os.environ.get("BOOK_HTML")
    if given:
        html = Path(given).resolve()
        assert (html / "index.html").is_file(), f"BOOK_HTML={given} is not a built book's html folder"
        return html
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    command = [str(jupyter_book), "build", ".", "-W", "-n", "--keep-going"]
    done = subprocess.run(
        command, cwd=repo_root, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S
    )
    if done.returncode != 0:
        log = done.stdout + done.stderr
        problems = [line for line in log.splitlines() if "WARNING" in line or "ERROR" in line]
        pytest.fail(
            f"`{' '.join(command[1:])}` failed (exit {done.returncode}):\n"
            + "\n".join(problems[-40:] or log.splitlines()[-40:]),
            pytrace=False,
        )
    return repo_root / "_build" / "html"


@pytest.fixture(scope="session")
def screenshot_dir(book_html: Path) -> Path:
    """``_build/screenshots/`` (next to the html folder), emptied of older screenshots."""
    folder = book_html.parent / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    return folder


# --------------------------------------------------------------------------- local copies of CDN assets


@pytest.fixture(scope="session")
def node_modules(repo_root: Path) -> Path:
    """``node_modules/`` as ``npm ci`` installs it from package.json, checked against the pins."""
    folder = repo_root / "node_modules"
    pins = json.loads((repo_root / "package.json").read_text())["devDependencies"]
    missing = [name for name in pins if not (folder / name / "package.json").is_file()]
    assert not missing, f"npm packages not installed: {missing}; run `npm ci` (make test does)"
    wrong = {
        name: installed
        for name, pin in pins.items()
        if (installed := json.loads((folder / name / "package.json").read_text())["version"]) != pin
    }
    assert not wrong, f"node_modules differs from package.json pins {wrong}; run `npm ci`"
    return folder


class NpmCdn:
    """Answers npm-CDN URLs (``<cdn>/<name>@<range>/<path>``) from a local ``node_modules``.

    A URL is answered only if ``<name>`` is installed, its version satisfies ``<range>`` (checked by
    npm's own ``semver`` package, so ``3``, ``~0.11.*`` and ``1.0.15`` mean what the CDN makes of
    them) and ``<path>`` is a file in the package.
    """

    def __init__(self, node_modules: Path):
        self.root = node_modules

    @staticmethod
    def split(url: str) -> tuple[str, str, str] | None:
        """``(name, range, path)`` of an npm-CDN URL, or None for any other URL."""
        prefix = next((p for p in NPM_CDNS if url.startswith(p)), None)
        if prefix is None:
            return None
        rest = unquote(urlsplit(url).path)[len(urlsplit(prefix).path) :]
        scope, _, rest = rest.partition("/") if rest.startswith("@") else ("", "", rest)
        spec, _, path = rest.partition("/")
        name, _, wanted = spec.partition("@")
        return (f"{scope}/{name}" if scope else name), (wanted or "latest"), path

    @functools.lru_cache(maxsize=None)
    def installed_version(self, name: str) -> str | None:
        manifest = self.root / name / "package.json"
        return json.loads(manifest.read_text())["version"] if manifest.is_file() else None

    @functools.lru_cache(maxsize=None)
    def satisfies(self, version: str, wanted: str) -> bool:
        script = "process.stdout.write(String(require('semver').satisfies(process.argv[1], process.argv[2])))"
        done = subprocess.run(
            ["node", "-e", script, version, wanted],
            cwd=self.root.parent, capture_output=True, text=True, check=True,
        )
        return done.stdout == "true"

    def resolve(self, url: str) -> Path | None:
        """The local file that answers ``url``, or None (not an npm-CDN URL, or no matching copy)."""
        parts = self.split(url)
        if parts is None:
            return None
        name, wanted, path = parts
        version = self.installed_version(name)
        if version is None or not (wanted == "latest" or self.satisfies(version, wanted)):
            return None
        file = (self.root / name / path).resolve()
        return file if file.is_file() and (self.root / name).resolve() in file.parents else None


@pytest.fixture(scope="session")
def npm_cdn(node_modules: Path) -> NpmCdn:
    """:class:`NpmCdn` over the project's node_modules."""
    return NpmCdn(node_modules)


# --------------------------------------------------------------------------- server and browser


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        pass


@pytest.fixture(scope="session")
def site_url(book_html: Path) -> Iterator[str]:
    """``http://127.0.0.1:<port>/`` serving the built book, for the whole session."""
    handler = functools.partial(_QuietHandler, directory=str(book_html))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="book-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser():
    """Chromium (Debian's) through playwright, for the whole session."""
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).is_file(), f"{CHROMIUM} missing: apt-get install chromium (make test does)"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


# Runs in every page before its own scripts: records when every embedded widget view has
# rendered content (the html-manager puts a .widget-subarea before each view's <script>).
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


def _record(page, site_url: str, book_html: Path, npm_cdn: NpmCdn) -> None:
    """Attach the logs described in the module docstring to ``page`` and route its requests."""
    page.console_errors, page.failed_requests, page.blocked_requests = [], [], []
    page.npm_served, page.requests, page.files = [], [], {}
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
        file = npm_cdn.resolve(url)
        if file is not None:
            page.npm_served.append(url)
            page.files[url] = file
            content_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
            route.fulfill(
                path=file,
                headers={"Content-Type": content_type, "Access-Control-Allow-Origin": "*"},
            )
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

    def __init__(self, browser, site_url: str, book_html: Path, npm_cdn: NpmCdn):
        self.browser, self.url, self.html, self.npm_cdn = browser, site_url, book_html, npm_cdn

    def open(self, path: str | None, *, theme: str = "light", wait: bool = True, width: int = 1280,
             height: int = 900):
        """A new page (in its own context: close it with ``page.context.close()``) at ``path``."""
        context = self.browser.new_context(viewport={"width": width, "height": height}, service_workers="block")
        context.add_init_script(_WIDGET_TIMING)
        context.add_init_script(f"try {{ localStorage.setItem('mode', {json.dumps(theme)}); }} catch (e) {{}}")
        page = context.new_page()
        _record(page, self.url, self.html, self.npm_cdn)
        if path is not None:
            page.goto(self.url + path, wait_until="load")
            if wait:
                settle(page)
        return page


@pytest.fixture(scope="session")
def book_site(browser, site_url: str, book_html: Path, npm_cdn: NpmCdn) -> BookSite:
    """:class:`BookSite`: ``book_site.open(path, theme=..., wait=...)``; the caller closes the context.
    For module- or session-scoped page caches; tests mostly want ``open_page``."""
    return BookSite(browser, site_url, book_html, npm_cdn)


@pytest.fixture
def open_page(book_site: BookSite):
    """Factory ``open_page(path, *, theme="light", wait=True, ...)``; contexts closed after the test."""
    pages = []

    def open_(path: str | None, **options):
        pages.append(book_site.open(path, **options))
        return pages[-1]

    yield open_
    for opened in pages:
        opened.context.close()


def _wait_for_mathjax(page) -> None:
    """Until MathJax's typesetting so far is done (its first pass, or widget labels queued since)."""
    page.evaluate(
        "async () => { const m = window.MathJax; if (m && m.startup && m.startup.promise)"
        " { await m.startup.promise; } }"
    )


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
    """Scroll every widget output into view, as a reader does (the widget manager is loaded only
    when a reader nears a widget), then wait for every widget view to render, the network to be
    quiet and MathJax to typeset the widgets' labels. Sets ``page.explorers_in_view_ms`` (None on a
    page without widgets) and ``page.widgets_ready_ms``."""
    page.explorers_in_view_ms = page.evaluate(_BRING_IN, WIDGET_VIEW_SELECTOR)
    if page.explorers_in_view_ms is not None:
        try:
            page.wait_for_function("window.__bookTiming.widgetsReady !== null", timeout=WIDGET_WAIT_MS)
        except Exception:  # playwright's TimeoutError: the tests report the missing widgets
            pass
    page.widgets_ready_ms = page.evaluate("window.__bookTiming.widgetsReady")
    wait_for_quiet_network(page)
    _wait_for_mathjax(page)  # widget labels are typeset after the widgets render


def settle(page, *, explorers: bool = True) -> None:
    """Wait for MathJax's first typeset and network idle, and keep what the page has fetched by
    then in ``page.initial_files`` (a reader at the top of the page loads that much); then, unless
    ``explorers=False``, bring the explorers in (:func:`bring_explorers_in`)."""
    _wait_for_mathjax(page)
    page.wait_for_load_state("networkidle")
    wait_for_quiet_network(page)
    page.initial_files = dict(page.files)
    page.widgets_ready_ms = page.evaluate("window.__bookTiming.widgetsReady")
    if explorers:
        bring_explorers_in(page)


@pytest.fixture
def page(open_page):
    """A blank page with the routing and logs of ``open_page`` (navigate it yourself)."""
    return open_page(None)


# --------------------------------------------------------------------------- sizes and the report


@functools.lru_cache(maxsize=None)
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
        out = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)) for row in table]
        out.insert(1, "  ".join("-" * width for width in widths))
        return out + self.notes


_REPORT_KEY = pytest.StashKey[SiteReport]()


@pytest.fixture(scope="session")
def site_report(request: pytest.FixtureRequest) -> SiteReport:
    """The session's :class:`SiteReport` (printed in the terminal summary)."""
    return request.config.stash.setdefault(_REPORT_KEY, SiteReport())


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    report = config.stash.get(_REPORT_KEY, None)
    if report and report.rows:
        terminalreporter.section(report.title)
        for line in report.lines():
            terminalreporter.write_line(line)
