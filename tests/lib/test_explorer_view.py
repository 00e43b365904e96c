"""The explorer's view state under Node, held to gradlib.structure (tests/lib/test_structure.py holds
structure to gradlib and to gradlib.numerical_jacobian).

tests/lib/explorer_view_runner.mjs loads the shipped bundle (gradlib/explorer.js), drives
``state.reduce`` with the actions a reader's clicks make and reports what ``state.derive`` would draw:
lit entries, captions, predict mode's marks and score, the Jacobian view, chapter 9's steps. Every
rule, the shapes the sliders allow, no browser.
"""
from __future__ import annotations

import functools
import itertools
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import gradlib
from booksite import contrast
from gradlib import structure

BUNDLE = Path(gradlib.__file__).with_name("explorer.js")
RUNNER = Path(__file__).with_name("explorer_view_runner.mjs")
ALL_SPECS = [s for specs in structure.SPECS.values() for s in specs]
JACOBIAN_SPECS = [s for s in ALL_SPECS if s.output]
NODE = shutil.which("node")


def run(job: str, cases: list[dict]) -> list:
    if NODE is None:
        pytest.fail("node (Debian package nodejs) is needed to run the explorer's view state")
    done = subprocess.run([NODE, str(RUNNER)], input=json.dumps({"job": job, "bundle": str(BUNDLE), "cases": cases}),
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def key(name: str, index) -> str:
    return f"{name}|{','.join(map(str, index))}"


def entries(shape) -> list[tuple[int, ...]]:
    return list(itertools.product(*map(range, shape)))


def shape_cases(spec: structure.Spec) -> list[dict[str, int]]:
    names = [d.name for d in spec.dims]
    lopsided = dict(zip(names, (2, 5, 1, 3)[:len(names)], strict=True))
    cases = [spec.default_shapes, dict.fromkeys(names, 1), dict.fromkeys(names, 6), lopsided]
    return list({tuple(c.items()): c for c in cases}.values())


def case(spec: structure.Spec, shapes: dict[str, int], **more) -> dict:
    values = {k: v.tolist() for k, v in structure.random_values(spec.rule).items()}
    return {"spec": structure.as_dict(spec), "shapes": shapes, "values": values,
            "params": structure.params_at(spec, shapes), **more}


def lit_keys(spec: structure.Spec, shapes: dict[str, int], name: str, index) -> set[str]:
    return {key(n, i) for n, indices in structure.lights(spec, shapes, name, index).items() for i in indices}


def number(v: float) -> str:
    return f"{0.0 if abs(v) < 0.005 else v:.2f}".replace("-", "−")


# --- every rule at every shape the sliders allow -------------------------------------------------------

def all_shapes(spec: structure.Spec) -> list[dict[str, int]]:
    return [dict(zip([d.name for d in spec.dims], sizes, strict=True))
            for sizes in itertools.product(*(range(d.low, d.high + 1) for d in spec.dims))]


@pytest.mark.parametrize("spec", ALL_SPECS, ids=[f"{s.rule}-{s.variant}" if s.variant else s.rule for s in ALL_SPECS])
def test_lights_at_every_slider_shape(spec):
    """Pinning the first and last entry of every array lights exactly structure.lights, at every shape."""
    shapes_list = all_shapes(spec)
    if spec.rule == "mlp":
        shapes_list = shapes_list[::7]  # 186 of the 1296 (every size of every dim still occurs)
    answers = run("shapes", [case(spec, spec.default_shapes, shapes_list=shapes_list)])[0]
    assert len(answers) == len(shapes_list)
    for shapes, answer in zip(shapes_list, answers, strict=True):
        for array in spec.arrays:
            all_ = entries(spec.shape(array.name, shapes))
            for index in (all_[0], all_[-1]):
                lit, captioned = answer[key(array.name, index)]
                assert set(lit) == lit_keys(spec, shapes, array.name, index), (spec.rule, shapes, array.name, index)
                assert captioned


@pytest.mark.parametrize("spec", ALL_SPECS, ids=[f"{s.rule}-{s.variant}" if s.variant else s.rule for s in ALL_SPECS])
def test_a_smaller_shape_moves_the_pointed_entry_inside(spec):
    """Pointing at the last entry, then a slider makes the arrays smaller: the entry moves inside them."""
    big, small = spec.max_shapes, {d.name: 1 for d in spec.dims}
    answers = run("reshape", [case(spec, big, smaller=small)])[0]
    for array, (selected, captioned) in zip(spec.arrays, answers, strict=True):
        assert selected == key(array.name, [0] * len(array.dims)) and captioned


# --- values, lights, formulas, captions ------------------------------------------------------------------

@pytest.fixture(scope="module")
def twins():
    cases, python = [], []
    for spec in ALL_SPECS:
        values = {k: v.tolist() for k, v in structure.random_values(spec.rule).items()}
        for shapes in shape_cases(spec):
            params = structure.params_at(spec, shapes)
            cases.append(case(spec, shapes))
            python.append((spec, shapes, structure.evaluate(spec, structure.inputs(spec, shapes, values, params))))
    return python, run("twins", cases)


def test_values_equal_python(twins):
    python, js = twins
    for (spec, shapes, arrays), result in zip(python, js, strict=True):
        for name, array in arrays.items():
            np.testing.assert_allclose(result["values"][name], array.ravel(), rtol=1e-12, atol=1e-12,
                                       err_msg=f"{spec.rule} {spec.variant} {name} at {shapes}")


def test_lights_and_formulas_equal_python(twins):
    python, js = twins
    checked = 0
    for (spec, shapes, _), result in zip(python, js, strict=True):
        for array in spec.arrays:
            for index in entries(spec.shape(array.name, shapes)):
                k = key(array.name, index)
                js_lit = {name: {tuple(i) for i in idx} for name, idx in result["lights"][k].items()}
                assert js_lit == structure.lights(spec, shapes, array.name, index), (spec.rule, shapes, k)
                if k in result["formulas"]:
                    assert result["formulas"][k] == structure.formula(spec, array.name, index)
                    assert result["captions"][k].startswith(result["formulas"][k])
                checked += 1
    assert checked > 1000


def test_captions_fill_in_the_numbers(twins):
    python, js = twins
    factor = lambda v: f"({number(v)})" if v < 0 else number(v)  # noqa: E731
    for (spec, shapes, arrays), result in zip(python, js, strict=True):
        if spec.rule == "matvec" and shapes == spec.default_shapes:
            r, x, dW = arrays["r"][1], arrays["x"][2], arrays["dW"][1, 2]
            assert result["captions"]["dW|1,2"] == (f"dW[1,2] = r[1] × x[2] = {factor(r)} × {factor(x)} = "
                                                    f"{number(dW)}")
            assert result["captions"]["x|2"].startswith(f"x[2] = {number(x)} feeds dW[0,2], dW[1,2], dW[2,2]")
        if spec.rule == "broadcast_add" and shapes == spec.default_shapes:
            assert result["captions"]["X|0,0"].endswith("feeds no entry of the gradients: none of them reads X")
        if spec.rule == "softmax_xent" and shapes["C"] == 1:
            assert "with one class, softmax(θ) is always 1" in result["captions"]["dtheta|0"]
        if spec.variant == "tanh" and shapes["n"] > 2:
            assert result["captions"]["J|0,1"] == ("J[0,1] = ∂f[0]/∂x[1] = 0 (f[0] = tanh(x[0]) does not depend "
                                                   "on x[1])")
        if spec.rule == "gather":  # only the rows of G picked from row v add into dE[v, :] (idx[n] = n mod V)
            for v, d in itertools.product(range(shapes["V"]), range(shapes["D"])):
                picked = [n for n in range(shapes["N"]) if n % shapes["V"] == v]
                sum_ = " + ".join(f"1.00 × {factor(arrays['G'][n, d])}" for n in picked)
                value = (f"{sum_} = {number(arrays['dE'][v, d])}" if picked
                         else f"0.00 (S[n,{v}] = 0 for every n: nothing adds into it)")
                expected = f"dE[{v},{d}] = Σ_n S[n,{v}] × G[n,{d}] = {value}"
                assert result["captions"][f"dE|{v},{d}"] == expected
            if shapes["V"] > 1:
                assert result["captions"]["S|0,1"] == ("S[0,1] = 0.00 feeds no entry of the gradients: it is 0, "
                                                       "and only a 1 of S passes anything on")
        if spec.rule == "reduce_max":  # g[i] × 1 / #ties where row i has its maximum, else × 0 and why
            for i, j in itertools.product(range(shapes["n"]), range(shapes["m"])):
                row = arrays["X"][i]
                wins, ties = int(row[j] == row.max()), int((row == row.max()).sum())
                caption = result["captions"][f"dX|{i},{j}"]
                assert caption.startswith(f"dX[{i},{j}] = g[{i}] × 1[X[{i},{j}] = max X[{i},:]] / #ties = "
                                          f"{factor(arrays['g'][i])} × {wins} / {ties} = {number(arrays['dX'][i, j])}")
                assert ("is not the maximum of row" in caption) == (not wins)
        if spec.rule == "mlp" and shapes == spec.default_shapes:  # the 1/N of the mean, the ReLU's mask
            caption = result["captions"]["dTheta|1,2"]
            assert caption.startswith("dΘ[1,2] = softmax(Θ[1,:])[2] / N − T[1,2] / N = ") and " / 4 − " in caption
            for i, h in itertools.product(range(shapes["N"]), range(shapes["H"])):
                off = arrays["Z1"][i, h] <= 0
                assert (f"Z1[{i},{h}] ≤ 0: the unit is off" in result["captions"][f"dZ1|{i},{h}"]) == off


def test_max_shares_the_gradient_among_ties():
    """Two entries tie for a row's maximum: each gets half of g[i] in the view, as in reduce_max.backward."""
    spec, shapes = structure.REDUCE_MAX, structure.REDUCE_MAX.default_shapes
    values = {k: v.tolist() for k, v in structure.random_values("reduce_max").items()}
    values["X"][0][:4] = [0.5, 1.5, -0.3, 1.5]
    result = run("twins", [{**case(spec, shapes), "values": values}])[0]
    given = structure.inputs(spec, shapes, {k: np.array(v) for k, v in values.items()})
    dX = gradlib.reduce_max.backward(given["g"], given["X"])
    np.testing.assert_allclose(result["values"]["dX"], dX.ravel(), rtol=1e-12)
    assert dX[0, 1] == dX[0, 3] == given["g"][0] / 2
    for j in (1, 3):
        assert result["captions"][f"dX|0,{j}"].endswith(f"× 1 / 2 = {number(dX[0, j])} (2 entries of row 0 tie for "
                                                        "the maximum and share g[0])")


def test_cell_text_contrast_in_both_palettes():
    """Black or white text on every colour of the light and the dark scale: at least 4.5:1 (WCAG AA)."""
    answer = run("colours", [{}])[0]
    for theme, rows in answer["colours"].items():
        for text, *background in rows:
            assert contrast([int(text[k:k + 2], 16) for k in (1, 3, 5)], background) >= 4.5, (theme, text, background)
        ends = [row[1:] for row in rows]
        assert ends[0][2] > ends[0][0] and ends[-1][0] > ends[-1][2], theme  # blue below 0, red above
    assert answer["colours"]["light"][100][1:] == [247, 247, 247]  # white at 0 on a light page
    assert max(answer["colours"]["dark"][100][1:]) < 64  # dark grey at 0 on a dark page: no light panel
    assert answer["fmt"] == ["1.23", "0.00", "−1.20", "0.31", "0.00"]  # never "−0.00"


# --- the Jacobian view --------------------------------------------------------------------------------

def forward_jacobian(spec: structure.Spec, given: dict[str, np.ndarray], wrt: str) -> np.ndarray:
    """gradlib.numerical_jacobian of gradlib.<rule>.forward w.r.t. ``wrt``, the other inputs held fixed."""
    args = spec.library[0].args[1:]  # backward(upstream, *inputs) -> forward(*inputs)
    forward = getattr(gradlib, spec.rule).forward
    return gradlib.numerical_jacobian(lambda v: forward(*(v if a == wrt else given[a] for a in args)), given[wrt])


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


JACOBIAN_CASES = [(s, wrt, shapes) for s in JACOBIAN_SPECS for wrt, _ in s.jacobian_notes for shapes in shape_cases(s)]


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


# --- predict mode ------------------------------------------------------------------------------------

PREDICT_SPECS = ALL_SPECS


def predict_cases(spec: structure.Spec) -> list[tuple[str, list[str], str, set[str]]]:
    """(question, guesses, an entry picked and unpicked, the truth) for the first entry of every array, at
    the default shapes: all but one of the truth picked, plus one entry that is not a dependency."""
    shapes = spec.default_shapes
    everything = sorted(key(a.name, i) for a in spec.arrays for i in entries(spec.shape(a.name, shapes)))
    out = []
    for array in spec.arrays:
        question = key(array.name, entries(spec.shape(array.name, shapes))[-1])
        truth = lit_keys(spec, shapes, array.name, entries(spec.shape(array.name, shapes))[-1])
        others = [k for k in everything if k not in truth and k != question]
        guesses = sorted(truth)[1:] + others[:1]
        out.append((question, guesses, others[-1], truth))
    return out


@pytest.mark.parametrize("spec", PREDICT_SPECS,
                         ids=[f"{s.rule}-{s.variant}" if s.variant else s.rule for s in PREDICT_SPECS])
def test_predict_verdicts(spec):
    """The question names its entry; pointing lights nothing; picks (and an unpick) are marked; Reveal
    marks hit / miss / extra exactly against structure.lights, the caption gives the score and says how
    to ask again, and "another entry" asks about the next entry."""
    questions = predict_cases(spec)
    answers = run("predict", [case(spec, spec.default_shapes, question=q, guesses=g, unpicked=u)
                              for q, g, u, _ in questions])
    for (question, guesses, unpicked, truth), answer in zip(questions, answers, strict=True):
        name, index = question.split("|")
        entry = f"{spec.array(name).text}[{index}]"
        assert answer["asked"]["selected"] == question and answer["asked"]["lit"] == 0
        verb = {"depends": f"does {entry} depend on", "feeds": f"does {entry} feed", "linked": f"are linked to {entry}"}
        computed = any(r.target == name for r in spec.relations)
        feeds = any(name in t.operands for r in spec.relations for t in r.terms)
        kind = "linked" if computed and feeds else "depends" if computed else "feeds"
        assert answer["asked"]["caption"].startswith(f"Which entries {verb[kind]}? Click them, then Reveal"), \
            answer["asked"]
        assert answer["pointed"] == {"lit": 0, "selected": question}
        assert answer["picked"]["marks"] == dict.fromkeys(guesses, "guess")
        assert unpicked not in answer["picked"]["marks"]
        expected = {**{k: "hit" for k in truth if k in guesses}, **{k: "miss" for k in truth if k not in guesses},
                    **{k: "extra" for k in guesses if k not in truth}}
        assert answer["revealed"]["marks"] == expected, (spec.rule, question)
        hits = sum(v == "hit" for v in expected.values())
        assert answer["revealed"]["score"].startswith(f"{hits} of {len(truth)}")
        assert answer["revealed"]["caption"].startswith(f"{entry}: {hits} of {len(truth)}")
        assert "to ask again" in answer["revealed"]["caption"]
        assert answer["again"]["selected"] != question and answer["again"]["selected"].split("|")[0] == name or \
            len(entries(spec.shape(name, spec.default_shapes))) == 1
        assert answer["again"]["marks"] == 0 and answer["again"]["caption"].startswith("Which entries")


def test_predict_on_a_jacobian_entry():
    """In the Jacobian view the question can be a Jacobian entry; its truth is what the entry is made of."""
    spec = structure.MATVEC
    answer = run("predict", [case(spec, spec.default_shapes, view="jacobian", wrt="W", question="jacobian|1,6",
                                  guesses=["W|1,2", "x|0"], unpicked="")])[0]
    assert answer["asked"]["caption"].startswith("Which entries are linked to ∂z[1]/∂W[1,2]? Click them, then Reveal")
    assert answer["revealed"]["marks"] == {"W|1,2": "hit", "x|2": "miss", "x|0": "extra"}
    assert answer["revealed"]["score"] == "1 of 2, one missed: x[2], one extra: ∂z[1]/∂W[1,2] is not linked to x[0]"


# --- chapter 9's steps ----------------------------------------------------------------------------------

@pytest.mark.parametrize("shapes", [structure.MLP.default_shapes, {"N": 1, "D": 1, "H": 1, "C": 1},
                                    {"N": 6, "D": 6, "H": 6, "C": 6}, {"N": 2, "D": 5, "H": 1, "C": 3},
                                    {"N": 6, "D": 1, "H": 4, "C": 2}], ids=lambda s: "x".join(map(str, s.values())))
def test_backward_pass_steps(shapes):
    """Each step frames what it reads and writes; no gradient shows a number before the step that computes
    it (step 1 is the forward pass only); the example entry is one the step writes, nonzero where the
    step writes any nonzero entry; the step buttons stop at the ends."""
    spec = structure.MLP
    answers = run("steps", [case(spec, shapes)])[0]
    arrays = structure.evaluate(spec, structure.inputs(spec, shapes, structure.random_values("mlp")))
    *steps, last = answers
    assert last == {"clamped": len(spec.steps) - 1}
    for k, (step, answer) in enumerate(zip(spec.steps, steps, strict=True)):
        view = answer["step"]
        assert view["text"].startswith(f"Step {k + 1} of {len(spec.steps)}: {step.title}")
        assert step.rule in view["text"] and step.code in view["text"]
        assert (view["first"], view["last"]) == (k == 0, k == len(spec.steps) - 1)
        assert {n for n, r in view["roles"].items() if r == "reads"} == set(step.reads)
        assert {n for n, r in view["roles"].items() if r == "writes"} == set(step.writes)
        later = {n for s in spec.steps[k + 1:] for n in s.writes}
        assert set(answer["pending"]) == later
        if k == 0:
            assert later >= {r.target for r in spec.relations if r.target.startswith("d")}, "step 1: no gradient yet"
        name, index = answer["selected"].split("|")
        assert name == step.writes[0]
        index = tuple(map(int, index.split(",")))
        assert answer["value"] == pytest.approx(arrays[name][index])
        if np.abs(arrays[name]).max() >= 0.005:
            assert abs(arrays[name][index]) >= 0.005, f"step {k + 1} points at a zero of {name} at {shapes}"
        assert answer["caption"].startswith(structure.formula(spec, name, index))
        if later:
            assert "not computed yet (step" in answer["pendingCaption"]


def test_backward_pass_examples_avoid_zero_products():
    """At the chapter's shapes the example of each step reads mostly nonzero entries (no '0.40 × 0.00 + 0.00 × …')."""
    spec = structure.MLP
    shapes = spec.default_shapes
    answers = run("steps", [case(spec, shapes)])[0][:-1]
    arrays = structure.evaluate(spec, structure.inputs(spec, shapes, structure.random_values("mlp")))
    for step, answer in zip(spec.steps, answers, strict=True):
        name, index = answer["selected"].split("|")
        index = tuple(map(int, index.split(",")))
        for candidate in entries(arrays[name].shape):  # no other entry reads fewer zeros
            def zeros(at, name=name):
                lit = structure.lights(spec, shapes, name, at)
                sources = [(n, i) for n, idx in lit.items() for i in idx if any(r.target == name and
                           any(n in t.operands for t in r.terms) for r in spec.relations)]
                return sum(abs(arrays[n][i]) < 0.005 for n, i in sources) / max(len(sources), 1)
            if abs(arrays[name][candidate]) >= 0.005:
                assert zeros(index) <= zeros(candidate) + 1e-12, (step.title, index, candidate)
