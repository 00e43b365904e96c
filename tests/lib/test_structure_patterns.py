"""The specs of chapter 8's gather and reduce_max, held to gradlib like
every other spec: values equal to gather.backward / reduce_max.backward, and lights equal to the
dependencies measured by numerical_jacobian (gather's data-dependent ones through the one-hot gate),
or, for the max's discrete dependence on X, found by moving an entry past the row's maximum."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from gradlib import gather, numerical_jacobian, reduce_max, structure
from structure_cases import entries, generic

GATHER, REDUCE_MAX = structure.GATHER, structure.REDUCE_MAX
GATHER_SHAPES = [GATHER.default_shapes, {"V": 1, "D": 1, "N": 1}, {"V": 6, "D": 2, "N": 3}, {"V": 2, "D": 3, "N": 6},
                 {"V": 6, "D": 6, "N": 6}]
MAX_SHAPES = [REDUCE_MAX.default_shapes, {"n": 1, "m": 1}, {"n": 6, "m": 1}, {"n": 1, "m": 6}, {"n": 5, "m": 6}]


@pytest.mark.parametrize("shapes", GATHER_SHAPES, ids=str)
def test_gather_spec_values_and_lights_are_gradlib_s(shapes):
    arrays = generic(GATHER, shapes)
    idx = np.argmax(arrays["S"], axis=1)
    assert list(idx) == [n % shapes["V"] for n in range(shapes["N"])]
    np.testing.assert_allclose(structure.evaluate(GATHER, arrays)["dE"], gather.backward(arrays["G"], arrays["E"], idx),
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(structure.library(GATHER, arrays)["dE"],
                                  gather.backward(arrays["G"], arrays["E"], idx))
    depends = np.abs(numerical_jacobian(lambda G: gather.backward(G, arrays["E"], idx), arrays["G"])) > 1e-6
    dE_entries, G_entries = entries(arrays["E"].shape), entries(arrays["G"].shape)
    for row, entry in enumerate(dE_entries):
        lit = structure.lights(GATHER, shapes, "dE", entry)
        assert lit.get("G", set()) == {e for col, e in enumerate(G_entries) if depends[row, col]}, entry
        assert lit.get("S", set()) == {(n, entry[0]) for n in range(shapes["N"]) if idx[n] == entry[0]}
        assert "E" not in lit  # dE does not depend on E at all
    for col, e in enumerate(G_entries):
        assert structure.lights(GATHER, shapes, "G", e) == {"dE": {d for row, d in enumerate(dE_entries)
                                                                   if depends[row, col]}}


def test_without_the_gate_gather_would_light_rows_it_does_not_read():
    ungated_dE = structure.Relation("dE", (structure.Term("nv,nd->vd", ("S", "G")),))
    ungated = dataclasses.replace(GATHER, relations=(ungated_dE,))
    shapes = GATHER.default_shapes  # idx = [0, 1, 2, 0, 1]
    assert structure.lights(GATHER, shapes, "dE", (0, 1))["G"] == {(0, 1), (3, 1)}
    assert structure.lights(ungated, shapes, "dE", (0, 1))["G"] == {(n, 1) for n in range(5)}


@pytest.mark.parametrize("shapes", MAX_SHAPES, ids=str)
def test_reduce_max_spec_values_and_lights_are_gradlib_s(shapes):
    arrays = generic(REDUCE_MAX, shapes, seed=3)
    X, g = arrays["X"], arrays["g"]
    np.testing.assert_allclose(structure.evaluate(REDUCE_MAX, arrays)["dX"], reduce_max.backward(g, X), rtol=1e-12)
    np.testing.assert_array_equal(structure.library(REDUCE_MAX, arrays)["dX"], reduce_max.backward(g, X))
    depends = np.abs(numerical_jacobian(lambda g: reduce_max.backward(g, X), g)) > 1e-6
    for row, (i, j) in enumerate(entries(X.shape)):
        lit = structure.lights(REDUCE_MAX, shapes, "dX", (i, j))
        assert lit["X"] == {(i, k) for k in range(shapes["m"])}
        # g[i] reaches dX[i, j] when j holds the maximum, so structurally always: measured at a point
        # where j wins, the derivative is there
        winning = X.copy()
        winning[i, j] = np.abs(X).max() + 1
        measured = np.abs(numerical_jacobian(lambda g, winning=winning: reduce_max.backward(g, winning), g))[row] > 1e-6
        assert lit["g"] == {(k,) for k in np.flatnonzero(measured)} == {(i,)}
        assert depends[row].sum() <= 1
        # discrete dependence on the whole row: with j winning, moving any X[i, k] past it changes dX[i, j]
        for k in range(shapes["m"]):
            moved = winning.copy()
            moved[i, k] = winning[i, j] + 1 if k != j else -np.abs(X).max() - 1
            if shapes["m"] > 1:
                assert reduce_max.backward(g, moved)[i, j] != reduce_max.backward(g, winning)[i, j], (i, j, k)


def test_formulas():
    assert structure.formula(GATHER, "dE", (2, 0)) == "dE[2,0] = Σ_n S[n,2] × G[n,0]"
    assert structure.formula(REDUCE_MAX, "dX", (1, 2)) == "dX[1,2] = g[1] × 1[X[1,2] = max X[1,:]] / #ties"
