"""Each chapter's explorer on the built site, in Chromium, with no kernel and no network.

Every page is opened with every request to another origin aborted (the site serves all it needs,
see booksite.py) and settled by its settle(), which scrolls each explorer into view and waits
until it has rendered (_assets/widget-host.js draws it from the page's embedded widget state).
On each rule chapter the test finds the explorer (rendered exactly once), then for
several shapes set with its sliders checks the grids (one cell per entry of every array), points
at cells with the mouse and checks what lights up against gradlib.structure.lights, and checks the
numbers the page computed itself against gradlib. Keyboard use is checked once per page.
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


def check_view(root, spec: structure.Spec, shapes: dict[str, int], points: int | None = 3) -> dict:
    """Grid sizes, numbers and lights of the explorer at ``shapes`` (already set)."""
    view = root.evaluate(READ)
    assert {d: v[0] for d, v in view["sliders"].items()} == shapes
    assert all(low == 1 and high >= 6 and labelled for _, low, high, labelled in view["sliders"].values())
    # one cell per entry of each array, indexed from 0
    cells = {(name, index): value for name, index, value, _ in view["cells"]}
    assert len(cells) == len(view["cells"]), "a cell appears twice"
    expected = {(a.name, ",".join(map(str, i))) for a in spec.arrays
                for i in itertools.product(*map(range, spec.shape(a.name, shapes)))}
    assert set(cells) == expected, f"grid at {shapes}"
    assert all(label == f"{(spec.array(name).label or name)}[{index}] = {_fmt(value)}"
               for name, index, value, label in view["cells"])
    # the numbers: the page's own (or the embedded gradlib ones) equal gradlib's for the shown inputs
    def array(name: str) -> np.ndarray:
        shape = spec.shape(name, shapes)
        entries = itertools.product(*map(range, shape))
        return np.array([cells[(name, ",".join(map(str, i)))] for i in entries]).reshape(shape)
    given = {a.name: array(a.name) for a in spec.arrays if a.role in ("input", "upstream")}
    seeded = structure.inputs(spec, shapes, structure.random_values(spec.rule),
                              {"t": int(np.argmax(given["y"]))} if "y" in given and spec.params else None)
    for name, values in given.items():
        np.testing.assert_array_equal(values, seeded[name], err_msg=f"{name}: not the explorer's values")
    params = {"t": int(np.argmax(given["y"]))} if spec.params else None
    by_gradlib = structure.library(spec, given, params)
    for relation in spec.relations:
        np.testing.assert_allclose(array(relation.target), by_gradlib[relation.target], rtol=1e-9, atol=1e-12,
                                   err_msg=f"{spec.rule} {relation.target} at {shapes} ({view['source']} numbers)")
    # pointing: a few cells of every array (and pointing never moves a cell: lit text is bold)
    boxes = root.evaluate(BOXES)
    for a in spec.arrays:
        entries = list(itertools.product(*map(range, spec.shape(a.name, shapes))))
        picks = entries if points is None else sorted({0, len(entries) // 2, len(entries) - 1})
        for pick in picks:
            index = entries[pick] if points is not None else pick
            root.locator(f'[data-array="{a.name}"][data-index="{",".join(map(str, index))}"]').hover()
            pointed = root.evaluate(READ)
            assert pointed["selected"] == [key(a.name, index)]
            lit = structure.lights(spec, shapes, a.name, index)
            truth = {key(name, i) for name, indices in lit.items() for i in indices}
            assert set(pointed["lit"]) == truth, f"{spec.rule} {shapes}: pointing at {a.name}{list(index)}"
            if any(r.target == a.name for r in spec.relations):
                assert pointed["caption"].startswith(structure.formula(spec, a.name, index)), pointed["caption"]
            else:
                assert pointed["caption"].startswith(f"{a.label or a.name}[{','.join(map(str, index))}] = ")
    assert root.evaluate(BOXES) == boxes, "pointing at cells moved the grids"
    return view


def _fmt(value: float) -> str:
    return f"{0.0 if abs(value) < 0.005 else value:.2f}".replace("-", "−")


def set_slider(root, dim: str, value: int) -> None:
    root.locator(f'input[type=range][data-dim="{dim}"]').fill(str(value))


@pytest.mark.book
@pytest.mark.parametrize("book_page", [p for p in RULE_PAGES if not p.startswith("chapters/09_")],  # 08: below
                         ids=lambda p: p.removesuffix(".html"))
def test_explorer_on_the_static_page(open_page, book_html, book_page):
    rule = rule_of(book_page)
    page = open_page(book_page)
    uncaught = [e for e in page.console_errors if e.startswith("uncaught")]
    assert uncaught == [], "JavaScript exceptions on the page"
    assert page.blocked_requests == [], "the page asked another origin for something"

    # exactly one explorer per Explorer in the page's widget state, and it is this chapter's rule
    html = (book_html / book_page).read_text(encoding="utf-8")
    state = json.loads(re.search(rf'<script type="{re.escape(STATE)}">(.*?)</script>', html, re.S).group(1))
    models = [m["state"] for m in state["state"].values()
              if m["state"].get("_anywidget_id") == "gradlib.explorer.Explorer"]
    explorers = page.locator(".gradlib-explorer")
    assert explorers.count() == len(models) >= 1, "each explorer renders exactly once"
    assert [m["rule"] for m in models].count(rule) >= 1
    root = page.locator(f'.gradlib-explorer[data-rule="{rule}"]').first
    root.scroll_into_view_if_needed()

    variants = [s.variant for s in structure.SPECS[rule]]
    for variant in variants:
        if variant:
            root.locator('select[data-param="variant"]').select_option(variant)
        spec = structure.spec(rule, variant)
        assert root.evaluate(READ)["variant"] == spec.variant
        current = {d: v[0] for d, v in root.evaluate(READ)["sliders"].items()}
        for shapes in shapes_to_try(spec):
            for dim, size in shapes.items():
                if current[dim] != size:
                    set_slider(root, dim, size)
                    current[dim] = size
            view = check_view(root, spec, shapes)
            if shapes != spec.default_shapes or variant != variants[0]:
                assert view["source"] == "page", "after a change the page computes the numbers itself"
        # every entry once, at one lopsided shape
        lopsided = dict(zip([d.name for d in spec.dims], (2, 3, 2)))
        for dim, size in lopsided.items():
            set_slider(root, dim, size)
        check_view(root, spec, lopsided, points=None)
        for dim, size in spec.default_shapes.items():
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
    assert labels == ["C = 3 (classes, entries of θ and y)", "t = 2 (the true class)"], labels  # the book's letters
    assert "Indices count from 0, as in code" in root.locator(".ge-legend").text_content()
    y = sorted((index, value) for name, index, value, _ in view["cells"] if name == "y")
    assert [v for _, v in y] == [0, 0, 1]
    set_slider(root, "C", 1)
    root.locator('[data-array="dtheta"][data-index="0"]').hover()
    view = root.evaluate(READ)
    assert view["lit"] == ["y|0"] and "with one class" in view["caption"]


# --------------------------------------------------------------------------- chapter 9: the backward pass

MLP_PAGES = [p for p in toc_pages() if p.startswith("chapters/09_")]

# The stepper: which step is shown, what it says, which panels it frames, and its buttons.
STEP = """(root) => ({
  current: Number(root.querySelector('.ge-steps').dataset.current),
  text: root.querySelector('.ge-step').textContent,
  reads: Array.from(root.querySelectorAll('.ge-array[data-step-role="reads"]')).map((p) => p.dataset.panel),
  writes: Array.from(root.querySelectorAll('.ge-array[data-step-role="writes"]')).map((p) => p.dataset.panel),
  tags: Array.from(root.querySelectorAll('.ge-array')).filter((p) => p.querySelector('.ge-step-tag').textContent)
    .map((p) => p.dataset.panel),
  prev: root.querySelector('button[data-step="prev"]').disabled,
  next: root.querySelector('button[data-step="next"]').disabled,
})"""


def check_step(root, spec: structure.Spec, shapes: dict[str, int], k: int, pointed: bool = True) -> None:
    """Step k frames exactly the arrays it reads and writes, names its chapter's rule, and (once the
    reader has moved to it: ``pointed``) points at an entry it writes, whose lights are gradlib.structure's."""
    step, shown = spec.steps[k], root.evaluate(STEP)
    assert shown["current"] == k
    assert sorted(shown["reads"]) == sorted(step.reads) and sorted(shown["writes"]) == sorted(step.writes)
    assert sorted(shown["tags"]) == sorted([*step.reads, *step.writes]), "the frames are also said in words"
    assert shown["text"].startswith(f"Step {k + 1} of {len(spec.steps)}: {step.title}")
    assert step.rule in shown["text"] and step.code in shown["text"]
    assert (shown["prev"], shown["next"]) == (k == 0, k == len(spec.steps) - 1)
    view = root.evaluate(READ)
    assert len(view["selected"]) == 1 and (view["selected"][0].split("|")[0] == step.writes[0] or not pointed)
    name, index = view["selected"][0].split("|")
    index = tuple(map(int, index.split(",")))
    lit = structure.lights(spec, shapes, name, index)
    assert set(view["lit"]) == {key(n, i) for n, indices in lit.items() for i in indices}


@pytest.mark.book
@pytest.mark.parametrize("book_page", MLP_PAGES, ids=lambda p: p.removesuffix(".html"))
def test_backward_pass_explorer_on_the_static_page(open_page, book_html, book_page):
    """Chapter 9's explorer, no kernel: grids, numbers and lights at several shapes (the checks of
    every chapter), then the step buttons walk the backward pass forwards and back."""
    page = open_page(book_page)
    assert [e for e in page.console_errors if e.startswith("uncaught")] == []
    explorers = page.locator(".gradlib-explorer")
    assert explorers.count() == 1, "the explorer renders exactly once"
    root = page.locator('.gradlib-explorer[data-rule="mlp"]')
    root.scroll_into_view_if_needed()
    spec = structure.spec("mlp")
    names = [d.name for d in spec.dims]
    assert names == ["N", "D", "H", "C"]

    # the first step is shown at load (the forward pass), pointing at the entry chosen in Python
    check_step(root, spec, spec.default_shapes, 0, pointed=False)
    assert root.evaluate(READ)["selected"] == [key(*spec.select)]
    current = dict(spec.default_shapes)
    for shapes in [dict.fromkeys(names, 1), dict.fromkeys(names, 6), dict(zip(names, (2, 5, 1, 3))),
                   dict(zip(names, (6, 1, 4, 2))), dict(zip(names, (3, 2, 6, 1)))]:
        for dim, size in shapes.items():
            if current[dim] != size:
                set_slider(root, dim, size)
                current[dim] = size
        view = check_view(root, spec, shapes, points=2)
        assert view["source"] == "page"
        assert root.evaluate(STEP)["current"] == 0, "a change of shape keeps the step"
    lopsided = dict(zip(names, (2, 3, 2, 3)))
    for dim, size in lopsided.items():
        set_slider(root, dim, size)
    check_view(root, spec, lopsided, points=None)  # every entry of every array once

    # the buttons: to the last step, then back to the first
    for k in range(1, len(spec.steps)):
        root.locator('button[data-step="next"]').click()
        check_step(root, spec, lopsided, k)
    root.locator('button[data-step="next"]').click(force=True)  # disabled at the last step: nothing moves
    assert root.evaluate(STEP)["current"] == len(spec.steps) - 1
    set_slider(root, "N", 4)
    lopsided["N"] = 4
    check_step(root, spec, lopsided, len(spec.steps) - 1)
    for k in reversed(range(len(spec.steps) - 1)):
        root.locator('button[data-step="prev"]').click()
        check_step(root, spec, lopsided, k)
    # keyboard: the buttons are buttons, reachable and pressed with the keyboard
    root.locator('button[data-step="next"]').focus()
    page.keyboard.press("Enter")
    check_step(root, spec, lopsided, 1)
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
        check_step(root, spec, shapes, 1)
        assert root.evaluate(READ)["source"] == "gradlib"
        assert errors == []
