"""gradlib.structure: each rule's spec against the library it describes.

Two ways the explorer could lie, two kinds of test. Its numbers: :func:`structure.evaluate`
computes every array from the spec's patterns alone and must equal gradlib's own ``backward``.
Its lights: which input entries a gradient entry depends on is measured, not assumed, from
``gradlib.numerical_jacobian`` of gradlib's ``backward`` (an entry depends on an input entry when
the derivative is clearly nonzero), and must equal :func:`structure.lights` in both directions.
"""
from __future__ import annotations

import dataclasses
import inspect
import io
import itertools
import json
from collections.abc import Callable

import numpy as np
import pytest

import gradlib
from gradlib import GradlibError, numerical_jacobian, structure


#: Shapes per rule: defaults, all 1, all 6, and lopsided ones (1 x 6, 6 x 1, ...).
def shape_cases(spec: structure.Spec) -> list[dict[str, int]]:
    names = [d.name for d in spec.dims]
    cases = [spec.default_shapes, dict.fromkeys(names, 1), dict.fromkeys(names, 6)]
    for sizes in [(1, 6, 2, 5), (6, 1, 3, 2), (2, 5, 1, 6), (3, 2, 6, 1)]:
        cases.append(dict(zip(names, sizes[:len(names)], strict=True)))
    unique = {tuple(sorted(c.items())): c for c in cases}
    return list(unique.values())


ALL_SPECS = [s for specs in structure.SPECS.values() for s in specs]
SPEC_IDS = [f"{s.rule}-{s.variant}" if s.variant else s.rule for s in ALL_SPECS]
RULE_SPECS = [s for s in ALL_SPECS if s.rule != "jacobian"]
CASES = [(s, shapes) for s in ALL_SPECS for shapes in shape_cases(s)]
CASE_IDS = [f"{s.rule}{'-' + s.variant if s.variant else ''}-{'x'.join(map(str, sh.values()))}" for s, sh in CASES]
THRESHOLD = 1e-6  # central differences of these O(1) functions are accurate to ~1e-9


def generic(spec: structure.Spec, shapes: dict[str, int], seed: int = 0, params: dict | None = None
            ) -> dict[str, np.ndarray]:
    """Given arrays with no zeros and no coincidences: every true dependency shows in the derivatives."""
    rng = np.random.default_rng(seed)
    values = {name: rng.uniform(0.3, 1.7, size=v.shape) * rng.choice([-1.0, 1.0], size=v.shape)
              for name, v in structure.random_values(spec.rule).items()}
    return structure.inputs(spec, shapes, values, params)


def measured(spec: structure.Spec, shapes: dict[str, int], given: dict[str, np.ndarray], target: str, source: str
             ) -> np.ndarray:
    """d target.ravel() / d source.ravel() by finite differences of gradlib itself, as a 0/1 matrix."""
    def of(v: np.ndarray) -> np.ndarray:
        return structure.library(spec, {**given, source: v})[target]
    return np.abs(numerical_jacobian(of, given[source])) > THRESHOLD


def entries(shape: tuple[int, ...]) -> list[tuple[int, ...]]:
    return list(itertools.product(*map(range, shape)))


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


# --- the lights are true ----------------------------------------------------------------------------

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


JACOBIAN_CASES = [(s, sh) for s, sh in CASES if s.rule == "jacobian"]


@pytest.mark.parametrize("spec,shapes", JACOBIAN_CASES,
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


# --- the figures draw the same lights ----------------------------------------------------------------

@pytest.mark.parametrize("spec", ALL_SPECS, ids=SPEC_IDS)
def test_figure_outlines_exactly_the_lit_entries(spec):
    from gradlib.figures import figure
    shapes = spec.default_shapes
    picks = [(r.target, tuple(min(1, s - 1) for s in spec.shape(r.target, shapes))) for r in spec.relations]
    picks.append((spec.arrays[0].name, (0,) * len(spec.arrays[0].dims)))  # an input: what it feeds
    fig = figure(spec.rule, select=picks, variant=spec.variant)
    patches = fig.axes[0].patches
    lit = [p for p in patches if p.get_hatch() == "///"]
    selected = [p for p in patches if p.get_hatch() == "xx"]
    plain = [p for p in patches if p.get_hatch() is None]
    per_row = sum(np.prod(spec.shape(a.name, shapes)) for a in spec.arrays)
    assert len(patches) == per_row * len(picks) and len(selected) == len(picks)
    lit_entries = [v for name, index in picks for v in structure.lights(spec, shapes, name, index).values()]
    assert len(lit) == sum(map(len, lit_entries))
    assert len(plain) == len(patches) - len(lit) - len(selected)
    assert all(p.get_linestyle() == "--" for p in selected) and all(p.get_linewidth() > 2 for p in lit + selected)
    drawn = io.BytesIO()
    fig.savefig(drawn, format="png", dpi=20)  # everything is drawn (cheaply: the capstone's figure is 26 inches tall)
    assert drawn.getvalue()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_figure_shows_itself_in_jupyter_as_a_png_at_120_dpi():
    from gradlib.figures import figure
    fig = figure("matvec")
    png = fig._repr_png_()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert np.allclose((width, height), 120 * fig.get_size_inches(), atol=1)


def test_figure_arguments_are_checked():
    from gradlib.figures import figure
    with pytest.raises(GradlibError, match="figures: n=7 is out of range 1..6 for rule matvec"):
        figure("matvec", {"n": 7})
    with pytest.raises(GradlibError, match=r"figures: dW\[3,0\] is not an entry of dW"):
        figure("matvec", select=("dW", (3, 0)))
    with pytest.raises(GradlibError, match="unknown rule 'matvek'"):
        figure("matvek")


def test_figure_says_its_labels_are_code_indices():
    """The math counts from 1, the figures' labels from 0: the legend says which, for the first entry picked."""
    from gradlib.figures import figure
    title = figure("matmul", select=[("dX", (1, 2)), ("dY", (2, 0))]).legends[0].get_title().get_text()
    assert title == "Indices count from 0, as in code: dX[1,2] is row 2, column 3 in the math"
    title = figure("softmax_xent", select=("dtheta", (0,))).legends[0].get_title().get_text()
    assert title == "Indices count from 0, as in code: dθ[0] is entry 1 in the math"


# --- chapter 9: the network, one link of the chain at a time ----------------------------------------

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


# --- the Jacobian view (chapters 3-7) ------------------------------------------------------------

JACOBIAN_SPECS = [s for s in ALL_SPECS if s.output]
JACOBIAN_CASES = [(s, wrt, shapes) for s in JACOBIAN_SPECS for wrt, _ in s.jacobian_notes for shapes in shape_cases(s)]


def forward_jacobian(spec: structure.Spec, given: dict[str, np.ndarray], wrt: str) -> np.ndarray:
    """gradlib.numerical_jacobian of gradlib.<rule>.forward w.r.t. ``wrt``, the others held fixed."""
    args = spec.library[0].args[1:]  # backward(upstream, *inputs) -> forward(*inputs)
    def forward(value: np.ndarray) -> np.ndarray:
        return getattr(gradlib, spec.rule).forward(*(value if a == wrt else given[a] for a in args))
    return numerical_jacobian(forward, given[wrt])


@pytest.mark.parametrize("spec,wrt,shapes", JACOBIAN_CASES,
                         ids=[f"{s.rule}-d{w}-{'x'.join(map(str, sh.values()))}" for s, w, sh in JACOBIAN_CASES])
def test_jacobian_view_equals_the_numerical_jacobian_of_forward(spec, wrt, shapes):
    """The drawn zeros and values are the true Jacobian of the rule's forward map (row-major flattening)."""
    given = generic(spec, shapes)
    pattern, values = structure.jacobian(spec, given, wrt)
    measured = forward_jacobian(spec, given, wrt)
    upstream = next(a.name for a in spec.arrays if a.role == "upstream")  # shaped like the output
    assert pattern.shape == measured.shape == (given[upstream].size, given[wrt].size)
    np.testing.assert_array_equal(pattern, np.abs(measured) > THRESHOLD)
    np.testing.assert_allclose(values, measured, atol=1e-7)
    assert not values[~pattern].any()


def test_jacobian_of_matvec_is_sparse_in_W():
    """z = W x: 3 x 12, and z[k] reads row k of W only, so 12 of 36 entries can be nonzero."""
    given = generic(structure.MATVEC, {"n": 3, "m": 4})
    pattern, values = structure.jacobian(structure.MATVEC, given, "W")
    assert pattern.sum() == 12 and pattern.size == 36
    assert values[1, 1 * 4 + 2] == given["x"][2] and not pattern[0, 1 * 4 + 2]


def test_jacobian_of_an_input_without_a_gradient_is_refused():
    given = generic(structure.MATVEC, {"n": 2, "m": 2})
    with pytest.raises(GradlibError, match="structure: matvec has no Jacobian view of 'r'; it has one for W, x"):
        structure.jacobian(structure.MATVEC, given, "r")
    with pytest.raises(GradlibError, match="softmax_xent has no Jacobian view"):
        structure.jacobian(structure.SOFTMAX_XENT, generic(structure.SOFTMAX_XENT, {"C": 3}), "theta")
