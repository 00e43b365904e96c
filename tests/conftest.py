"""Fixtures over tests/booksite.py (the plain helpers tests and benchmarks share).

Tests live by what they need: ``lib/`` gradlib alone (``make test-lib``), ``book/`` the notebooks
and the book build, ``site/`` the built book in Chromium, ``tooling/`` installs and the workflow.
A ``book_page`` argument parametrises a test over every page of ``_toc.yml``. ``book_html`` builds
the book once per run, for all of xdist's workers (``-W -n --keep-going``; run_once.py);
``BOOK_HTML=<folder>/_build/html`` tests that build instead.
``open_page(path, theme=..., wait=..., width=..., height=...)`` opens a page as
:class:`booksite.BookSite` does and returns its :class:`booksite.BookPage` (closed after the test).
``tests/site/conftest.py`` adds ``visits`` (each page seen once a run) and ``open_explorer``.
"""
from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

from booksite import (
    BOOK_ROOT,
    ROOT,
    BookPage,
    BookSite,
    SiteReport,
    launch_browser,
    serve,
    toc_pages,
)
from run_once import once_per_run

BUILD_TIMEOUT_S = 1800


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    explicit = any("book_page" in str(m.args[0]) for m in metafunc.definition.iter_markers("parametrize"))
    if "book_page" in metafunc.fixturenames and not explicit:
        metafunc.parametrize("book_page", toc_pages(), ids=lambda p: p.removesuffix(".html"))


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """Path of the repository."""
    return ROOT


@pytest.fixture(scope="session")
def book_root() -> Path:
    """The book's source folder: the repository (or, with BOOK_HTML, the source of that build)."""
    return BOOK_ROOT


@pytest.fixture(scope="session")
def book_config(book_root: Path) -> dict:
    """``_config.yml`` of the book, parsed."""
    return yaml.safe_load((book_root / "_config.yml").read_text(encoding="utf-8"))


def _build_book(repo_root: Path) -> dict:
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    command = [str(jupyter_book), "build", ".", "-W", "-n", "--keep-going"]
    done = subprocess.run(command, cwd=repo_root, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S)
    if done.returncode == 0:
        return {"failure": None}
    log = done.stdout + done.stderr
    problems = [line for line in log.splitlines() if "WARNING" in line or "ERROR" in line]
    return {"failure": f"`{' '.join(command[1:])}` failed (exit {done.returncode}):\n"
                       + "\n".join(problems[-40:] or log.splitlines()[-40:])}


@pytest.fixture(scope="session")
def book_html(repo_root: Path) -> Path:
    """The built site's html folder: ``$BOOK_HTML`` if set, else a fresh ``-W -n`` build in _build/
    (once per run, however many xdist workers ask)."""
    given = os.environ.get("BOOK_HTML")
    if given:
        html = Path(given).resolve()
        assert (html / "index.html").is_file(), f"BOOK_HTML={given} is not a built book's html folder"
        return html
    failure = once_per_run("book-build", lambda: _build_book(repo_root))["failure"]
    if failure:
        pytest.fail(failure, pytrace=False)
    return repo_root / "_build" / "html"


_EARLY_BUILD = pytest.StashKey[threading.Thread]()


def _may_need_the_book(config: pytest.Config) -> bool:
    """Whether the paths this run was given reach tests/book or tests/site (and BOOK_HTML is unset)."""
    if os.environ.get("BOOK_HTML"):
        return False
    wanted = [ROOT / "tests" / "book", ROOT / "tests" / "site"]
    for arg in config.args:
        path = (config.invocation_params.dir / arg.split("::")[0]).resolve()
        if any(w.is_relative_to(path) or path.is_relative_to(w) for w in wanted):
            return True
    return False


def pytest_configure(config: pytest.Config) -> None:
    """The xdist controller of a run that may need the book starts building it at once, in a thread,
    as ``book_html`` would (once_per_run): the workers' first book test then finds it built or
    under way, while gradlib's tests ran beside the build."""
    controller = getattr(config.option, "numprocesses", None) and not hasattr(config, "workerinput")
    if controller and _may_need_the_book(config):
        config.option.testrunuid = config.option.testrunuid or uuid.uuid4().hex
        build = threading.Thread(target=once_per_run, args=("book-build", lambda: _build_book(ROOT)),
                                 kwargs={"run": config.option.testrunuid}, daemon=True)
        build.start()
        config.stash[_EARLY_BUILD] = build


def pytest_unconfigure(config: pytest.Config) -> None:
    if (build := config.stash.get(_EARLY_BUILD, None)) is not None:
        build.join()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests that need the built book run last (a stable sort): under ``make test``'s workers the
    others run gradlib's tests while the book builds. Among them a ``long`` file comes first, so
    that no worker is left running it alone at the end."""
    items.sort(key=lambda item: ("book_html" in getattr(item, "fixturenames", ()),
                                 item.get_closest_marker("long") is None))


@pytest.fixture(scope="session")
def screenshot_dir(book_html: Path) -> Path:
    """``_build/screenshots/`` (next to the html folder), emptied of older screenshots once per run."""
    folder = book_html.parent / "screenshots"

    def empty() -> dict:
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.png"):
            old.unlink()
        return {}

    once_per_run("screenshots", empty)
    return folder


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


@pytest.fixture(scope="session")
def site_url(book_html: Path) -> Iterator[str]:
    """``http://127.0.0.1:<port>/`` serving the built book, for the whole session."""
    with serve(book_html) as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    """Chromium through playwright, for the whole session (which one: tests/chromium.py)."""
    with launch_browser() as launched:
        yield launched


@pytest.fixture(scope="session")
def book_site(browser, site_url: str, book_html: Path) -> BookSite:
    """:class:`BookSite`: ``book_site.open(path, theme=..., wait=...)``; the caller closes the page.
    For module- or session-scoped page caches; tests mostly want ``open_page``."""
    return BookSite(browser, site_url, book_html)


@pytest.fixture
def open_page(book_site: BookSite) -> Iterator[Callable[..., BookPage]]:
    """Factory ``open_page(path, *, theme="light", wait=True, width=1280, height=900) -> BookPage``
    (``path=None``: a blank page); pages closed after the test."""
    pages: list[BookPage] = []

    def open_(path: str | None, **options) -> BookPage:
        pages.append(book_site.open(path, **options))
        return pages[-1]

    yield open_
    for opened in pages:
        opened.close()


_REPORT_KEY = pytest.StashKey[SiteReport]()


@pytest.fixture(scope="session")
def site_report(request: pytest.FixtureRequest) -> SiteReport:
    """The session's :class:`SiteReport` (printed in the terminal summary)."""
    return request.config.stash.setdefault(_REPORT_KEY, SiteReport())


def pytest_sessionfinish(session: pytest.Session) -> None:
    """An xdist worker hands its site report to the controller (``pytest_testnodedown``)."""
    report = session.config.stash.get(_REPORT_KEY, None)
    if report and hasattr(session.config, "workeroutput"):
        session.config.workeroutput["site_report"] = dataclasses.asdict(report)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    """The controller merges each worker's site report into its own."""
    given = getattr(node, "workeroutput", {}).get("site_report")
    if given:
        report = node.config.stash.setdefault(_REPORT_KEY, SiteReport())
        report.title = given["title"]
        report.notes[:] = given["notes"]
        for page, columns in given["rows"].items():
            report.add(page, **columns)


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    report = config.stash.get(_REPORT_KEY, None)
    if report and report.rows:
        terminalreporter.section(report.title)
        for line in report.lines():
            terminalreporter.write_line(line)
