"""How fast each chapter's explorer re-renders in Chromium: a shape change, and a pointer move.

    .venv/bin/python benchmarks/bench_explorer.py [path/to/_build/html] [--repeat N] [--only 09_]

Opens every rule chapter of a built book (default ``_build/html``; build it first) through the same
local server and offline routing as the browser tests (tests/booksite.py: ``BookSite.open`` brings
the explorer into view and waits until it has rendered), and times, inside the page, for every rule
(and chapter 1's maps) with all dimensions set to s = 1 .. 6:

* shape change: moving one slider to s (the input handler rebuilds the grids, recomputes values
  and lights) plus the style and layout the browser does before it can paint (forced by reading
  ``offsetHeight``);
* pointer move: a ``pointerover`` on each cell in turn (lights and caption move) plus layout.

The goal is one frame: under 16 ms. Prints one row per rule and shape; median and worst of the runs.
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # booksite: shared with the tests
import booksite
from gradlib import structure

ROOT = booksite.ROOT

FRAME_MS = 16.0

# Times one slider move (to `size`) and a pointer move over every cell, in the page.
TIME = """async ([dim, size, before]) => {
  const root = document.querySelector('.gradlib-explorer');
  const slider = root.querySelector(`input[type=range][data-dim="${dim}"]`);
  const move = (v) => { slider.value = String(v); slider.dispatchEvent(new Event('input', { bubbles: true })); };
  move(before);
  void root.offsetHeight;
  await new Promise((r) => requestAnimationFrame(() => r()));
  const t0 = performance.now();
  move(size);
  void root.offsetHeight;              // style + layout of the new grids
  const shape = performance.now() - t0;
  const pointer = [];
  for (const cell of root.querySelectorAll('[data-array][data-index]')) {
    const t = performance.now();
    cell.dispatchEvent(new PointerEvent('pointerover', { bubbles: true }));
    void root.offsetHeight;
    pointer.push(performance.now() - t);
  }
  return { shape, pointer, cells: root.querySelectorAll('[data-array][data-index]').length };
}"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("html", nargs="?", default=str(ROOT / "_build" / "html"))
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--only", default="", help="only the chapters whose path contains this text")
    args = parser.parse_args()
    html = Path(args.html).resolve()
    pages = [p for p in booksite.toc_pages(html.parents[1] if (html.parents[1] / "_toc.yml").is_file() else ROOT)
             if re.match(r"chapters/0[1-8]_", p) and args.only in p]

    rows = []
    with booksite.serve(html) as url, booksite.launch_browser() as browser:
        site = booksite.BookSite(browser, url, html, reuse_contexts=False)  # a reader's first visit
        for path in pages:
            shown = site.open(path)  # settled: explorer scrolled into view and rendered
            page = shown.page
            try:
                root = booksite.live_explorers(shown).first
            except AssertionError as error:
                raise SystemExit(str(error)) from None
            rule = root.get_attribute("data-rule")
            for spec in structure.SPECS[rule]:
                if spec.variant:
                    root.locator('select[data-param="variant"]').select_option(spec.variant)
                dims = [d.name for d in spec.dims]
                for size in range(1, 7):
                    for dim in dims[1:]:
                        root.locator(f'input[type=range][data-dim="{dim}"]').fill(str(size))
                    runs = [page.evaluate(TIME, [dims[0], size, 2 if size == 1 else size - 1])
                            for _ in range(args.repeat)]
                    shape_ms = [r["shape"] for r in runs]
                    pointer_ms = [t for r in runs for t in r["pointer"]]
                    rows.append((rule, spec.variant or "-", "x".join([str(size)] * len(dims)), runs[0]["cells"],
                                 min(shape_ms), statistics.median(shape_ms), max(shape_ms),
                                 statistics.median(pointer_ms), max(pointer_ms)))
            shown.close()

    load = os.getloadavg()[0]
    print(f"Explorer re-render times in Chromium, ms ({args.repeat} shape changes each, pointer over every cell;"
          f" goal < {FRAME_MS:.0f} ms; load average {load:.1f} on {os.cpu_count()} CPUs)")
    header = ("rule", "map", "shape", "cells", "shape best", "median", "worst", "pointer median", "worst")
    print(f"{header[0]:<14} {header[1]:<8} {header[2]:<6}" + "".join(f"{h:>15}" for h in header[3:]))
    for rule, variant, shape, cells, best, median, worst, pointer, pointer_worst in rows:
        print(f"{rule:<14} {variant:<8} {shape:<6}{cells:>15}{best:>15.1f}{median:>15.1f}{worst:>15.1f}"
              f"{pointer:>15.1f}{pointer_worst:>15.1f}")
    slowest = max(rows, key=lambda r: r[5])
    print(f"slowest median shape change: {slowest[5]:.1f} ms ({slowest[0]} {slowest[2]}); slowest median pointer move:"
          f" {max(r[7] for r in rows):.1f} ms; medians {'within' if slowest[5] < FRAME_MS else 'OVER'} one frame."
          " Worst cases include the machine's other load (compare the best column).")


if __name__ == "__main__":
    main()
