"""gradlib.structure: each rule's spec computes gradlib's numbers, and says so in its formulas.

The explorer's numbers could lie: :func:`structure.evaluate` computes every array from the spec's
patterns alone and must equal gradlib's own ``backward`` (``structure.library``), at every shape the
sliders allow the extremes of. The spec as data (what explorer.js receives), its index formulas, its
random values and its errors are here too; its lights: test_structure_lights.py, chapter 9's chain:
test_structure_mlp.py, the Jacobian view: test_structure_jacobian.py, the figures: test_figures.py.
"""
from __future__ import annotations

import dataclasses
import itertools
import json

import numpy as np
import pytest

import gradlib
from gradlib import GradlibError, structure
from structure_cases import ALL_SPECS, CASE_IDS, CASES, SPEC_IDS, generic

# --- the spec is the library --------------------------------------------------------------------

# (Which rules have a spec, and that validate refuses broken specs: test_structure_spec.py.)

@pytest.mark.parametrize("spec,shapes", CASES, ids=CASE_IDS)
def test_spec_values_equal_gradlib(spec, shapes):
    targets = [r.target for r in spec.relations]
    for params in [{"t": t} for t in range(shapes["C"])] if spec.params else [{}]:
        given = generic(spec, shapes, seed=sum(shapes.values()), params=params)
        from_spec, from_gradlib = structure.evaluate(spec, given), structure.library(spec, given, params)
        for name in targets:
            assert from_spec[name].shape == spec.shape(name, shapes)
            np.testing.assert_allclose(from_spec[name], from_gradlib[name], rtol=1e-12, atol=1e-12,
                                       err_msg=f"{spec.rule} {name} at {shapes} {params}")


def test_a_wrong_spec_would_be_caught():
    """The comparison above can fail: a transposed pattern gives other numbers than gradlib."""
    spec = structure.spec("matmul")
    wrong = structure.Spec(**{**spec.__dict__, "relations": (
        structure.Relation("dX", (structure.Term("il,lj->ij", ("dB", "Y")),)), spec.relations[1])})
    with pytest.raises(GradlibError, match="letter 'l'"):
        structure.validate(wrong)  # Y is (m, p): 'l' would run over both p and m
    square = {"n": 3, "m": 3, "p": 3}
    given = generic(spec, square)
    assert not np.allclose(structure.evaluate(wrong, given)["dX"], structure.library(spec, given)["dX"])


def test_a_spec_whose_library_returns_other_arrays_is_refused():
    """What a spec's library returns must be the relations' targets in order: dx and dW swapped would
    compare each with the other (that it is gradlib's own function: test_structure_spec.py)."""
    swapped = dataclasses.replace(structure.MATVEC, library=(
        structure.Call(gradlib.matvec.backward, ("r", "W", "x"), ("dx", "dW")),))
    with pytest.raises(GradlibError, match="structure: matvec: its library calls must return the relations' targets"):
        structure.validate(swapped)


SIZE_ERRORS = [(0, "n=0 is out of range 1..6 for rule matvec"), (7, "n=7 is out of range 1..6 for rule matvec"),
               (2.5, "n must be an integer, got 2.5 for rule matvec"),
               (True, "n must be an integer, got True for rule matvec")]


@pytest.mark.parametrize("size,message", SIZE_ERRORS, ids=[repr(s) for s, _ in SIZE_ERRORS])
def test_one_range_check_serves_the_spec_the_explorer_and_the_figures(size, message):
    from gradlib.explorer import Explorer
    from gradlib.figures import figure
    for who, call in [("structure", lambda: structure.check_sizes(structure.MATVEC, {"n": size, "m": 4})),
                      ("explorer", lambda: Explorer("matvec", n=size)),
                      ("figures", lambda: figure("matvec", {"n": size}))]:
        with pytest.raises(GradlibError) as caught:
            call()
        assert str(caught.value) == f"{who}: {message}"
    with pytest.raises(GradlibError, match="dim .* must allow 1..6"):
        structure.validate(dataclasses.replace(structure.MATVEC, dims=(structure.Dim("n", "rows", 3, high=4),
                                                                       structure.MATVEC.dims[1])))
    with pytest.raises(GradlibError, match="structure: n=9 is out of range 1..6 for rule matvec"):
        structure.validate(dataclasses.replace(structure.MATVEC, dims=(structure.Dim("n", "rows", 9),
                                                                       structure.MATVEC.dims[1])))


def test_the_formula_text_is_written_once_and_filled_per_entry():
    """as_dict ships each relation's formula with {0}, {1} for the entry; formula() fills the same text,
    and a Jacobian of chapter 1 has its own text on the diagonal."""
    data = structure.as_dict(structure.MATMUL)
    assert data["relations"][0]["formula"] == "dX[{0},{1}] = Σ_l dB[{0},l] × Y[{1},l]"
    assert data["relations"][0]["formula_diagonal"] == data["relations"][0]["formula"]
    term = data["relations"][0]["terms"][0]
    assert (term["inputs"], term["output"], term["summed"]) == (["il", "jl"], "ij", "l") and "library" not in data
    softmax = structure.as_dict(structure.spec("jacobian", "softmax"))["relations"][1]
    assert softmax["formula"] == "J[{0},{1}] = ∂f[{0}]/∂x[{1}] = −f[{0}] × f[{1}]"
    assert softmax["formula_diagonal"] == "J[{0},{1}] = ∂f[{0}]/∂x[{1}] = f[{0}] × (1 − f[{0}])"
    for spec in ALL_SPECS:
        for relation, sent in zip(spec.relations, structure.as_dict(spec)["relations"], strict=True):
            for index in itertools.islice(np.ndindex(*spec.shape(relation.target, spec.default_shapes)), 4):
                text = sent["formula_diagonal" if len(index) == 2 and index[0] == index[1] else "formula"]
                assert structure.formula(spec, relation.target, index) == text.format(*index)


# --- the spec as data -----------------------------------------------------------------------------

@pytest.mark.parametrize("spec", ALL_SPECS, ids=SPEC_IDS)
def test_spec_is_consistent_and_serialisable(spec):
    """What the explorer receives is plain JSON (no numpy scalar, no function, no nan); validate ran at
    import and refuses broken specs: test_structure_spec.py."""
    data = structure.as_dict(spec)
    json.dumps(data, allow_nan=False)  # raises for anything JSON cannot say
    assert data["rule"] == spec.rule and data["select"]["array"] == spec.select[0]
    for d in spec.dims:
        assert d.low == 1 and d.high >= 6 and d.low <= d.default <= d.high
    for relation in data["relations"]:
        for term in relation["terms"]:
            assert set(term["letters"]) == set(term["pattern"].replace(",", "").replace("->", ""))


@pytest.mark.parametrize("rule,array,index,text", [
    ("matvec", "dW", (1, 2), "dW[1,2] = r[1] × x[2]"),
    ("matvec", "dx", (3,), "dx[3] = Σ_i r[i] × W[i,3]"),
    ("vecmat", "dx", (0,), "dx[0] = Σ_j r[j] × W[0,j]"),
    ("matmul", "dX", (1, 2), "dX[1,2] = Σ_l dB[1,l] × Y[2,l]"),
    ("matmul", "dY", (0, 1), "dY[0,1] = Σ_k X[k,0] × dB[k,1]"),
    ("broadcast_add", "dy", (2,), "dy[2] = Σ_i dB[i,2]"),
    ("broadcast_mul", "dX", (1, 0), "dX[1,0] = y[0] × dB[1,0]"),
    ("softmax_xent", "dtheta", (1,), "dθ[1] = softmax(θ)[1] − eₜ[1]"),
])
def test_formulas(rule, array, index, text):
    assert structure.formula(structure.spec(rule), array, index) == text


def test_jacobian_formulas():
    assert structure.formula(structure.spec("jacobian", "linear"), "J", (1, 2)) == "J[1,2] = ∂f[1]/∂x[2] = M[1,2]"
    assert structure.formula(structure.spec("jacobian", "tanh"), "J", (1, 2)) == "J[1,2] = ∂f[1]/∂x[2] = 0"
    assert structure.formula(structure.spec("jacobian", "softmax"), "J", (2, 2)) == \
        "J[2,2] = ∂f[2]/∂x[2] = f[2] × (1 − f[2])"


def test_random_values_are_readable_and_reproducible():
    for rule in structure.RULES:
        values = structure.random_values(rule)
        again = structure.random_values(rule)
        for name, v in values.items():
            assert np.array_equal(v, again[name])
            assert np.array_equal(v, np.round(v, 2)) and np.all(np.abs(v) >= 0.2)
    assert not np.array_equal(structure.random_values("matvec")["W"], structure.random_values("matvec", seed=1)["W"])


def test_bad_lookups_are_gradlib_errors():
    with pytest.raises(GradlibError, match="structure: unknown rule 'matvek'"):
        structure.spec("matvek")
    with pytest.raises(GradlibError, match="jacobian has no variant 'relu'"):
        structure.spec("jacobian", "relu")
    with pytest.raises(GradlibError, match=r"dW\[3,0\] is not an entry of dW \(shape \(3, 4\)\)"):
        structure.lights(structure.spec("matvec"), {"n": 3, "m": 4}, "dW", (3, 0))
    with pytest.raises(GradlibError, match="matvec has no array 'dz'"):
        structure.lights(structure.spec("matvec"), {"n": 3, "m": 4}, "dz", (0,))
