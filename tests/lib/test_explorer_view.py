"""The explorer's view state under Node, held to gradlib.structure (tests/lib/test_structure*.py hold
structure to gradlib and to gradlib.numerical_jacobian).

tests/lib/explorer_view_runner.mjs loads the shipped bundle (gradlib/explorer.js), drives
``state.reduce`` with the actions a reader's clicks make and reports what ``state.derive`` would draw
(explorer_view_node.py runs it). Here: lit entries and captions at every shape the sliders allow, the
values, lights, formulas and captions against Python's, ties of a maximum, the cells' colours. The
Jacobian view, predict mode and chapter 9's steps: test_explorer_view_jacobian.py, _predict.py,
_steps.py. Every rule, no browser.
"""
from __future__ import annotations

import itertools

import numpy as np
import pytest

import gradlib
from booksite import contrast
from explorer_view_node import SPEC_IDS, case, key, lit_keys, number, run, view_shapes
from gradlib import structure
from structure_cases import ALL_SPECS, entries

# --- every rule at every shape the sliders allow -------------------------------------------------------

def all_shapes(spec: structure.Spec) -> list[dict[str, int]]:
    return [dict(zip([d.name for d in spec.dims], sizes, strict=True))
            for sizes in itertools.product(*(range(d.low, d.high + 1) for d in spec.dims))]


@pytest.mark.parametrize("spec", ALL_SPECS, ids=SPEC_IDS)
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


@pytest.mark.parametrize("spec", ALL_SPECS, ids=SPEC_IDS)
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
        for shapes in view_shapes(spec):
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
    factor = lambda v: f"({number(v)})" if v < 0 else number(v)
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
