"""Chapter 9's network in gradlib.structure, one link of the chain at a time: each computed entry
lights exactly what its step of gradlib.mlp.trace depends on (measured by numerical_jacobian of
gradlib's rule for that step; the class and the ReLU's sign, discrete, by switching them), the steps
cover the chain and quote gradlib.mlp's own lines, and the index formulas read as the chapter's."""
from __future__ import annotations

import inspect
from collections.abc import Callable

import numpy as np
import pytest

import gradlib
from gradlib import numerical_jacobian, structure
from structure_cases import CASE_IDS, CASES, THRESHOLD, entries, generic

MLP = structure.spec("mlp")


MLP_CASES = [(c[1], i) for c, i in zip(CASES, CASE_IDS, strict=True) if c[0].rule == "mlp"]


def mlp_steps(arrays: dict[str, np.ndarray]) -> dict[str, tuple[Callable[..., np.ndarray], tuple[str, ...]]]:
    """Each computed array as gradlib computes it from the arrays its step reads (the rest held fixed):
    target -> (function of those arrays, their names). The same calls as gradlib.mlp.trace."""
    from gradlib import broadcast_add as add
    from gradlib import matmul, softmax_xent
    t = np.argmax(arrays["T"], axis=1)
    XW1, HW2 = arrays["X"] @ arrays["W1"], arrays["H"] @ arrays["W2"]
    return {
        "Z1": (lambda X, W1, b1: add.forward(matmul.forward(X, W1), b1), ("X", "W1", "b1")),
        "H": (gradlib.mlp.relu, ("Z1",)),
        "Theta": (lambda H, W2, b2: add.forward(matmul.forward(H, W2), b2), ("H", "W2", "b2")),
        "dTheta": (lambda Theta: softmax_xent.backward(Theta, t), ("Theta",)),
        "db2": (lambda dTheta: add.backward(dTheta, HW2, arrays["b2"])[1], ("dTheta",)),
        "dW2": (lambda H, dTheta: matmul.backward(dTheta, H, arrays["W2"])[1], ("H", "dTheta")),
        "dH": (lambda dTheta, W2: matmul.backward(dTheta, arrays["H"], W2)[0], ("dTheta", "W2")),
        "dZ1": (lambda dH: dH * (arrays["Z1"] > 0), ("dH",)),
        "db1": (lambda dZ1: add.backward(dZ1, XW1, arrays["b1"])[1], ("dZ1",)),
        "dW1": (lambda X, dZ1: matmul.backward(dZ1, X, arrays["W1"])[1], ("X", "dZ1")),
    }


@pytest.mark.parametrize("shapes", [c for c, _ in MLP_CASES], ids=[i for _, i in MLP_CASES])
def test_mlp_lights_are_the_measured_dependencies_of_each_step(shapes):
    """Each computed entry lights exactly the entries its step depends on, measured by
    numerical_jacobian of gradlib's own rule for that step, and nothing else; and each entry lights
    exactly the entries of later steps that depend on it. A step is a function of what it reads, so
    it is measured at generic values of those arrays (no zeros, no coincidences), as the one-rule
    explorers are: at the chain's own values a unit that is off (Z1 < 0) or a loss over one class
    (dTheta = 0) multiplies what a step reads by 0 and hides it. The two discrete dependencies (the
    class in T, the sign of Z1 in the ReLU mask) are switched instead: see the next test."""
    rng = np.random.default_rng(11)
    arrays = {a.name: rng.uniform(0.3, 1.0, size=MLP.shape(a.name, shapes))
              * rng.choice([-1.0, 1.0], size=MLP.shape(a.name, shapes)) for a in MLP.arrays}
    arrays["Z1"] = np.abs(arrays["Z1"])  # every unit on: the mask passes what it reads
    arrays["T"] = structure.inputs(MLP, shapes, structure.random_values("mlp"))["T"]
    steps = mlp_steps(arrays)
    assert list(steps) == [r.target for r in MLP.relations]
    discrete = {("dTheta", "T"), ("dZ1", "Z1")}
    for target, (function, reads) in steps.items():
        lit_from = {name for r in MLP.relations if r.target == target for term in r.terms for name in term.operands}
        assert lit_from - set(reads) <= {name for t, name in discrete if t == target}, target
        for k, source in enumerate(reads):
            def of(v, k=k, function=function, reads=reads):
                return function(*(v if j == k else arrays[r] for j, r in enumerate(reads)))
            depends = np.abs(numerical_jacobian(of, arrays[source])) > THRESHOLD
            target_entries, source_entries = entries(arrays[target].shape), entries(arrays[source].shape)
            for row, entry in enumerate(target_entries):
                truth = {e for col, e in enumerate(source_entries) if depends[row, col]}
                assert structure.lights(MLP, shapes, target, entry).get(source, set()) == truth, \
                    f"{shapes}: {target}{list(entry)} vs {source}"
            for col, e in enumerate(source_entries):
                truth = {entry for row, entry in enumerate(target_entries) if depends[row, col]}
                assert structure.lights(MLP, shapes, source, e).get(target, set()) == truth, \
                    f"{shapes}: {source}{list(e)} vs {target}"


@pytest.mark.parametrize("shapes", [{"N": 3, "D": 2, "H": 4, "C": 3}, {"N": 5, "D": 1, "H": 2, "C": 2}])
def test_mlp_discrete_lights_are_true(shapes):
    """dTheta[i,c] reads T[i,c] alone (switch example i's class: exactly the two entries of row i
    change); dZ1[i,h] reads Z1[i,h] alone through the mask (flip Z1[i,h]'s sign: only dZ1[i,h] changes)."""
    given = generic(MLP, shapes, seed=5)
    arrays = structure.library(MLP, given)
    N, C = arrays["dTheta"].shape
    t = np.argmax(arrays["T"], axis=1)
    for i in range(N):
        for c in range(C):
            if c == t[i]:
                continue
            other = t.copy()
            other[i] = c
            changed = np.abs(gradlib.softmax_xent.backward(arrays["Theta"], other)
                             - gradlib.softmax_xent.backward(arrays["Theta"], t)) > THRESHOLD
            assert set(zip(*np.nonzero(changed), strict=True)) == {(i, c), (i, t[i])}
        for c in range(C):
            assert structure.lights(MLP, shapes, "dTheta", (i, c))["T"] == {(i, c)}
    for i, h in entries(arrays["Z1"].shape):
        flipped = arrays["Z1"].copy()
        flipped[i, h] = -flipped[i, h]
        changed = np.abs(arrays["dH"] * (flipped > 0) - arrays["dZ1"]) > THRESHOLD
        assert set(zip(*np.nonzero(changed), strict=True)) == {(i, h)}
        assert structure.lights(MLP, shapes, "dZ1", (i, h))["Z1"] == {(i, h)}
        assert structure.lights(MLP, shapes, "Z1", (i, h))["dZ1"] == {(i, h)}


def test_mlp_one_hot_rows_and_steps():
    given = structure.inputs(MLP, {"N": 5, "D": 2, "H": 2, "C": 3}, structure.random_values("mlp"))
    assert [int(c) for c in np.argmax(given["T"], axis=1)] == [0, 1, 2, 0, 1]
    assert np.array_equal(given["T"].sum(axis=1), np.ones(5))
    computed = [r.target for r in MLP.relations]
    written = [name for step in MLP.steps for name in step.writes]
    assert sorted(written) == sorted(computed), "every computed array is written by exactly one step"
    for step in MLP.steps:
        reads = {o for r in MLP.relations if r.target in step.writes for t in r.terms for o in t.operands}
        assert reads - set(step.writes) == set(step.reads), step.title
    source = inspect.getsource(gradlib.mlp.trace)  # each step quotes gradlib.mlp's own lines
    assert all(part in source for step in MLP.steps for part in step.code.split(" ... ")), "a step's code drifted"
    assert [s.rule.split(",")[0] for s in MLP.steps[1:]] == ["chapter 2", "chapter 6", "chapter 5", "chapter 1",
                                                            "chapter 6", "chapter 5"]


def test_mlp_formulas():
    assert structure.formula(MLP, "Z1", (0, 1)) == "Z1[0,1] = Σ_d X[0,d] × W1[d,1] + b1[1]"
    assert structure.formula(MLP, "dTheta", (1, 2)) == "dΘ[1,2] = softmax(Θ[1,:])[2] / N − T[1,2] / N"
    assert structure.formula(MLP, "dZ1", (0, 1)) == "dZ1[0,1] = dH[0,1] × 1[Z1[0,1] > 0]"
    assert structure.formula(MLP, "db2", (2,)) == "db2[2] = Σ_n dΘ[n,2]"
    assert structure.formula(MLP, "dW1", (1, 2)) == "dW1[1,2] = Σ_n X[n,1] × dZ1[n,2]"
