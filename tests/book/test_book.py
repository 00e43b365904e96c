"""The built book: every page in the TOC exists, executed cleanly, and shows what each chapter promises."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from booksite import ROOT, RULE_PAGES, toc_pages

PAGES = [p.removesuffix(".html") for p in toc_pages()]
RULE_PAGES = [p.removesuffix(".html") for p in RULE_PAGES] + ["chapters/09_backprop_mlp"]  # 8: the rules put together

pytestmark = pytest.mark.book


@pytest.mark.parametrize("page", PAGES)
def test_page_was_built_without_errors(book_html, page):
    html = (book_html / f"{page}.html").read_text()
    assert "Traceback (most recent call last)" not in html
    assert not re.search(r'class="output (traceback|stderr)', html), "an error or stderr output on the page"

@pytest.mark.parametrize("page", RULE_PAGES)
def test_rule_page_has_the_promised_parts(book_html, page):
    """Each rule chapter: a boxed rule, a passing and a failing check, a figure, an explorer, 3+
    exercises with solutions."""
    html = (book_html / f"{page}.html").read_text()
    assert re.search(r'class="[^"]*\btheorem\b', html), "no boxed rule (prf:theorem)"
    exercises = html.count('class="exercise') + html.count('class="admonition exercise')
    assert exercises >= 3 or len(re.findall(r'id="ex-', html)) >= 3
    assert len(re.findall(r'class="[^"]*\bsolution\b', html)) >= 3, "fewer than three solutions"
    assert "<figure" in html and re.search(r'<img[^>]+alt="[^"]{20,}"', html), "no figure with alt text"
    assert "application/vnd.jupyter.widget-view+json" in html, "no explorer widget"
    verdicts = set(re.findall(r'class="gradlib-summary"><strong>(PASS|FAIL)</strong>', html))
    assert verdicts == {"PASS", "FAIL"}, "expected a displayed passing check and a deliberately failing one"


def test_chapters_rerun_when_gradlib_changes(book_html):
    """Every notebook page depends on gradlib/, so an incremental build re-executes it after a library edit."""
    import pickle

    with open(book_html.parent / ".doctrees" / "environment.pickle", "rb") as stream:
        env = pickle.load(stream)
    library = {f"gradlib/{p.name}" for p in (ROOT / "gradlib").glob("*.py")}
    notebooks = [p for p in PAGES if p.startswith("chapters/")]
    for page in notebooks:
        recorded = {str(Path(d)).replace("\\", "/").split("/gradlib/")[-1] for d in env.dependencies[page]}
        assert {name.removeprefix("gradlib/") for name in library} <= recorded, page
