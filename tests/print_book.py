"""The whole book as one PDF, printed from the built site by the Chromium the tests use (`make pdf`).

    .venv/bin/python tests/print_book.py [_build/html] [_build/pdf/gradients-by-hand.pdf]

Each page of ``_toc.yml`` is opened as a reader gets it (booksite: served on 127.0.0.1, nothing
else reachable), its explorers drawn; its article, explorers in the state they were drawn in, is
copied into one document: the first page's, laid out for print by the site's own print stylesheet
(_assets/book.css: explorers as pictures in their colours, solutions shown, code wrapped, chapter
numbers kept; A4 with 15 mm margins). Each page starts a new sheet; a table of contents with the page
each chapter starts on comes first, and every sheet carries its number. The print tells on which
sheet each chapter starts (its anchor's destination, read back with pypdf); the contents sheet is
then printed again with those numbers and put in place of the first.
:func:`print_book` also returns what a test checks: the titles and the display equations cut off in
the print layout (display_math.DISPLAY_MATH_CUTS, measured on the combined document before printing).
"""
from __future__ import annotations

import functools
import html
import io
import logging
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import booksite  # noqa: E402
import display_math  # noqa: E402

OUT = booksite.ROOT / "_build" / "pdf" / "gradients-by-hand.pdf"
MARGIN = f"{display_math.PRINT_MARGIN_MM}mm"
FOOTER = ('<div style="width:100%;font-size:8pt;text-align:center;color:#444">'
          '<span class="pageNumber"></span> / <span class="totalPages"></span></div>')

# A page's article as printed: its title (the first heading, number included), and its HTML with
# the explorers as drawn, every link and image address made absolute (the copy lands in another
# page), scripts left out (the explorers are drawn already); and the <style>s the page's widgets
# added to its head.
ARTICLE = r"""
() => {
  const article = document.querySelector('article.bd-article').cloneNode(true);
  article.querySelectorAll('script').forEach((el) => el.remove());
  article.querySelectorAll('[src]').forEach((el) => el.setAttribute('src', el.src));
  article.querySelectorAll('a[href]').forEach((el) => el.setAttribute('href', el.href));
  const heading = document.querySelector('article.bd-article h1');
  return {
    title: heading ? heading.textContent.replace('#', '').replace(/\s+/g, ' ').trim() : document.title,
    html: article.innerHTML,
    styles: Array.from(document.head.querySelectorAll('style'), (s) => s.textContent),
  };
}
"""

# Put the chapters into the first page's article, after a table of contents; one chapter per sheet.
# The cheat sheet keeps its landscape sheets (book.css names its page), no other chapter does.
COMBINE = r"""
({ toc, chapters, styles }) => {
  const article = document.querySelector('article.bd-article');
  article.innerHTML = toc + chapters.map((c, i) =>
    `<section class="book-chapter" id="book-chapter-${i}">${c}</section>`).join('');
  const style = document.createElement('style');
  style.textContent = styles.join('\n') + `
    @media print {
      body { page: auto !important; }
      .book-chapter { break-before: page; }
      .book-chapter:has(table.cheatsheet) { page: cheatsheet; }
      #jb-print-docs-body { display: none !important; }
      .book-toc { break-after: page; }
      .book-toc li { display: flex; gap: 0.5em; }
      .book-toc li .fill { flex: 1; border-bottom: 1px dotted #888; margin-bottom: 0.35em; }
    }`;
  document.head.appendChild(style);
}
"""


def _toc(titles: list[str], first_pages: list[int | None]) -> str:
    items = "".join(
        f'<li><a href="#book-chapter-{i}">{html.escape(title)}</a><span class="fill"></span>'
        f'<span>{"" if page is None else page}</span></li>'
        for i, (title, page) in enumerate(zip(titles, first_pages, strict=True)))
    return f'<nav class="book-toc"><h1>Gradients by Hand</h1><h2>Contents</h2><ul>{items}</ul></nav>'


def compact(text: str) -> str:
    """``text`` without white space: a PDF's text breaks lines where the layout did ("per-\\nfeature")."""
    return "".join(text.split())


def _first_pages(pdf: bytes, count: int) -> list[int | None]:
    """The sheet (counted from 1) each of the ``count`` chapters starts on: the page of its anchor
    ``#book-chapter-i``, a named destination in Chromium's PDF (pypdf)."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    named = reader.named_destinations
    return [reader.get_destination_page_number(named[f"/book-chapter-{i}"]) + 1 if f"/book-chapter-{i}" in named
            else None for i in range(count)]


def read_page(site: booksite.BookSite, path: str, *, cuts: bool = False) -> dict:
    """The page at ``path`` as :func:`print_book` copies it (ARTICLE: title, html, styles), opened at
    A4's printable width, explorers drawn; with ``cuts``, then also its display equations cut off
    when it alone is laid out for print (display_math.DISPLAY_MATH_CUTS; the tests want both of
    one load)."""
    shown = site.open(path, width=round(display_math.A4_PRINTABLE_WIDTH_PX), height=1100)
    try:
        article = shown.page.evaluate(ARTICLE)
        if cuts:
            shown.page.emulate_media(media="print")
            article["cuts"] = display_math.display_math_cuts(shown.page, printing=True)
        return article
    finally:
        shown.close()


def _with_first_sheet(pdf: bytes, sheet: bytes) -> bytes:
    """``pdf`` with its first sheet replaced by the one sheet of ``sheet`` (pypdf). The contents sheet
    is printed again alone, with the numbers the first print gave: it is one sheet in both prints,
    so no other sheet moves (a second print of all the sheets took ~16 s). Its links name their
    targets (``/book-chapter-i``), which ``pdf`` defines."""
    from pypdf import PdfReader, PdfWriter

    # pypdf's clone of Chromium's PDF holds more objects than the source's trailer counts, and says so
    quiet, level = logging.getLogger("pypdf._writer"), logging.getLogger("pypdf._writer").level
    quiet.setLevel(logging.ERROR)
    try:
        book = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    finally:
        quiet.setLevel(level)
    (contents,) = PdfReader(io.BytesIO(sheet)).pages
    book.insert_page(contents, 0)
    book.remove_page(1)
    done = io.BytesIO()
    book.write(done)
    return done.getvalue()


def print_book(book_html: Path, out: Path = OUT, site: booksite.BookSite | None = None,
               read: Callable[[str], dict] | None = None) -> dict:
    """Print the built book at ``book_html`` to ``out``; returns titles, sheets and the print cuts.
    ``site``: a :class:`booksite.BookSite` serving that book (the tests'); else one is started here.
    ``read(path)``: the page as :func:`read_page` reads it (the tests share their loads); by default
    read_page on ``site``."""
    if site is None:
        with booksite.serve(book_html) as url, booksite.launch_browser() as browser:
            return print_book(book_html, out, booksite.BookSite(browser, url, book_html), read)
    root = book_html.resolve().parents[1] if (book_html.resolve().parents[1] / "_toc.yml").is_file() else booksite.ROOT
    pages = booksite.toc_pages(root)
    width = round(display_math.A4_PRINTABLE_WIDTH_PX)
    articles = [(read or functools.partial(read_page, site))(path) for path in pages]
    titles = [a["title"] for a in articles]
    chapters = [a["html"] for a in articles]
    styles = list(dict.fromkeys(s for a in articles for s in a["styles"]))
    shown = site.open(pages[0], width=width, height=1100)
    book = shown.page
    try:
        book.emulate_media(media="print")
        options = dict(format="A4", print_background=True, prefer_css_page_size=True,
                       display_header_footer=True, header_template="<div></div>", footer_template=FOOTER,
                       margin={"top": MARGIN, "bottom": MARGIN, "left": MARGIN, "right": MARGIN})
        book.evaluate(COMBINE, {"toc": _toc(titles, [None] * len(titles)), "chapters": chapters, "styles": styles})
        # measured first: it also waits for the fonts and unfolds the solutions, so both prints lay
        # out the same document (the sheets found in the first are the sheets of the second)
        cuts = display_math.display_math_cuts(book, printing=True)
        book.wait_for_function("Array.from(document.images).every((image) => image.complete)")
        printed = book.pdf(**options)
        first = _first_pages(printed, len(titles))
        book.evaluate("(toc) => { document.querySelector('.book-toc').outerHTML = toc; }", _toc(titles, first))
        contents = book.pdf(page_ranges="1", **options)
    finally:
        shown.close()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(_with_first_sheet(printed, contents))
    return {"titles": titles, "first_pages": first, "cuts": cuts, "pdf": out}


def main() -> None:
    html_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else booksite.ROOT / "_build" / "html"
    out = Path(sys.argv[2]) if len(sys.argv) > 2 else OUT
    done = print_book(html_dir, out)
    for title, page in zip(done["titles"], done["first_pages"], strict=True):
        print(f"{page or '?':>4}  {title}")
    cuts = done["cuts"]["cuts"]
    print(f"{out}: {len(done['titles'])} pages of the book; display equations cut in print: {len(cuts)}")
    sys.exit(1 if cuts else 0)


if __name__ == "__main__":
    main()
