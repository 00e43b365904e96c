"""The HTML of every built page, as the build wrote it (read with BeautifulSoup: no browser).

No repeated ``<script>``; the search index on the search page alone; the widget host on widget
pages only, with the attributes _config.yml gives it; no asset named on another origin; the answer
boxes' weight. (The launch and download buttons: test_launch_and_download.py.)
"""
from __future__ import annotations

import gzip
import json
import re
from urllib.parse import urlsplit

import pytest

from booksite import HOST_SCRIPT, WIDGET_STATE, WIDGET_VIEW, toc_pages

pytestmark = pytest.mark.book

# The files a page loads by itself: the sources of scripts, images and media, and these links.
SOURCES = "script[src], img[src], source[src], video[src], audio[src], iframe[src]"
LOADED_LINKS = ("stylesheet", "preload", "modulepreload", "icon")
ANSWER = "gradlib.answer.Answer"  # the answer box's _anywidget_id
ANSWER_PAGES = ["chapters/03_matvec.html", "chapters/05_matmul.html", "chapters/09_backprop_mlp.html"]


def scripts(page) -> list[dict]:
    """Each ``<script>`` of a parsed page: its attributes, and its inline text as ``body``."""
    return [{**tag.attrs, "body": tag.get_text()} for tag in page.find_all("script")]


def assets(page) -> list[str]:
    """The URLs of the files a parsed page loads by itself (SOURCES and LOADED_LINKS)."""
    return ([tag["src"] for tag in page.select(SOURCES) if tag["src"]]
            + [tag.get("href", "") for tag in page.find_all("link") if tag.get("rel") in LOADED_LINKS])


def test_no_script_is_included_twice(built_page, book_page):
    """Catches the duplicated `const THEBE_JS_URL` (and any asset loaded twice, e.g. embed-amd.js)."""
    found = scripts(built_page(book_page))
    keys = [s.get("src") or s["body"].strip() for s in found if s.get("type") not in (WIDGET_STATE, WIDGET_VIEW)]
    repeated = sorted({key[:100] for key in keys if keys.count(key) > 1})
    assert repeated == []
    assert sum("THEBE_JS_URL =" in s["body"] for s in found) <= 1


SEARCH_ASSETS = ("searchindex.js", "searchtools.js", "language_data.js")


@pytest.mark.parametrize("book_page", [*toc_pages(), "search.html"], ids=lambda p: p.removesuffix(".html"))
def test_search_index_only_on_the_search_page(built_page, book_page):
    """The search index and Sphinx's search tools (27 KiB gzip) load on search.html alone: the theme's
    search box submits there (search-as-you-type is off), so no other page needs them
    (_ext/book_site/templates/layout.html)."""
    paths = [urlsplit(s["src"]).path for s in scripts(built_page(book_page)) if s.get("src")]
    loaded = sorted(name for name in SEARCH_ASSETS if any(path.endswith(name) for path in paths))
    assert loaded == (sorted(SEARCH_ASSETS) if book_page == "search.html" else []), f"{book_page} loads {loaded}"


def _host_scripts(scripts: list[dict]) -> list[dict]:
    """The widget host's tags (their attributes) among a page's scripts."""
    return [s for s in scripts if urlsplit(s.get("src", "")).path.endswith("_static/" + HOST_SCRIPT)]


def test_only_widget_pages_carry_the_widget_host(built_page, book_page, book_config):
    """A page with widget state carries the widget host once, deferred, with the attributes
    _config.yml gives it, and no other widget script; a page without widgets carries none."""
    found = scripts(built_page(book_page))
    hosts = _host_scripts(found)
    widget_managers = r"require(\.min)?\.js|embed-amd|anywidget|widgets-setup"
    others = [s["src"] for s in found if re.search(widget_managers, s.get("src", ""))]
    assert others == [], "a widget manager script"
    if not any(s.get("type") == WIDGET_STATE for s in found):
        assert hosts == [], "the widget host on a page without widgets"
        return
    assert len(hosts) == 1, "a page with widgets should carry the widget host exactly once"
    wanted = book_config["sphinx"]["config"]["nb_ipywidgets_js"][HOST_SCRIPT]
    assert {k: v for k, v in hosts[0].items() if k not in ("src", "body")} == wanted
    assert wanted.get("data-placeholder", "").strip() and wanted.get("data-placeholder-failed", "").strip()


def test_built_pages_name_no_other_origin(built_page, book_page):
    """No script, stylesheet, preload or image of a page is on another origin (links may be)."""
    found = assets(built_page(book_page))
    assert found, "no asset found: the parser is broken"
    assert [url for url in found if urlsplit(url).scheme or url.startswith("//")] == []


@pytest.mark.parametrize("book_page", ANSWER_PAGES, ids=lambda p: p.split("/")[1].removesuffix(".html"))
def test_boxes_add_at_most_25_kib_gzip_to_a_page(book_html, book_page):
    """The answer boxes (test_answer_browser.py) add at most 25 KiB gzip to a page: the page with its
    boxes against the same page with their widget state and views taken out."""
    html = (book_html / book_page).read_text(encoding="utf-8")
    found = re.search(rf'(<script type="{re.escape(WIDGET_STATE)}">)(.*?)(</script>)', html, re.S)
    state = json.loads(found.group(2))
    boxes = [k for k, v in state["state"].items() if v["state"].get("_anywidget_id") == ANSWER]
    assert len(boxes) >= 2
    for k in boxes:
        del state["state"][k]
    without = html[:found.start(2)] + json.dumps(state) + html[found.end(2):]
    for k in boxes:
        without = re.sub(rf'<script type="{re.escape(WIDGET_VIEW)}">[^<]*"{k}"[^<]*</script>', "", without)
    assert without.count(ANSWER) == 0
    size = len(gzip.compress(html.encode(), 6)) - len(gzip.compress(without.encode(), 6))
    assert size <= 25 * 1024, f"{book_page}: the boxes add {size} bytes gzip"
