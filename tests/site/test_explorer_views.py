"""The explorer's two extra views on the built site, in Chromium, with no kernel and no network.

The Jacobian view (chapters 3-7): the toggle, one cell per (output entry, input entry), the drawn
zeros and values against gradlib.structure.jacobian (which tests/lib/test_structure.py holds to
gradlib.numerical_jacobian of the rule's forward map), the lights when pointing at a gradient entry
and at a Jacobian entry, at a phone's width (390 px) and a desktop's (1280 px), up to the largest
Jacobian (36 x 216 for matmul) scrolling inside the explorer.

Predict mode (chapters 1-8): pointing lights nothing; picks, unpicks (mouse and keyboard), then the
reveal: every verdict against gradlib.structure.lights, the score line, and the verdict marks
distinguishable without colour and legible in light and dark mode.
"""
from __future__ import annotations

import itertools

import numpy as np
import pytest
from booksite import RULE_PAGES, contrast

from gradlib import structure

pytestmark = [pytest.mark.browser, pytest.mark.book]

JACOBIAN_RULES = ["matvec", "vecmat", "matmul", "broadcast_add", "broadcast_mul"]
PAGES = {{"backprop_mlp": "mlp"}.get(slug, slug): p  # rule -> its chapter's page
         for p in RULE_PAGES for slug in [p.split("/")[-1].split("_", 1)[1].removesuffix(".html")]}

READ = """(root) => {
  const name = (c) => `${c.dataset.array}|${c.dataset.index}`;
  const cells = Array.from(root.querySelectorAll('.ge-cell[data-array]'));
  return {
    jacobian: cells.filter((c) => c.dataset.array === 'jacobian')
      .map((c) => [c.dataset.index, c.dataset.zero === 'true' ? null : Number(c.dataset.value), c.textContent]),
    lit: cells.filter((c) => c.dataset.lit === 'true').map(name),
    heads: Array.from(root.querySelectorAll('.ge-jac th[data-lit="true"]')).map((th) => th.textContent),
    selected: cells.filter((c) => c.dataset.selected === 'true').map(name),
    guesses: cells.filter((c) => c.dataset.guess === 'true').map(name),
    verdicts: Object.fromEntries(cells.filter((c) => c.dataset.verdict).map((c) => [name(c), c.dataset.verdict])),
    caption: root.querySelector('.ge-caption').textContent,
    summary: (root.querySelector('.ge-jac-summary') || {}).textContent,
    score: root.querySelector('.ge-score').textContent,
  };
}"""

FITS = """(root) => {
  const box = root.getBoundingClientRect(), scroller = root.querySelector('.ge-jac-scroll');
  const s = scroller.getBoundingClientRect();
  return { page: box.right <= window.innerWidth + 1,
           inside: s.left >= box.left - 1 && s.right <= box.right + 1,
           scrolls: scroller.scrollWidth > scroller.clientWidth, cell: scroller.querySelector('.ge-cell').offsetWidth };
}"""


def explorer(open_page, rule: str, **options):
    page = open_page(PAGES[rule], **options)
    root = page.locator(f'.gradlib-explorer[data-rule="{rule}"]').first
    root.scroll_into_view_if_needed()
    return page, root


def cell(root, name: str, index) -> object:
    return root.locator(f'.ge-cell[data-array="{name}"][data-index="{",".join(map(str, index))}"]')


def at(root, k: str) -> object:
    """The cell of key ``"dW|1,2"``."""
    name, index = k.split("|")
    return cell(root, name, index.split(","))


def set_shapes(root, shapes: dict[str, int]) -> None:
    for dim, size in shapes.items():
        root.locator(f'input[type=range][data-dim="{dim}"]').fill(str(size))


def shapes_of(root, spec: structure.Spec) -> dict[str, int]:
    """The sizes on the sliders (a chapter may open its explorer at other sizes than the defaults)."""
    return {d.name: int(root.locator(f'input[type=range][data-dim="{d.name}"]').input_value()) for d in spec.dims}


def upstream_of(spec: structure.Spec) -> str:
    return next(a.name for a in spec.arrays if a.role == "upstream")


def check_jacobian(root, spec: structure.Spec, shapes: dict[str, int], wrt: str) -> np.ndarray:
    """Cells, zeros, values and lights of the Jacobian view of ``wrt`` at ``shapes`` (already set)."""
    given = structure.inputs(spec, shapes, structure.random_values(spec.rule))
    pattern, values = structure.jacobian(spec, given, wrt)
    view = root.evaluate(READ)
    assert len(view["jacobian"]) == pattern.size == given[upstream_of(spec)].size * given[wrt].size
    drawn = {tuple(map(int, index.split(","))): (value, text) for index, value, text in view["jacobian"]}
    assert set(drawn) == set(itertools.product(*map(range, pattern.shape)))
    for (row, col), (value, text) in drawn.items():
        if pattern[row, col]:
            assert value == pytest.approx(values[row, col], abs=1e-12), (wrt, row, col)
        else:
            assert value is None and text == "", f"structural zero ({row}, {col}) drawn as {text!r}"
    assert view["summary"].startswith(f"∂{spec.output}/∂{wrt}: {pattern.sum()} of {pattern.size} entries can be "
                                      f"nonzero: {dict(spec.jacobian_notes)[wrt]}.")
    # a gradient entry lights its Jacobian column and the upstream entries weighting it
    entries = list(itertools.product(*map(range, given[wrt].shape)))
    w = entries[len(entries) // 2]
    col = entries.index(w)
    cell(root, f"d{wrt}", w).hover()
    view = root.evaluate(READ)
    rows = np.flatnonzero(pattern[:, col])
    ups = list(itertools.product(*map(range, given[upstream_of(spec)].shape)))
    assert {k for k in view["lit"] if k.startswith("jacobian|")} == {f"jacobian|{r},{col}" for r in rows}
    assert {f"{upstream_of(spec)}|{','.join(map(str, ups[r]))}" for r in rows} <= set(view["lit"])
    assert f"In the Jacobian: column {col}" in view["caption"]
    # a Jacobian entry lights the output (row label) and input entry it relates; the caption has the value
    row = int(rows[0])
    cell(root, "jacobian", (row, col)).hover()
    view = root.evaluate(READ)
    z, x = f"{spec.output}[{','.join(map(str, ups[row]))}]", f"{wrt}[{','.join(map(str, w))}]"
    assert view["selected"] == [f"jacobian|{row},{col}"]
    assert sorted(view["heads"]) == sorted([z, x])
    assert set(view["lit"]) == {f"{wrt}|{','.join(map(str, w))}", f"{upstream_of(spec)}|{','.join(map(str, ups[row]))}"}
    value = f"{values[row, col]:.2f}".replace("-", "−")
    assert view["caption"].startswith(f"∂{z}/∂{x} = ") and view["caption"].endswith(f"= {value}"), view["caption"]
    zero = np.flatnonzero(~pattern[:, col])
    if zero.size:
        cell(root, "jacobian", (int(zero[0]), col)).hover()
        assert root.evaluate(READ)["caption"].endswith("(a structural zero)")
    return pattern


@pytest.mark.parametrize("width", [390, 1280])
@pytest.mark.parametrize("rule", JACOBIAN_RULES)
def test_jacobian_view(open_page, rule, width):
    page, root = explorer(open_page, rule, width=width)
    spec = structure.spec(rule)
    assert root.locator('[data-array="jacobian"]').count() == 0, "the normal view is the default"
    assert root.get_attribute("data-view") == "normal"
    root.locator('[data-view="jacobian"]').click()
    assert root.get_attribute("data-view") == "jacobian"
    assert root.locator('[data-view="jacobian"]').get_attribute("aria-pressed") == "true"
    shapes = shapes_of(root, spec)
    for wrt, _ in spec.jacobian_notes:
        root.locator('select[data-control="wrt"]').select_option(wrt)
        check_jacobian(root, spec, shapes, wrt)
    # the largest shapes: the Jacobian scrolls inside the explorer, the page does not widen
    largest = spec.max_shapes
    set_shapes(root, largest)
    for wrt, _ in spec.jacobian_notes:
        root.locator('select[data-control="wrt"]').select_option(wrt)
        pattern = check_jacobian(root, spec, largest, wrt)
        fits = root.evaluate(FITS)
        assert fits["page"] and fits["inside"], f"the Jacobian of {wrt} overflows the page at {width} px"
        if pattern.shape[1] > 8:
            assert fits["cell"] <= 24, "a wide Jacobian draws small cells, without numbers"
        if width == 390 and pattern.shape[1] >= 30:
            assert fits["scrolls"], "at a phone's width the widest Jacobians scroll inside the explorer"
    if rule == "matmul":
        assert root.locator('[data-array="jacobian"]').count() == 36 * 36  # B (6 x 6) by Y (6 x 6)
    # clicking an entry of the other input shows that input's Jacobian
    first, second = (name for name, _ in spec.jacobian_notes)
    root.locator('select[data-control="wrt"]').select_option(first)
    cell(root, f"d{second}", (0,) * len(spec.array(second).dims)).click()
    assert root.locator('select[data-control="wrt"]').input_value() == second
    assert root.evaluate(READ)["summary"].startswith(f"∂{spec.output}/∂{second}:")
    # keyboard: focus selects a Jacobian entry, arrow keys move along the table
    page.mouse.move(0, 0)
    cell(root, "jacobian", (1, 1)).focus()
    assert root.evaluate(READ)["selected"] == ["jacobian|1,1"]
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowDown")
    assert root.evaluate(READ)["selected"] == ["jacobian|2,2"]
    root.locator('[data-view="normal"]').click()
    assert root.locator('[data-array="jacobian"]').count() == 0
    assert [e for e in page.console_errors if e.startswith("uncaught")] == []


# --- predict mode ---------------------------------------------------------------------------------

def key(name: str, index) -> str:
    return f"{name}|{','.join(map(str, index))}"


def text_of(spec: structure.Spec, k: str) -> str:
    name, index = k.split("|")
    return f"{spec.array(name).text}[{index}]"


@pytest.mark.parametrize("rule", list(PAGES))
def test_predict_mode(open_page, rule):
    page, root = explorer(open_page, rule)
    spec = structure.spec(rule, root.get_attribute("data-variant") or "")
    shapes = shapes_of(root, spec)
    root.locator('[data-mode="predict"]').click()
    assert root.get_attribute("data-mode") == "predict"
    assert root.locator('[data-action="reveal"]').is_visible()
    view = root.evaluate(READ)
    [question] = view["selected"]
    assert view["lit"] == [] and view["caption"].startswith("Predict: which entries light up with")
    name, index = question.split("|")
    index = tuple(map(int, index.split(",")))
    truth = {key(n, i) for n, indices in structure.lights(spec, shapes, name, index).items() for i in indices}
    everything = {key(a.name, i) for a in spec.arrays for i in itertools.product(*map(range, spec.shape(a.name, shapes)))}
    others = sorted(everything - truth - {question})
    # pointing lights nothing in predict mode
    at(root, others[0]).hover()
    assert root.evaluate(READ)["lit"] == [] and root.evaluate(READ)["selected"] == [question]
    # pick all but one dependency and one entry that is not; pick and unpick another (the keyboard)
    missed, *picked = sorted(truth)
    extra, toggled = others[0], others[-1]
    for k in [*picked, extra]:
        at(root, k).click()
    at(root, toggled).focus()
    page.keyboard.press("Enter")
    assert toggled in root.evaluate(READ)["guesses"]
    page.keyboard.press("Space")
    view = root.evaluate(READ)
    assert sorted(view["guesses"]) == sorted([*picked, extra]) and view["lit"] == []
    assert at(root, extra).get_attribute("aria-pressed") == "true"
    root.locator('[data-action="reveal"]').click()
    view = root.evaluate(READ)
    expected = {**{k: "hit" for k in picked}, missed: "miss", extra: "extra"}
    assert view["verdicts"] == expected, f"{rule}: verdicts against structure.lights of {question}"
    computed = any(r.target == name for r in spec.relations)
    feeds = any(name in t.operands for r in spec.relations for t in r.terms)
    verb = "is not linked to" if computed and feeds else "does not depend on" if computed else "does not feed"
    assert view["score"] == (f"{len(picked)} of {len(truth)}, one missed: {text_of(spec, missed)}, "
                             f"one extra: {text_of(spec, question)} {verb} {text_of(spec, extra)}")
    labels = root.evaluate("(root) => Array.from(root.querySelectorAll('[data-verdict]'), (c) => c.getAttribute('aria-label'))")
    assert all(" — right: " in a or " — missed: " in a or " — extra: " in a for a in labels)
    # after the reveal, a click asks about that entry; explore mode lights again
    at(root, missed).click()
    view = root.evaluate(READ)
    assert view["selected"] == [missed] and view["verdicts"] == {} and view["guesses"] == []
    root.locator('[data-mode="explore"]').click()
    assert not root.locator('[data-action="reveal"]').is_visible()
    assert root.evaluate(READ)["lit"], "explore mode lights the pinned entry's dependencies again"
    assert [e for e in page.console_errors if e.startswith("uncaught")] == []


MARKS = """(root) => Array.from(root.querySelectorAll('[data-verdict], [data-guess]'), (c) => {
  const cell = getComputedStyle(c), mark = getComputedStyle(c, '::after');
  return [c.dataset.verdict || 'guess', mark.content, mark.color, mark.backgroundColor, cell.outlineStyle,
          cell.textDecorationLine];
})"""


def rgb(css: str) -> list[float]:
    return [float(v) for v in css[css.index("(") + 1:css.index(")")].split(",")[:3]]


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_verdict_marks_are_legible_and_not_colour_alone(open_page, theme):
    page, root = explorer(open_page, "broadcast_add", theme=theme)
    if theme == "dark":
        assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    root.locator('[data-mode="predict"]').click()  # dy[1]: the column dB[:,1]
    for index in ["0,1", "1,1", "0,0"]:
        cell(root, "dB", index.split(",")).click()
    cell(root, "X", ["2", "2"]).click()
    guess_marks = root.evaluate(MARKS)
    assert {m[0] for m in guess_marks} == {"guess"} and all(m[1] == '"?"' for m in guess_marks)
    root.locator('[data-action="reveal"]').click()
    marks = root.evaluate(MARKS)
    kinds = {m[0]: m for m in marks}
    assert set(kinds) == {"hit", "miss", "extra"}
    # a different glyph and a different ring per verdict: readable without colour
    assert len({m[1] for m in kinds.values()}) == 3 and len({m[4] for m in kinds.values()}) == 3
    for verdict, content, colour, background, _, _ in marks:
        assert content not in ("none", "normal", '""'), verdict
        assert contrast(rgb(colour), rgb(background)) >= 4.5, (theme, verdict, colour, background)
    # the legend explains the marks in words
    assert root.locator(".ge-predict-legend").is_visible()
    assert "right" in root.locator(".ge-predict-legend").text_content()
