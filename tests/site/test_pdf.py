"""The book as one PDF (`make pdf`, tests/print_book.py; issue 16, item 6), read back with pypdf.

It has a sheet for the contents and then every page of ``_toc.yml`` (at least one sheet each, and
not absurdly many); every chapter's title, number included, is on the sheet the contents give for
it; every sheet carries its number ("n / total"); solutions are printed (under their "Solution to"
heading, no "Click to hide"); and no display equation is cut off in the print layout (measured on
the combined document at A4's printable width before printing, scroll boxes counting as cuts).
"""
from __future__ import annotations

import re

import pytest

import print_book

pytestmark = [pytest.mark.book, pytest.mark.browser, pytest.mark.long]  # long: it prints the whole book

MAX_SHEETS_PER_PAGE = 40  # a runaway layout (a table one word wide) would print far more


@pytest.fixture(scope="module")
def printed(book_html, book_site, printed_pages):
    """The book printed as `make pdf` prints it, to the same place (``_build/pdf/`` next to the html),
    from the pages as test_math_fits.py measures them in print (one load each)."""
    from pypdf import PdfReader

    done = print_book.print_book(book_html, book_html.parent / "pdf" / "gradients-by-hand.pdf", book_site,
                                 read=printed_pages)
    reader = PdfReader(done["pdf"])
    done["texts"] = [" ".join((page.extract_text() or "").split()) for page in reader.pages]
    return done


def test_every_chapter_is_in_the_pdf_on_the_sheet_the_contents_give(printed):
    texts, titles = printed["texts"], printed["titles"]
    assert len(titles) == len(print_book.booksite.toc_pages()), "a page of _toc.yml is missing"
    assert len(titles) + 1 <= len(texts) <= MAX_SHEETS_PER_PAGE * len(titles), f"{len(texts)} sheets"
    assert "Contents" in texts[0]
    numbered = [t for t in titles if re.match(r"\d+\. ", t)]
    assert len(numbered) >= 9, f"chapter titles lost their numbers: {titles}"
    for title, sheet in zip(titles, printed["first_pages"], strict=True):
        assert sheet is not None, f"{title!r} is not in the PDF"
        assert print_book.compact(texts[sheet - 1]).startswith(print_book.compact(title))
        assert print_book.compact(title) in print_book.compact(texts[0]), f"{title!r} is not in the contents"


def test_every_sheet_is_numbered(printed):
    total = len(printed["texts"])
    for number, text in enumerate(printed["texts"], start=1):
        assert f"{number} / {total}" in text, f"sheet {number} has no page number"


def test_solutions_are_printed_without_fold_buttons(printed):
    book = " ".join(printed["texts"])
    assert "Solution to" in book
    assert "Click to" not in book


def test_no_display_equation_is_cut_off_in_print(printed):
    cuts = printed["cuts"]
    assert cuts["formulas"] > 50, "display equations not found"
    assert cuts["cuts"] == [], "\n".join(f"{c['tex']!r}: {c['where']}" for c in cuts["cuts"])


def test_the_contents_link_to_the_sheet_each_chapter_starts_on(printed):
    """The contents sheet is printed again with the numbers and put in place of the first
    (print_book._with_first_sheet): its links still lead to the chapters' sheets."""
    from pypdf import PdfReader

    reader = PdfReader(printed["pdf"])
    links = [annotation.get_object() for annotation in reader.pages[0].get("/Annots", [])]
    targets = [str(link["/Dest"]) for link in links if link.get("/Subtype") == "/Link" and "/Dest" in link]
    named = reader.named_destinations
    assert [reader.get_destination_page_number(named[target]) + 1 for target in targets] == printed["first_pages"]
