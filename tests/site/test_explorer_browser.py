"""Each chapter's explorer on the built site, in Chromium, with no kernel and no network: the wiring.

Every page is opened with every request to another origin aborted (the site serves all it needs,
see booksite.py) and settled by its settle(), which scrolls each explorer into view and waits
until it has rendered (_assets/widget-host.js draws it from the page's embedded widget state).
What the view state decides (lights, captions, predict verdicts, the Jacobian, chapter 9's steps) is
tested under Node for every rule and shape (tests/lib/test_explorer_view.py); here a few hovers,
clicks, slider moves and keys per chapter check that the page draws it: one cell per entry, gradlib's
numbers, the lights of a pointed cell, chapter 9's steps on one screen (the checks: explorer_checks.py;
with a kernel: test_explorer_jupyterlab.py).
"""
from __future__ import annotations

import re

import pytest

from booksite import RULE_PAGES, live_explorers, toc_pages, widget_models
from explorer_checks import OVERFLOW, READ, STEP, cell, check_step, check_view, key, lopsided, set_slider
from gradlib import structure

pytestmark = [pytest.mark.book, pytest.mark.browser]
GRADLIB_STATUS = "Values computed by gradlib in Python, from the rule."  # before the reader changes anything


@pytest.mark.parametrize("book_page", [p for p in RULE_PAGES if not p.startswith("chapters/09_")],  # 09: below
                         ids=lambda p: p.removesuffix(".html"))
def test_explorer_on_the_static_page(open_explorer, book_html, book_page):
    """Rendered once, offline, no errors; the sliders, grids, numbers, pointing and keys are wired."""
    rule = re.match(r"chapters/0\d_(\w+)\.html", book_page).group(1)
    shown, root = open_explorer(rule, book_page)
    page = shown.page
    assert shown.uncaught == [], "JavaScript exceptions on the page"
    assert shown.blocked_requests == [], "the page asked another origin for something"
    models = widget_models((book_html / book_page).read_text(encoding="utf-8"), "gradlib.explorer.Explorer")
    assert live_explorers(shown).count() == len(models) >= 1, "each explorer renders exactly once"
    assert [m["rule"] for m in models].count(rule) >= 1
    assert root.locator(".ge-status").text_content() == GRADLIB_STATUS

    variants = [s.variant for s in structure.SPECS[rule]]
    for variant in variants:
        if variant:
            root.locator('select[data-param="variant"]').select_option(variant)
        spec = structure.spec(rule, variant)
        assert root.evaluate(READ)["variant"] == spec.variant
        shapes = {d: v[0] for d, v in root.evaluate(READ)["sliders"].items()}
        check_view(root, spec, shapes, points=2)
        uneven = lopsided(spec)
        for dim, size in uneven.items():
            set_slider(root, dim, size)
        view = check_view(root, spec, uneven)
        assert view["source"] == "page", "after a change the page computes the numbers itself"
        assert root.locator(".ge-status").text_content().startswith("Values computed in your browser from the rule")
        for dim, size in shapes.items():
            set_slider(root, dim, size)

    # keyboard: focusing a cell selects it; arrow keys move along the grid
    spec = structure.spec(rule, variants[0])
    if variants[0]:
        root.locator('select[data-param="variant"]').select_option(variants[0])
    target, index = spec.select
    page.mouse.move(0, 0)  # the pointer off the grids, so scrolling cannot point at a cell
    cell(root, target, index).focus()
    assert root.evaluate(READ)["selected"] == [key(target, index)]
    page.keyboard.press("ArrowLeft")
    moved = (*index[:-1], index[-1] - 1)
    assert root.evaluate(READ)["selected"] == [key(target, moved)]
    assert shown.uncaught == []


@pytest.mark.parametrize("book_page", [p for p in RULE_PAGES if "softmax_xent" in p], ids=["softmax_xent"])
def test_softmax_xent_class_slider(open_explorer, book_page):
    """t moves the one-hot label and stays below C; one class lights nothing in θ."""
    _, root = open_explorer("softmax_xent", book_page)
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
    cell(root, "dtheta", [0]).hover()
    view = root.evaluate(READ)
    assert view["lit"] == ["y|0"] and "with one class" in view["caption"]


# --------------------------------------------------------------------------- chapter 8: gather and max

PATTERN_PAGES = [p for p in toc_pages() if p.startswith("chapters/08_")]
# rule -> (an entry to point at, what it lights at the default shapes: idx[n] = n mod V; X's row 1)
PATTERN_POINTS = {"gather": ("dE|0,1", {"G|0,1", "G|3,1", "S|0,0", "S|3,0"}),
                  "reduce_max": ("dX|1,2", {"g|1", "X|1,0", "X|1,1", "X|1,2", "X|1,3"})}


@pytest.mark.parametrize("rule", PATTERN_POINTS)
@pytest.mark.parametrize("book_page", PATTERN_PAGES, ids=lambda p: p.removesuffix(".html"))
def test_pattern_explorers_on_the_static_page(open_explorer, book_page, rule):
    """Chapter 8's gather and reduce_max explorers: rendered with no errors, gradlib's numbers, a hover lights
    the rows of G that add into dE[0,1] (the max's whole row for dX[1,2]), the sliders (predict mode:
    test_explorer_views.py)."""
    shown, root = open_explorer(rule, book_page)
    assert shown.uncaught == [], "JavaScript exceptions on the page"
    assert live_explorers(shown, rule).count() == 1
    assert root.locator(".ge-status").text_content() == GRADLIB_STATUS
    spec = structure.spec(rule)
    check_view(root, spec, spec.default_shapes, points=None)
    entry, lit = PATTERN_POINTS[rule]
    name, index = entry.split("|")
    cell(root, name, [index]).hover()
    assert set(root.evaluate(READ)["lit"]) == lit
    uneven = lopsided(spec)
    for dim, size in uneven.items():
        set_slider(root, dim, size)
    assert check_view(root, spec, uneven, points=None)["source"] == "page"
    assert shown.uncaught == []


# --------------------------------------------------------------------------- chapter 9: the backward pass

MLP_PAGES = [p for p in toc_pages() if "backprop_mlp" in p]


@pytest.mark.parametrize("book_page", MLP_PAGES, ids=lambda p: p.removesuffix(".html"))
def test_backward_pass_explorer_on_the_static_page(open_explorer, book_page):
    """Chapter 9's explorer, no kernel: fits a 1280 x 800 screen at every step, the step buttons walk the
    pass (forward only at step 1), and no number overflows its cell at the smallest and largest sizes."""
    shown, root = open_explorer("mlp", book_page, width=1280, height=800)
    assert shown.uncaught == []
    assert live_explorers(shown).count() == 1, "the explorer renders exactly once"
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
    for sizes in [dict.fromkeys("NDHC", 6), dict.fromkeys("NDHC", 1), dict(zip("NDHC", (6, 1, 6, 2), strict=True))]:
        for dim, size in sizes.items():
            set_slider(root, dim, size)
        view = check_view(root, spec, sizes, points=1)
        assert view["source"] == "page"
        for mode in ("explore", "predict"):
            root.locator(f'[data-mode="{mode}"]').click()
            assert root.evaluate(OVERFLOW) == [], f"numbers overflow their cells at {sizes} ({mode})"
        root.locator('[data-mode="explore"]').click()
    assert shown.uncaught == []
