"""What each page of the built site costs a reader: bytes fetched, DOM ready, explorer live.

    .venv/bin/python benchmarks/bench_site.py [path/to/_build/html] [--repeat N]

Opens every page of ``_toc.yml`` of a built book (default ``_build/html``; build it first) through
the same local server and offline routing as the browser tests (tests/booksite.py: only 127.0.0.1
answers), each ``--repeat`` times in a fresh browser context (empty cache), as a reader at the top
of the page: it waits for load and a quiet network, then scrolls each explorer into view
and waits until every widget is drawn. Prints per page (medians over the runs):

* ``KiB_gzip``: every file the page fetched, explorers live included, gzip -6 (as a static host
  sends them); ``files``: how many; ``KiB_gzip_biggest``: the largest of them;
* ``dom_ready_ms``: navigation start -> DOMContentLoaded done; ``load_ms``: -> load event done;
* ``live_ms``: navigation start -> every widget of the page drawn (none: ``-``);
* ``live_after_scroll_ms``: the explorer scrolled into view -> every widget drawn (0: it was live
  before the reader got there); ``live_after_dom_ready_ms``: DOMContentLoaded -> every widget drawn
  (what the widget host itself costs).

Budgets (issues 10, 16), printed against the figures: every page <= 400 KiB gzip with its explorer
live (tests/site/test_page_loads.py asserts it too); explorer live <= 150 ms after it scrolls into view
(median over the chapters); no page's DOM ready later than before. Times depend on the machine's load (printed).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # booksite: shared with the tests
import booksite

PAGE_BUDGET_KIB, LIVE_BUDGET_MS = 400, 150

TIMING = """() => { const nav = performance.getEntriesByType('navigation')[0];
  return [nav.domContentLoadedEventEnd, nav.loadEventEnd]; }"""


def measure(site: booksite.BookSite, path: str) -> dict:
    """One visit of ``path`` (a fresh context): bytes, times."""
    shown = site.open(path, wait=False)
    try:
        booksite.wait_for_quiet_network(shown)  # a reader at the top: load, then a quiet network
        booksite.bring_explorers_in(shown)  # then every explorer scrolled into view and drawn
        dom_ready, load = shown.page.evaluate(TIMING)
        sizes = [booksite.file_sizes(file)[1] for file in shown.files.values() if file.is_file()]
        in_view, ready = shown.explorers_in_view_ms, shown.widgets_ready_ms
        return {
            "kib": sum(sizes) / 1024, "files": len(sizes), "biggest": max(sizes, default=0) / 1024,
            "dom_ready": dom_ready, "load": load, "live": ready,
            "after_scroll": None if in_view is None or ready is None else max(0.0, ready - in_view),
            "after_dom_ready": None if ready is None else ready - dom_ready,
            "missing": [url for url, file in shown.files.items() if not file.is_file()] + shown.blocked_requests,
        }
    finally:
        shown.close()


def median(values: list) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("html", nargs="?", default=str(booksite.ROOT / "_build" / "html"))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    html = Path(args.html).resolve()
    pages = booksite.toc_pages(html.parents[1] if (html.parents[1] / "_toc.yml").is_file() else booksite.ROOT)

    rows = {}
    with booksite.serve(html) as url, booksite.launch_browser() as browser:
        site = booksite.BookSite(browser, url, html, reuse_contexts=False)  # a reader's first visit
        for path in pages:
            runs = [measure(site, path) for _ in range(args.repeat)]
            rows[path] = {key: median([run[key] for run in runs]) for key in runs[0] if key != "missing"}
            rows[path]["missing"] = sorted({url for run in runs for url in run["missing"]})

    load = os.getloadavg()[0]
    print(f"Per page, served on 127.0.0.1 with no other origin; median of {args.repeat} cold visits"
          f" (load average {load:.1f} on {os.cpu_count()} CPUs)")
    header = ("page", "KiB_gzip", "files", "KiB_gzip_biggest", "dom_ready_ms", "load_ms", "live_ms",
              "live_after_scroll_ms", "live_after_dom_ready_ms")
    print(f"{header[0]:<28}" + "".join(f"{h:>25}" for h in header[1:]))

    def cell(value, digits=0):
        return "-" if value is None else f"{value:.{digits}f}"

    for path, row in rows.items():
        print(f"{path.removesuffix('.html'):<28}{cell(row['kib'], 1):>25}{cell(row['files']):>25}"
              f"{cell(row['biggest'], 1):>25}{cell(row['dom_ready']):>25}{cell(row['load']):>25}"
              f"{cell(row['live']):>25}{cell(row['after_scroll']):>25}{cell(row['after_dom_ready']):>25}")
        if row["missing"]:
            print(f"    not served by the site: {row['missing']}")
    heaviest_page = max(rows, key=lambda path: rows[path]["kib"])
    heaviest = rows[heaviest_page]["kib"]
    print(f"Heaviest page: {heaviest_page} {heaviest:.0f} KiB gzip (budget {PAGE_BUDGET_KIB}:"
          f" {'within' if heaviest <= PAGE_BUDGET_KIB else 'OVER'})")
    chapters = [row for path, row in rows.items() if row["live"] is not None]
    if chapters:
        after = median([row["after_scroll"] for row in chapters])
        host = median([row["after_dom_ready"] for row in chapters])
        print(f"Pages with explorers: explorer live {after:.0f} ms after it"
              f" scrolls into view, median over the chapters (budget {LIVE_BUDGET_MS} ms:"
              f" {'within' if after <= LIVE_BUDGET_MS else 'OVER'}); {host:.0f} ms after DOM ready (median).")


if __name__ == "__main__":
    main()
