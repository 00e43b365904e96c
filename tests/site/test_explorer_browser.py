"""Each chapter's explorer on the built site, in Chromium, with no kernel and no network: the wiring.

Every page is opened with every request to another origin aborted (the site serves all it needs,
see booksite.py) and settled by its settle(), which scrolls each explorer into view and waits
until it has rendered (_assets/widget-host.js draws it from the page's embedded widget state).
What the view state decides (lights, captions, predict verdicts, the Jacobian, chapter 9's steps) is
tested under Node for every rule and shape (tests/lib/test_explorer_view.py); here a few hovers,
clicks, slider moves and keys per chapter check that the page draws it: one cell per entry, gradlib's
numbers, the lights of a pointed cell, chapter 9's steps on one screen, and the kernel round trip.
"""
from __future__ import annotations

import contextlib
import itertools
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator

import numpy as np
import pytest

from booksite import ROOT, RULE_PAGES, toc_pages
from gradlib import structure

pytestmark = pytest.mark.browser

STATE = "application/vnd.jupyter.widget-state+json"

# What the explorer shows: every cell's array, index and value; the pointed-at and lit cells.
READ = """(root) => {
  const cells = Array.from(root.querySelectorAll('[data-array][data-index]'));
  return {
    rule: root.dataset.rule, variant: root.dataset.variant,
    cells: cells.map((c) => [c.dataset.array, c.dataset.index, Number(c.dataset.value), c.getAttribute('aria-label')]),
    selected: cells.filter((c) => c.dataset.selected === 'true').map((c) => `${c.dataset.array}|${c.dataset.index}`),
    lit: cells.filter((c) => c.dataset.lit === 'true').map((c) => `${c.dataset.array}|${c.dataset.index}`),
    caption: root.querySelector('.ge-caption[aria-live]').textContent,
    source: root.querySelector('.ge-status').dataset.source,
    sliders: Object.fromEntries(Array.from(root.querySelectorAll('input[type=range][data-dim]'))
      .map((s) => [s.dataset.dim,
        [Number(s.value), Number(s.min), Number(s.max), !!root.querySelector(`label[for="${s.id}"]`)]])),
  };
}"""

BOXES = """(root) => { const o = root.getBoundingClientRect();
  return Array.from(root.querySelectorAll('.ge-board [data-array]')).map((c) => {
    const r = c.getBoundingClientRect();
    return [r.x - o.x, r.y - o.y, r.width, r.height].map(Math.round).join(); }); }"""


def rule_of(page_path: str) -> str:
    return re.match(r"chapters/0\d_(\w+)\.html", page_path).group(1)


def key(name: str, index) -> str:
    return f"{name}|{','.join(map(str, index))}"


def shapes_to_try(spec: structure.Spec) -> list[dict[str, int]]:
    """A few shapes per rule: all 1, all 6, lopsided ones, and back to the defaults."""
    names = [d.name for d in spec.dims]
    tries = [dict.fromkeys(names, 1), dict.fromkeys(names, 6)]
    tries += [dict(zip(names, sizes)) for sizes in [(2, 5, 3), (6, 1, 4)]]
    return tries + [spec.default_shapes]


def check_view(root, spec: structure.Spec, shapes: dict[str, int], points: int | None = 1) -> dict:
    """The wiring at ``shapes`` (already set): the sliders, one cell per entry, the numbers (gradlib's), and
    pointing at ``points`` cells lights structure.lights (the view state's logic itself is tested under
    Node: tests/lib/test_explorer_view.py)."""
    view = root.evaluate(READ)
    assert {d: v[0] for d, v in view["sliders"].items()} == shapes
    assert all(low == 1 and high >= 6 and labelled for _, low, high, labelled in view["sliders"].values())
    cells = {(name, index): value for name, index, value, _ in view["cells"]}
    assert len(cells) == len(view["cells"]), "a cell appears twice"
    expected = {(a.name, ",".join(map(str, i))) for a in spec.arrays
                for i in itertools.product(*map(range, spec.shape(a.name, shapes)))}
    assert set(cells) == expected, f"grid at {shapes}"

    def array(name: str) -> np.ndarray:
        shape = spec.shape(name, shapes)
        return np.array([cells[(name, ",".join(map(str, i)))] for i in itertools.product(*map(range, shape))]).reshape(shape)
    given = {a.name: array(a.name) for a in spec.arrays if a.role in ("input", "upstream")}
    params = {"t": int(np.argmax(given["y"]))} if spec.params else None
    seeded = structure.inputs(spec, shapes, structure.random_values(spec.rule), params)
    for name, values in given.items():
        np.testing.assert_array_equal(values, seeded[name], err_msg=f"{name}: not the explorer's values")
    by_gradlib = structure.library(spec, given, params)
    for relation in spec.relations:
        np.testing.assert_allclose(array(relation.target), by_gradlib[relation.target], rtol=1e-9, atol=1e-12,
                                   err_msg=f"{spec.rule} {relation.target} at {shapes} ({view['source']} numbers)")
    boxes = root.evaluate(BOXES)
    computed = [a for a in spec.arrays if any(r.target == a.name for r in spec.relations)]
    for a in (computed[-1:] + list(spec.arrays[:1]))[:points or len(spec.arrays)]:
        index = [s - 1 for s in spec.shape(a.name, shapes)]
        cell = root.locator(f'.ge-cell[data-array="{a.name}"][data-index="{",".join(map(str, index))}"]')
        if cell.is_visible():
            cell.hover()
            pointed = root.evaluate(READ)
            assert pointed["selected"] == [key(a.name, index)]
            assert set(pointed["lit"]) == {key(n, i) for n, idx in structure.lights(spec, shapes, a.name, index).items()
                                           for i in idx}, f"{spec.rule} {shapes}: pointing at {a.name}{index}"
    assert root.evaluate(BOXES) == boxes, "pointing at cells moved the grids"
    return view


def set_slider(root, dim: str, value: int) -> None:
    root.locator(f'input[type=range][data-dim="{dim}"]').fill(str(value))


@pytest.mark.book
@pytest.mark.parametrize("book_page", [p for p in RULE_PAGES if not p.startswith("chapters/09_")],  # 09: below
                         ids=lambda p: p.removesuffix(".html"))
def test_explorer_on_the_static_page(open_page, book_html, book_page):
    """Rendered once, offline, no errors; the sliders, grids, numbers, pointing and keys are wired."""
    rule = rule_of(book_page)
    page = open_page(book_page)
    assert [e for e in page.console_errors if e.startswith("uncaught")] == [], "JavaScript exceptions on the page"
    assert page.blocked_requests == [], "the page asked another origin for something"
    html = (book_html / book_page).read_text(encoding="utf-8")
    state = json.loads(re.search(rf'<script type="{re.escape(STATE)}">(.*?)</script>', html, re.S).group(1))
    models = [m["state"] for m in state["state"].values()
              if m["state"].get("_anywidget_id") == "gradlib.explorer.Explorer"]
    explorers = page.locator(".gradlib-explorer")
    assert explorers.count() == len(models) >= 1, "each explorer renders exactly once"
    assert [m["rule"] for m in models].count(rule) >= 1
    root = page.locator(f'.gradlib-explorer[data-rule="{rule}"]').first
    root.scroll_into_view_if_needed()
    assert root.locator(".ge-status").text_content() == "Values computed by gradlib in Python, from the rule."

    variants = [s.variant for s in structure.SPECS[rule]]
    for variant in variants:
        if variant:
            root.locator('select[data-param="variant"]').select_option(variant)
        spec = structure.spec(rule, variant)
        assert root.evaluate(READ)["variant"] == spec.variant
        shapes = {d: v[0] for d, v in root.evaluate(READ)["sliders"].items()}
        check_view(root, spec, shapes, points=2)
        lopsided = dict(zip([d.name for d in spec.dims], (2, 6, 1)))
        for dim, size in lopsided.items():
            set_slider(root, dim, size)
        view = check_view(root, spec, lopsided)
        assert view["source"] == "page", "after a change the page computes the numbers itself"
        assert root.locator(".ge-status").text_content().startswith("Values computed in your browser from the rule")
        for dim, size in shapes.items():
            set_slider(root, dim, size)

    # keyboard: focusing a cell selects it; arrow keys move along the grid
    spec = structure.spec(rule, variants[0])
    if variants[0]:
        root.locator('select[data-param="variant"]').select_option(variants[0])
    target, index = spec.select
    cell = root.locator(f'[data-array="{target}"][data-index="{",".join(map(str, index))}"]')
    page.mouse.move(0, 0)  # the pointer off the grids, so scrolling cannot point at a cell
    cell.focus()
    assert root.evaluate(READ)["selected"] == [key(target, index)]
    page.keyboard.press("ArrowLeft")
    moved = (*index[:-1], index[-1] - 1)
    assert root.evaluate(READ)["selected"] == [key(target, moved)]
    assert [e for e in page.console_errors if e.startswith("uncaught")] == []


@pytest.mark.book
@pytest.mark.parametrize("book_page", [p for p in RULE_PAGES if "softmax_xent" in p], ids=["softmax_xent"])
def test_softmax_xent_class_slider(open_page, book_page):
    """t moves the one-hot label and stays below C; one class lights nothing in θ."""
    page = open_page(book_page)
    root = page.locator('.gradlib-explorer[data-rule="softmax_xent"]').first
    spec = structure.spec("softmax_xent")
    root.locator('input[type=range][data-param="t"]').fill("4")
    set_slider(root, "C", 3)
    assert root.locator('input[type=range][data-param="t"]').input_value() == "2"
    view = check_view(root, spec, {"C": 3})
    labels = [" ".join(t.split()) for t in root.locator(".ge-controls label").all_text_contents()]
    assert labels == ["C = 3 (classes, entries of θ and eₜ)", "t = 2 (the true class)"], labels  # the book's letters
    assert "Indices count from 0, as in code" in root.locator(".ge-legend").text_content()
    y = sorted((index, value) for name, index, value, _ in view["cells"] if name == "y")
    assert [v for _, v in y] == [0, 0, 1]
    set_slider(root, "C", 1)
    root.locator('[data-array="dtheta"][data-index="0"]').hover()
    view = root.evaluate(READ)
    assert view["lit"] == ["y|0"] and "with one class" in view["caption"]


# --------------------------------------------------------------------------- chapter 8: gather and max

PATTERN_PAGES = [p for p in toc_pages() if p.startswith("chapters/08_")]
# rule -> (an entry to point at, what it lights at the default shapes: idx[n] = n mod V; X's row 1)
PATTERN_POINTS = {"gather": ("dE|0,1", {"G|0,1", "G|3,1", "S|0,0", "S|3,0"}),
                  "reduce_max": ("dX|1,2", {"g|1", "X|1,0", "X|1,1", "X|1,2", "X|1,3"})}


@pytest.mark.book
@pytest.mark.parametrize("rule", PATTERN_POINTS)
@pytest.mark.parametrize("book_page", PATTERN_PAGES, ids=lambda p: p.removesuffix(".html"))
def test_pattern_explorers_on_the_static_page(open_page, book_page, rule):
    """Chapter 8's gather and reduce_max explorers: rendered with no errors, gradlib's numbers, a hover lights
    the rows of G that add into dE[0,1] (the max's whole row for dX[1,2]), the sliders (predict mode:
    test_explorer_views.py)."""
    page = open_page(book_page)
    assert [e for e in page.console_errors if e.startswith("uncaught")] == [], "JavaScript exceptions on the page"
    root = page.locator(f'.gradlib-explorer[data-rule="{rule}"]')
    assert root.count() == 1
    root.scroll_into_view_if_needed()
    assert root.locator(".ge-status").text_content() == "Values computed by gradlib in Python, from the rule."
    spec = structure.spec(rule)
    check_view(root, spec, spec.default_shapes, points=None)
    entry, lit = PATTERN_POINTS[rule]
    name, index = entry.split("|")
    root.locator(f'.ge-cell[data-array="{name}"][data-index="{index}"]').hover()
    assert set(root.evaluate(READ)["lit"]) == lit
    lopsided = dict(zip([d.name for d in spec.dims], (2, 6, 1)))
    for dim, size in lopsided.items():
        set_slider(root, dim, size)
    assert check_view(root, spec, lopsided, points=None)["source"] == "page"
    assert [e for e in page.console_errors if e.startswith("uncaught")] == []


# --------------------------------------------------------------------------- chapter 9: the backward pass

MLP_PAGES = [p for p in toc_pages() if "backprop_mlp" in p]

# The stepper: which step is shown, what it says, which panels it frames, and its buttons.
STEP = """(root) => ({
  current: Number(root.querySelector('.ge-steps').dataset.current),
  text: root.querySelector('.ge-step').textContent,
  reads: Array.from(root.querySelectorAll('.ge-array[data-step-role="reads"]')).map((p) => p.dataset.panel),
  writes: Array.from(root.querySelectorAll('.ge-array[data-step-role="writes"]')).map((p) => p.dataset.panel),
  tags: Array.from(root.querySelectorAll('.ge-array')).filter((p) => p.querySelector('.ge-step-tag').textContent)
    .map((p) => p.dataset.panel),
  shown: Array.from(root.querySelectorAll('.ge-array')).filter((p) => p.querySelector('.ge-grid').offsetHeight > 0)
    .map((p) => p.dataset.panel),
  numbered: Array.from(root.querySelectorAll('.ge-array')).filter((p) => p.querySelector('.ge-num').textContent)
    .map((p) => p.dataset.panel),
  prev: root.querySelector('button[data-step="prev"]').disabled,
  next: root.querySelector('button[data-step="next"]').disabled,
})"""

# Every cell whose number does not fit: text wider than the cell, or drawn past the cell's box.
OVERFLOW = """(root) => Array.from(root.querySelectorAll('.ge-cell')).filter((c) => c.offsetWidth > 0 && (
  c.scrollWidth > c.clientWidth + 0.5 || c.scrollHeight > c.clientHeight + 0.5
  || c.querySelector('.ge-num').getBoundingClientRect().width > c.clientWidth)).map((c) => `${c.dataset.array}|${c.dataset.index}`)"""


def check_step(root, spec: structure.Spec, k: int) -> None:
    """Step k frames exactly the arrays it reads and writes (in words too), shows their grids and only
    those, and shows no number of an array a later step computes."""
    step, shown = spec.steps[k], root.evaluate(STEP)
    assert shown["current"] == k
    assert sorted(shown["reads"]) == sorted(step.reads) and sorted(shown["writes"]) == sorted(step.writes)
    assert sorted(shown["tags"]) == sorted([*step.reads, *step.writes]), "the frames are also said in words"
    assert sorted(shown["shown"]) == sorted([*step.reads, *step.writes]), "the other arrays are folded"
    later = {n for s in spec.steps[k + 1:] for n in s.writes}
    assert not later & set(shown["numbered"]), "a gradient shows numbers before its step"
    assert shown["text"].startswith(f"Step {k + 1} of {len(spec.steps)}: {step.title}")
    assert (shown["prev"], shown["next"]) == (k == 0, k == len(spec.steps) - 1)
    assert root.evaluate(READ)["selected"][0].split("|")[0] == step.writes[0]


@pytest.mark.book
@pytest.mark.parametrize("book_page", MLP_PAGES, ids=lambda p: p.removesuffix(".html"))
def test_backward_pass_explorer_on_the_static_page(open_page, book_page):
    """Chapter 9's explorer, no kernel: fits a 1280 x 800 screen at every step, the step buttons walk the
    pass (forward only at step 1), and no number overflows its cell at the smallest and largest sizes."""
    page = open_page(book_page, width=1280, height=800)
    assert [e for e in page.console_errors if e.startswith("uncaught")] == []
    assert page.locator(".gradlib-explorer").count() == 1, "the explorer renders exactly once"
    root = page.locator('.gradlib-explorer[data-rule="mlp"]')
    root.scroll_into_view_if_needed()
    spec = structure.spec("mlp")
    check_step(root, spec, 0)
    check_view(root, spec, spec.default_shapes, points=1)
    for k in range(len(spec.steps)):
        if k:
            root.locator('button[data-step="next"]').click()
        check_step(root, spec, k)
        height = root.bounding_box()["height"]
        assert height <= 800, f"step {k + 1} is {height:.0f} px tall at 1280 px: more than one screen"
    root.locator('button[data-step="next"]').click(force=True)  # disabled at the last step: nothing moves
    assert root.evaluate(STEP)["current"] == len(spec.steps) - 1
    root.locator('button[data-step="prev"]').click()
    check_step(root, spec, len(spec.steps) - 2)
    for sizes in [dict.fromkeys("NDHC", 6), dict.fromkeys("NDHC", 1), dict(zip("NDHC", (6, 1, 6, 2)))]:
        for dim, size in sizes.items():
            set_slider(root, dim, size)
        view = check_view(root, spec, sizes, points=1)
        assert view["source"] == "page"
        for mode in ("explore", "predict"):
            root.locator(f'[data-mode="{mode}"]').click()
            assert root.evaluate(OVERFLOW) == [], f"numbers overflow their cells at {sizes} ({mode})"
        root.locator('[data-mode="explore"]').click()
    assert [e for e in page.console_errors if e.startswith("uncaught")] == []


# --------------------------------------------------------------------------- with a kernel

NOTEBOOK = {
    "cells": [
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source":
         f"import sys; sys.path.insert(0, {str(ROOT)!r})\nfrom gradlib.explorer import Explorer\n"
         "explorer = Explorer('matmul')\nexplorer"},
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source":
         "print(explorer.shapes, explorer.computed['shapes'], explorer.selection)"},
    ],
    "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    "nbformat": 4, "nbformat_minor": 5,
}


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory):
    """A JupyterLab server (the venv's) on a free local port, one for the module: ``jupyterlab(rule)`` is the
    address of a notebook that shows an explorer of ``rule``, in a workspace of its own (nothing restored)."""
    folder = tmp_path_factory.mktemp("lab")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    token = secrets.token_hex(16)
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(folder / "runtime"),
           "JUPYTERLAB_WORKSPACES_DIR": str(folder / "workspaces")}
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", f"--port={port}", "--ip=127.0.0.1",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={folder}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    url = f"http://127.0.0.1:{port}"

    def notebook(rule: str) -> str:
        (folder / f"explore_{rule}.ipynb").write_text(json.dumps(NOTEBOOK).replace("Explorer('matmul')",
                                                                                   f"Explorer('{rule}')"))
        return f"{url}/lab/workspaces/{rule}/tree/explore_{rule}.ipynb?token={token}"

    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=1)
                break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("JupyterLab did not start within 60 s")
        yield notebook
    finally:
        server.terminate()
        server.wait(timeout=30)


@contextlib.contextmanager
def lab_explorer(browser, url: str, rule: str) -> Iterator[tuple]:
    """JupyterLab at ``url`` with every cell run: (page, the explorer's root, the page's errors so far)."""
    context = browser.new_context(viewport={"width": 1300, "height": 1000})
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.route("**/*", lambda route, request: route.continue_() if request.url.startswith("http://127.0.0.1")
                   else route.abort())
        page.goto(url)
        page.wait_for_selector(".jp-Notebook .jp-CodeCell", timeout=60_000)
        choose = page.locator(".jp-Dialog").get_by_role("button", name="Select", exact=True)
        try:  # JupyterLab may ask which kernel to start
            choose.click(timeout=5_000)
        except Exception:  # playwright's TimeoutError: no dialog
            pass
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
        root = page.locator(".gradlib-explorer")
        root.wait_for(timeout=60_000)
        assert root.count() == 1 and root.get_attribute("data-rule") == rule
        yield page, root, errors
    finally:
        context.close()


def test_explorer_in_jupyterlab_shows_gradlib_numbers(browser, jupyterlab):
    """With a kernel: a slider move goes to Python, gradlib computes, the page shows gradlib's numbers,
    and a click tells the kernel which entry the reader picked."""
    with lab_explorer(browser, jupyterlab("matmul"), "matmul") as (page, root, errors):
        spec = structure.spec("matmul")
        check_view(root, spec, spec.default_shapes, points=1)
        assert root.evaluate(READ)["source"] == "gradlib"

        set_slider(root, "n", 5)
        page.wait_for_function("document.querySelector('.ge-status').dataset.source === 'gradlib'"
                               " && document.querySelectorAll('[data-array=dX]').length === 5 * 4", timeout=20_000)
        check_view(root, spec, {**spec.default_shapes, "n": 5}, points=1)
        root.locator('[data-array="dX"][data-index="4,3"]').click()
        page.mouse.move(0, 0)
        time.sleep(0.5)  # the selection message reaches the kernel
        second = page.locator(".jp-CodeCell").nth(1)
        second.locator(".jp-InputArea-editor").click()
        page.keyboard.press("Shift+Enter")
        output = second.locator(".jp-OutputArea-output")
        output.wait_for(timeout=20_000)
        assert output.inner_text().strip() == ("{'n': 5, 'm': 4, 'p': 2} {'n': 5, 'm': 4, 'p': 2} "
                                               "{'array': 'dX', 'index': [4, 3]}")
        assert errors == []


def test_backward_pass_explorer_in_jupyterlab_shows_gradlib_numbers(browser, jupyterlab):
    """Chapter 9's explorer with a kernel: gradlib.mlp's numbers, also after a slider move, and the steps."""
    with lab_explorer(browser, jupyterlab("mlp"), "mlp") as (page, root, errors):
        spec = structure.spec("mlp")
        check_view(root, spec, spec.default_shapes, points=1)
        assert root.evaluate(READ)["source"] == "gradlib"
        set_slider(root, "N", 5)
        page.wait_for_function("document.querySelector('.ge-status').dataset.source === 'gradlib'"
                               " && document.querySelectorAll('[data-array=X]').length === 5 * 3", timeout=20_000)
        shapes = {**spec.default_shapes, "N": 5}
        check_view(root, spec, shapes, points=1)
        root.locator('button[data-step="next"]').click()
        check_step(root, spec, 1)
        assert root.evaluate(READ)["source"] == "gradlib"
        assert errors == []
