"""gradlib.structure's lights are true: pointing at an entry lights exactly the entries it depends on
(and an input entry exactly the entries that depend on it), measured, not assumed, from
``gradlib.numerical_jacobian`` of gradlib's own ``backward`` (an entry depends on an input entry when
the derivative is clearly nonzero); a one-hot label, whose dependence is discrete, by switching the
class. Chapter 1's maps and their Jacobians too. (Chapter 8's rules: test_structure_patterns.py;
chapter 9's chain: test_structure_mlp.py.)
"""
from __future__ import annotations

import itertools

import numpy as np
import pytest

import gradlib
from gradlib import numerical_jacobian, structure
from structure_cases import CASE_IDS, CASES, THRESHOLD, entries, generic, measured

# mlp: below; reduce_max depends on X discretely (which entry wins), held to gradlib in test_structure_patterns.py
ONE_STEP = [(c, i) for c, i in zip(CASES, CASE_IDS, strict=True) if c[0].rule not in ("jacobian", "mlp", "reduce_max")]


@pytest.mark.parametrize("spec,shapes", [c for c, _ in ONE_STEP], ids=[i for _, i in ONE_STEP])
def test_lights_are_the_measured_dependencies(spec, shapes):
    """Pointing at a gradient entry lights exactly the entries it depends on; pointing at an input
    entry lights exactly the gradient entries that depend on it."""
    given = generic(spec, shapes, seed=7)
    sources = [a for a in spec.arrays if a.role in ("input", "upstream") and not a.onehot]
    for target in (r.target for r in spec.relations):
        target_shape = spec.shape(target, shapes)
        for source in sources:
            source_shape = spec.shape(source.name, shapes)
            depends = measured(spec, shapes, given, target, source.name)
            for row, entry in enumerate(entries(target_shape)):
                truth = {e for col, e in enumerate(entries(source_shape)) if depends[row, col]}
                assert structure.lights(spec, shapes, target, entry).get(source.name, set()) == truth, \
                    f"{spec.rule} {shapes}: {target}{list(entry)} vs {source.name}"
            for col, e in enumerate(entries(source_shape)):
                truth = {entry for row, entry in enumerate(entries(target_shape)) if depends[row, col]}
                assert structure.lights(spec, shapes, source.name, e).get(target, set()) == truth, \
                    f"{spec.rule} {shapes}: {source.name}{list(e)} vs {target}"


@pytest.mark.parametrize("C", [1, 2, 5, 6])
def test_softmax_xent_label_lights_are_true(C):
    """y is one-hot, so test it by switching the true class: dθ_i changes exactly when y_i does."""
    spec = structure.spec("softmax_xent")
    theta = generic(spec, {"C": C})["theta"]
    for t, c in itertools.permutations(range(C), 2):
        changed = np.abs(gradlib.softmax_xent.backward(theta, c) - gradlib.softmax_xent.backward(theta, t)) > THRESHOLD
        assert set(np.flatnonzero(changed)) == {t, c}
    for i in range(C):
        assert structure.lights(spec, {"C": C}, "dtheta", (i,))["y"] == {(i,)}
        assert structure.lights(spec, {"C": C}, "y", (i,)) == {"dtheta": {(i,)}}


def test_one_class_softmax_depends_on_nothing():
    """softmax over one class is constantly 1: nothing in θ lights up (and the derivative is 0)."""
    spec = structure.spec("softmax_xent")
    assert "theta" not in structure.lights(spec, {"C": 1}, "dtheta", (0,))
    assert structure.lights(spec, {"C": 1}, "theta", (0,)) == {}
    assert numerical_jacobian(lambda t: gradlib.softmax_xent.backward(t, 0), np.array([0.7]))[0, 0] == 0


MAP_CASES = [(s, sh) for s, sh in CASES if s.rule == "jacobian"]


@pytest.mark.parametrize("spec,shapes", MAP_CASES,
                         ids=[i for c, i in zip(CASES, CASE_IDS, strict=True) if c[0].rule == "jacobian"])
def test_jacobian_lights_are_true(spec, shapes):
    """Chapter 1: f_i lights the x_j (and A entries) that change it, measured from the map itself;
    J[i,j] is df_i/dx_j, so it lights f_i and x_j (and A_ij, which J equals for a linear map)."""
    given = generic(spec, shapes, seed=3)
    arrays = structure.library(spec, given)
    m, n = spec.shape("J", shapes)
    inputs = [a.name for a in spec.arrays if a.role == "input"]
    depends = {name: measured(spec, shapes, given, "f", name) for name in inputs}
    for i in range(m):
        lit = structure.lights(spec, shapes, "f", (i,))
        for name in inputs:
            truth = {e for col, e in enumerate(entries(spec.shape(name, shapes))) if depends[name][i, col]}
            assert lit.get(name, set()) == truth, f"f[{i}] vs {name}"
        assert lit["J"] == {(i, j) for j in range(n)}, "f_i's derivatives are row i of J"
    # J is the Jacobian of the map (gradlib's analytic one equals finite differences) ...
    def f(x: np.ndarray) -> np.ndarray:
        return structure.library(spec, {**given, "x": x})["f"]
    np.testing.assert_allclose(arrays["J"], numerical_jacobian(f, given["x"]), atol=1e-8)
    for i, j in entries((m, n)):
        lit = structure.lights(spec, shapes, "J", (i, j))
        assert lit["f"] == {(i,)} and lit["x"] == {(j,)}
        # ... it is nonzero only where x_j changes f_i ...
        if abs(arrays["J"][i, j]) > THRESHOLD:
            assert depends["x"][i, j]
        # ... and for A x it is A: entry (i, j) depends on A_ij alone.
        if "A" in inputs:
            assert lit["A"] == {(i, j)}
            assert set(np.flatnonzero(measured(spec, shapes, given, "J", "A")[i * n + j])) == {i * n + j}
    for j in range(n):
        lit = structure.lights(spec, shapes, "x", (j,))
        assert lit["J"] == {(i, j) for i in range(m)}
        assert lit.get("f", set()) == {(i,) for i in range(m) if depends["x"][i, j]}
