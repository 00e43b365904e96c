"""What the explorer tests read from an explorer drawn in Chromium, and the checks they share.

A plain module (no tests): tests/site/test_explorer_browser.py (the static pages) and
test_explorer_jupyterlab.py (with a kernel) check the same wiring with :func:`check_view` (the
sliders, one cell per entry, gradlib's numbers, the lights of a pointed cell) and, for chapter 9's
backward pass, :func:`check_step`; test_explorer_views.py uses :func:`cell` and :func:`key`.
"""
from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

import numpy as np

from gradlib import structure

if TYPE_CHECKING:
    from playwright.sync_api import Locator

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


def key(name: str, index) -> str:
    """How READ names a cell: ``"dX|1,2"``."""
    return f"{name}|{','.join(map(str, index))}"


def cell(root: Locator, name: str, index) -> Locator:
    """The cell of array ``name`` at ``index`` (a sequence of ints or strings) in the explorer ``root``."""
    return root.locator(f'.ge-cell[data-array="{name}"][data-index="{",".join(map(str, index))}"]')


def check_view(root: Locator, spec: structure.Spec, shapes: dict[str, int], points: int | None = 1) -> dict:
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
        entries = itertools.product(*map(range, shape))
        return np.array([cells[(name, ",".join(map(str, i)))] for i in entries]).reshape(shape)
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
        pointed_at = cell(root, a.name, index)
        if pointed_at.is_visible():
            pointed_at.hover()
            pointed = root.evaluate(READ)
            assert pointed["selected"] == [key(a.name, index)]
            assert set(pointed["lit"]) == {key(n, i) for n, idx in structure.lights(spec, shapes, a.name, index).items()
                                           for i in idx}, f"{spec.rule} {shapes}: pointing at {a.name}{index}"
    assert root.evaluate(BOXES) == boxes, "pointing at cells moved the grids"
    return view


def lopsided(spec: structure.Spec) -> dict[str, int]:
    """Uneven shapes for a spec: its (up to three) dimensions at 2, 6 and 1."""
    return dict(zip([d.name for d in spec.dims], (2, 6, 1)[:len(spec.dims)], strict=True))


def set_slider(root: Locator, dim: str, value: int) -> None:
    root.locator(f'input[type=range][data-dim="{dim}"]').fill(str(value))


# --------------------------------------------------------------------------- chapter 9: the backward pass

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
  || c.querySelector('.ge-num').getBoundingClientRect().width > c.clientWidth))
  .map((c) => `${c.dataset.array}|${c.dataset.index}`)"""


def check_step(root: Locator, spec: structure.Spec, k: int) -> None:
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
