"""BookSite reuses a browser context once its page is closed (tests/booksite.py): the next page in
it must start as a fresh one would, with nothing left in storage and every file fetched again."""
from __future__ import annotations

import pytest

pytestmark = [pytest.mark.book, pytest.mark.browser]

PAGE = "chapters/03_matvec.html"  # it has an answer box, which keeps typed text in localStorage
WIDTH, HEIGHT = 555, 666  # a window no other test opens: the contexts here are this test's own


def test_a_reused_context_starts_with_empty_storage_and_an_empty_cache(book_site):
    first = book_site.open(PAGE, width=WIDTH, height=HEIGHT)
    first.page.evaluate("() => { localStorage.setItem('left', 'over'); sessionStorage.setItem('left', 'over'); }")
    context, fetched = first.page.context, sorted(first.files)
    first.close()
    assert book_site.idle_contexts[WIDTH, HEIGHT] == [context]

    second = book_site.open(PAGE, theme="dark", width=WIDTH, height=HEIGHT)
    try:
        assert second.page.context is context, "the context was not reused"
        stored = second.page.evaluate("() => ({ ...localStorage, session: sessionStorage.getItem('left') })")
        assert stored.get("left") is None and stored["session"] is None, stored
        assert stored["mode"] == "dark"
        assert second.page.evaluate("document.documentElement.dataset.theme") == "dark"
        assert sorted(second.files) == fetched, "a file came from the previous page's cache"
    finally:
        second.close()


def test_a_context_whose_storage_cannot_be_emptied_is_closed(book_site):
    shown = book_site.open(PAGE, width=WIDTH + 1, height=HEIGHT, wait=False)
    context = shown.page.context
    shown.page.goto("about:blank")  # no origin: nothing to empty it with
    shown.close()
    assert context not in book_site.browser.contexts
    assert book_site.idle_contexts.get((WIDTH + 1, HEIGHT), []) == []
