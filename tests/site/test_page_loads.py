"""Every page of the book loads offline and cleanly, in Chromium against the built book on 127.0.0.1.

Each page of ``_toc.yml`` is visited once per colour theme (light, dark: ``visits``, tests/site/conftest.py)
with every request to any other origin aborted: the site must need none (KaTeX's fonts, the icon
fonts and the widget host are all served by the site itself). Checked: no console error or failed
request, no request leaving the site, the widget host loaded once by widget pages and by no other
page, header icons drawn from the cut-down icon fonts (the theme's full fonts never fetched), and
the page weight budget (every file fetched, explorers live, gzip; the table is printed at the end).
Times (DOM ready, explorer live) are measured by benchmarks/bench_site.py, not asserted here.
"""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from booksite import HOST_SCRIPT, LOCAL_HOSTS, file_sizes

pytestmark = [pytest.mark.book, pytest.mark.browser]

# Budget of a page (issues 10, 16): every file it fetched, explorers live, gzip -6 as a static host sends it.
PAGE_BUDGET_GZIP_BYTES = 400 * 1024


def test_no_console_error_and_no_failed_request(visits, book_page):
    for theme in ("light", "dark"):
        visit = visits(book_page, theme)
        assert visit.console_errors == [], f"{theme}: console errors on {book_page}"
        assert visit.failed_requests == [], f"{theme}: failed or blocked requests on {book_page}"


def test_no_request_leaves_the_site(visits, book_page):
    """Self-contained: every file a page asks for, explorers live, comes from its own origin."""
    for theme in ("light", "dark"):
        visit = visits(book_page, theme)
        assert visit.requests, "no request recorded"
        assert [url for url in visit.requests if urlsplit(url).hostname not in LOCAL_HOSTS] == [], theme
        assert visit.blocked_requests == []


def _gzip_bytes(files: dict[str, Path]) -> int:
    return sum(file_sizes(path)[1] for path in files.values() if path.is_file())


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
