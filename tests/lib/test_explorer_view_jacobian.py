"""The explorer's Jacobian view (chapters 3-7) under Node: pointing at a Jacobian entry lights what its
value is made of, measured with gradlib.numerical_jacobian, its values and structural zeros are
structure.jacobian's, and its captions read as the book writes them."""
from __future__ import annotations

import functools
import itertools

import numpy as np
import pytest

from explorer_view_node import case, key, number, run, view_shapes
from gradlib import structure
from structure_cases import ALL_SPECS, entries, forward_jacobian

JACOBIAN_SPECS = [s for s in ALL_SPECS if s.output]


def made_of(spec: structure.Spec, given: dict[str, np.ndarray], wrt: str) -> dict[tuple[int, int], set[str]]:
    """(row, col) -> the input entries the Jacobian entry's value is made of, measured: the entries whose
    change changes it (the numerical Jacobian, again after nudging each entry of every other input)."""
    base = forward_jacobian(spec, given, wrt)
    out: dict[tuple[int, int], set[str]] = {at: set() for at in itertools.product(*map(range, base.shape))}
    for other in (a for a in spec.library[0].args[1:] if a != wrt):
        for index in entries(given[other].shape):
            nudged = given[other].copy()
            nudged[index] += 0.5
            changed = np.abs(forward_jacobian(spec, {**given, other: nudged}, wrt) - base) > 1e-6
            for at in zip(*np.nonzero(changed), strict=True):
                out[tuple(int(i) for i in at)].add(key(other, index))
    return out


JACOBIAN_CASES = [(s, wrt, shapes) for s in JACOBIAN_SPECS for wrt, _ in s.jacobian_notes for shapes in view_shapes(s)]


@pytest.fixture(scope="module")
def jacobian_views():
    cases = []
    for spec, wrt, shapes in JACOBIAN_CASES:
        middle = entries(spec.shape(wrt, shapes))[len(entries(spec.shape(wrt, shapes))) // 2]
        cases.append(case(spec, shapes, wrt=wrt, gradient=key(f"d{wrt}", middle)))
    return run("jacobian", cases)


def test_jacobian_lights_what_each_entry_is_made_of(jacobian_views):
    """Pointing at ∂z[u]/∂W[w] lights the output z[u] (its row's label), the input W[w] (the cell and its
    column's label) and every entry the value is made of, measured with numerical_jacobian; never the
    upstream r[u]. The values and structural zeros are structure.jacobian's (= numerical_jacobian)."""
    for (spec, wrt, shapes), view in zip(JACOBIAN_CASES, jacobian_views, strict=True):
        given = structure.inputs(spec, shapes, structure.random_values(spec.rule))
        pattern, values = structure.jacobian(spec, given, wrt)
        made = made_of(spec, given, wrt)
        upstream = next(a.name for a in spec.arrays if a.role == "upstream")
        assert (view["height"], view["width"]) == pattern.shape
        cols = entries(given[wrt].shape)
        for k, cell in enumerate(view["cells"]):
            row, col = divmod(k, pattern.shape[1])
            where = f"{spec.rule} ∂{spec.output}/∂{wrt} ({row}, {col}) at {shapes}"
            assert cell["selected"] == f"jacobian|{row},{col}"
            if not pattern[row, col]:
                assert cell["value"] is None and " = 0: " in cell["caption"]
                assert cell["caption"].endswith("(a structural zero)")
                continue
            assert cell["value"] == pytest.approx(values[row, col], abs=1e-12), where
            assert set(cell["lit"]) == {f"row|{row}", f"col|{col}", key(wrt, cols[col]), *made[row, col]}, where
            assert not any(k.startswith(f"{upstream}|") for k in cell["lit"]), where
        assert view["summary"].startswith(f"∂{spec.output}/∂{wrt}: {pattern.sum()} of {pattern.size} entries can be "
                                          f"nonzero: {dict(spec.jacobian_notes)[wrt]}.")
        # a gradient entry lights its Jacobian column and the upstream entries weighting it
        col = len(cols) // 2
        rows = np.flatnonzero(pattern[:, col])
        ups = entries(given[upstream].shape)
        lit = set(view["gradient"]["lit"])
        assert {k for k in lit if k.startswith("jacobian|")} == {f"jacobian|{r},{col}" for r in rows}
        assert {key(upstream, ups[r]) for r in rows} <= lit and f"col|{col}" in lit
        assert f"In the Jacobian: column {col}" in view["gradient"]["caption"]


def test_jacobian_captions_in_the_books_form(jacobian_views):
    """'∂z[1]/∂W[1,2] = x[2] = 0.81': the entry the value is, then the number; a constant '= 1'."""
    seen = set()
    for (spec, wrt, shapes), view in zip(JACOBIAN_CASES, jacobian_views, strict=True):
        if shapes != spec.default_shapes:
            continue
        given = structure.inputs(spec, shapes, structure.random_values(spec.rule))
        caption = functools.partial(cell_caption, view, given[wrt].size)
        if spec.rule == "matvec" and wrt == "W":
            assert caption(1, 1 * 4 + 2) == f"∂z[1]/∂W[1,2] = x[2] = {number(given['x'][2])}"
            assert caption(0, 1 * 4 + 2) == "∂z[0]/∂W[1,2] = 0: z[0] does not depend on W[1,2] (a structural zero)"
        if spec.rule == "matmul" and wrt == "X":  # ∂B[0,0]/∂X[0,0] = Y[0,0]
            assert caption(0, 0) == f"∂B[0,0]/∂X[0,0] = Y[0,0] = {number(given['Y'][0, 0])}"
        if spec.rule == "broadcast_mul" and wrt == "y":  # ∂B[i,j]/∂y[j] = X[i,j]
            m = shapes["m"]
            assert caption(2 * m + 1, 1) == f"∂B[2,1]/∂y[1] = X[2,1] = {number(given['X'][2, 1])}"
        if spec.rule == "broadcast_add" and wrt == "X":
            assert caption(5, 5) == "∂B[1,2]/∂X[1,2] = 1"
        seen.add((spec.rule, wrt))
    assert len(seen) == 10


def cell_caption(view: dict, width: int, row: int, col: int) -> str:
    """The caption of the Jacobian view's cell (row, col), ``width`` columns a row."""
    return view["cells"][row * width + col]["caption"]
