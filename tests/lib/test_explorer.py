"""gradlib.explorer: the widget's Python side, and its JavaScript view against gradlib.structure.

The view (gradlib/explorer.js) computes values and lights itself when no kernel answers (the static
site). Its pure functions are run here under Node and compared, entry by entry, with the Python
twins in gradlib.structure, which tests/lib/test_structure.py holds to gradlib itself. The browser test
(tests/site/test_explorer_browser.py) checks the rendered page.
"""
from __future__ import annotations

import itertools
import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import gradlib
from gradlib import GradlibError, structure
from gradlib.explorer import Explorer

from booksite import contrast

JS = Path(gradlib.__file__).with_name("explorer.js")
ALL_SPECS = [s for specs in structure.SPECS.values() for s in specs]


def shape_cases(spec: structure.Spec) -> list[dict[str, int]]:
    names = [d.name for d in spec.dims]
    cases = [spec.default_shapes, dict.fromkeys(names, 1), dict.fromkeys(names, 6), dict(zip(names, (2, 5, 1, 3)))]
    return list({tuple(c.items()): c for c in cases}.values())


# --- Python side -------------------------------------------------------------------------------

@pytest.mark.parametrize("rule", structure.RULES)
def test_explorer_shows_gradlib_numbers(rule):
    widget = Explorer(rule)
    spec = widget.spec
    assert widget.rule == rule and widget.specs == [structure.as_dict(s) for s in structure.SPECS[rule]]
    assert widget.shapes == {d.name: d.default for s in structure.SPECS[rule] for d in s.dims}
    given = structure.inputs(spec, widget.shapes, widget.values, widget.params)
    expected = structure.library(spec, given, widget.params)
    assert widget.computed["shapes"] == widget.shapes and widget.computed["variant"] == spec.variant
    for name, nested in widget.computed["arrays"].items():
        np.testing.assert_array_equal(np.array(nested), expected[name])
    assert widget.lit == structure.lights(spec, widget.shapes, *spec.select)


def test_a_shape_change_recomputes_with_gradlib():
    """What the view sends back (new shapes) is answered by gradlib.matmul.backward itself."""
    widget = Explorer("matmul", n=2, m=3, p=4)
    widget.shapes = {"n": 5, "m": 1, "p": 6}
    values = {k: np.array(v) for k, v in widget.values.items()}
    dB, X, Y = values["dB"][:5, :6], values["X"][:5, :1], values["Y"][:1, :6]
    dX, dY = gradlib.matmul.backward(dB, X, Y)
    assert np.array_equal(widget.computed["arrays"]["dX"], dX) and np.array_equal(widget.computed["arrays"]["dY"], dY)
    assert widget.computed["shapes"] == {"n": 5, "m": 1, "p": 6}


def test_the_backward_pass_explorer_shows_gradlib_mlp():
    """Chapter 8: with a kernel, every array shown is gradlib.mlp.trace's, at any shapes."""
    widget = Explorer("mlp", N=2, D=5, H=1, C=3)
    widget.shapes = {"N": 6, "D": 1, "H": 4, "C": 2}
    values = {k: np.array(v) for k, v in widget.values.items()}
    params = {"W1": values["W1"][:1, :4], "b1": values["b1"][:4], "W2": values["W2"][:4, :2], "b2": values["b2"][:2]}
    expected = gradlib.mlp.trace(params, values["X"][:6, :1], np.arange(6) % 2)
    assert set(widget.computed["arrays"]) == {r.target for r in widget.spec.relations}
    for name, nested in widget.computed["arrays"].items():
        np.testing.assert_array_equal(np.array(nested), expected[name], err_msg=name)
    assert [s["title"] for s in widget.specs[0]["steps"]] == [s.title for s in widget.spec.steps]


def test_values_are_readable_and_fixed_per_rule():
    a, b = Explorer("matvec"), Explorer("matvec", n=6, m=6)
    assert a.values == b.values and Explorer("matvec", seed=4).values != a.values
    W = np.array(a.values["W"])
    assert W.shape == (6, 6) and np.array_equal(W, W.round(2))


def test_class_and_selection_follow_the_shapes():
    widget = Explorer("softmax_xent", C=6, t=5, select=("dtheta", (4,)))
    assert widget.params == {"t": 5} and widget.selection == {"array": "dtheta", "index": [4]}
    widget.shapes = {"C": 3}
    assert widget.params == {"t": 2} and widget.selection == {"array": "dtheta", "index": [2]}
    np.testing.assert_allclose(widget.computed["arrays"]["dtheta"],
                               gradlib.softmax_xent.backward(np.array(widget.values["theta"][:3]), 2))


def test_switching_the_map_of_chapter_1():
    widget = Explorer("jacobian", "tanh", n=3)
    assert widget.computed["variant"] == "tanh"
    x = np.array(widget.values["x"][:3])
    np.testing.assert_allclose(widget.computed["arrays"]["J"], gradlib.jacobian.tanh.jacobian(x))
    widget.variant = "softmax"
    np.testing.assert_allclose(widget.computed["arrays"]["J"], gradlib.jacobian.softmax.jacobian(x))
    widget.variant = "linear"
    A = np.array(widget.values["A"])[:3, :3]
    np.testing.assert_allclose(widget.computed["arrays"]["f"], A @ x)


@pytest.mark.parametrize("kwargs,message", [
    (dict(rule="matvek"), "explorer: unknown rule 'matvek'; choose one of jacobian, softmax_xent, matvec, vecmat, "
                          "matmul, broadcast_add, broadcast_mul"),
    (dict(rule="matvec", n=9), "explorer: n=9 is out of range 1..6 for rule matvec"),
    (dict(rule="matvec", n=0), "explorer: n=0 is out of range 1..6 for rule matvec"),
    (dict(rule="matvec", n=2.5), "explorer: n must be an integer, got 2.5 for rule matvec"),
    (dict(rule="matvec", p=3), "explorer: matvec has no dimension 'p'; its dimensions are n, m"),
    (dict(rule="jacobian", variant="relu"),
     "explorer: jacobian has no map 'relu'; choose one of linear, tanh, softmax"),
    (dict(rule="softmax_xent", t=5), r"explorer: t=5 is out of range 0..4 \(the true class, below C=5\)"),
    (dict(rule="matvec", select=("dZ", (0, 0))), "explorer: matvec has no array 'dZ' to select"),
    (dict(rule="matvec", select=("dW", (3, 0))), r"explorer: dW\[3,0\] is not an entry of dW \(shape \(3, 4\)\)"),
])
def test_bad_arguments_are_gradlib_errors(kwargs, message):
    with pytest.raises(GradlibError, match=message):
        Explorer(**kwargs)


def test_bad_shapes_later_are_refused():
    widget = Explorer("matvec")
    with pytest.raises(Exception, match="explorer: m=7 is out of range 1..6 for rule matvec"):
        widget.shapes = {"n": 3, "m": 7}
    assert widget.shapes == {"n": 3, "m": 4}


def test_the_view_is_self_contained():
    """The static site works offline: the view imports nothing and fetches nothing."""
    source = JS.read_text()
    widget = Explorer("matvec")
    assert widget._esm == source and widget._css == JS.with_suffix(".css").read_text()
    assert not re.search(r"^\s*import\b|\bimport\(|\bfetch\(|https?://|XMLHttpRequest", source, re.M)
    assert "export default" in source


# --- the JavaScript twins ---------------------------------------------------------------------------

NODE = shutil.which("node")
RUNNER = """
const source = require("fs").readFileSync(process.argv[1], "utf8");
import("data:text/javascript;base64," + Buffer.from(source).toString("base64")).then((js) => {
  const cases = JSON.parse(require("fs").readFileSync(0, "utf8"));
  const out = cases.map(({ spec, shapes, values, params }) => {
    const arrays = js.evaluate(spec, shapes, js.givenArrays(spec, shapes, values, params));
    const deps = js.dependencies(spec, shapes);
    const result = { values: {}, lights: {}, formulas: {}, captions: {} };
    for (const [name, a] of Object.entries(arrays)) result.values[name] = Array.from(a.data);
    for (const array of spec.arrays) {
      for (const index of js.allIndices(js.shapeOf(spec, array.name, shapes))) {
        const k = `${array.name}|${index.join(",")}`;
        result.lights[k] = js.lights(spec, shapes, array.name, index);
        result.captions[k] = js.caption(spec, shapes, arrays, deps, array.name, index);
        const relation = spec.relations.find((r) => r.target === array.name);
        if (relation) result.formulas[k] = js.formulaOf(spec, relation, index);
      }
    }
    return result;
  });
  const t = [];
  for (let i = -100; i <= 100; i++) t.push([js.textColour(js.colour(i / 100)), ...js.colour(i / 100)]);
  process.stdout.write(JSON.stringify({ out, colours: t, fmt: [1.2345, -0.004, -1.2, 0.31, 0].map(js.fmt) }));
});
"""


def run_js(cases: list[dict]) -> dict:
    if NODE is None:
        pytest.fail("node (Debian package nodejs) is needed to run the explorer's JavaScript")
    runner = subprocess.run([NODE, "-e", RUNNER, str(JS)], input=json.dumps(cases), capture_output=True,
                            text=True, timeout=120, check=False)
    assert runner.returncode == 0, runner.stderr
    return json.loads(runner.stdout)


@pytest.fixture(scope="module")
def js_twins():
    cases, python = [], []
    for spec in ALL_SPECS:
        values = {k: v.tolist() for k, v in structure.random_values(spec.rule).items()}
        for shapes in shape_cases(spec):
            params = structure.params_at(spec, shapes)
            cases.append({"spec": structure.as_dict(spec), "shapes": shapes, "values": values, "params": params})
            python.append((spec, shapes, structure.evaluate(spec, structure.inputs(spec, shapes, values, params))))
    return python, run_js(cases)


def test_js_values_equal_python(js_twins):
    python, js = js_twins
    for (spec, shapes, arrays), result in zip(python, js["out"]):
        for name, array in arrays.items():
            np.testing.assert_allclose(result["values"][name], array.ravel(), rtol=1e-12, atol=1e-12,
                                       err_msg=f"{spec.rule} {spec.variant} {name} at {shapes}")


def test_js_lights_and_formulas_equal_python(js_twins):
    python, js = js_twins
    checked = 0
    for (spec, shapes, _), result in zip(python, js["out"]):
        for array in spec.arrays:
            for index in itertools.product(*map(range, spec.shape(array.name, shapes))):
                k = f"{array.name}|{','.join(map(str, index))}"
                js_lit = {name: {tuple(i) for i in idx} for name, idx in result["lights"][k].items()}
                assert js_lit == structure.lights(spec, shapes, array.name, index), (spec.rule, shapes, k)
                if k in result["formulas"]:
                    assert result["formulas"][k] == structure.formula(spec, array.name, index)
                    assert result["captions"][k].startswith(result["formulas"][k])
                checked += 1
    assert checked > 1000


def test_js_captions_fill_in_the_numbers(js_twins):
    python, js = js_twins
    for (spec, shapes, arrays), result in zip(python, js["out"]):
        if spec.rule == "matvec" and shapes == spec.default_shapes:
            r, x, dW = arrays["r"][1], arrays["x"][2], arrays["dW"][1, 2]
            number = lambda v: f"({v:.2f})".replace("-", "−") if v < 0 else f"{v:.2f}"  # noqa: E731
            assert result["captions"]["dW|1,2"] == \
                f"dW[1,2] = r[1] × x[2] = {number(r)} × {number(x)} = {dW:.2f}".replace("-", "−")
            feeds = f"x[2] = {x:.2f}".replace("-", "−") + " feeds dW[0,2], dW[1,2], dW[2,2]"
            assert result["captions"]["x|2"].startswith(feeds)
        if spec.rule == "broadcast_add" and shapes == spec.default_shapes:
            assert result["captions"]["X|0,0"].endswith("feeds no entry of the gradients: none of them reads X")
        if spec.rule == "softmax_xent" and shapes["C"] == 1:
            assert "with one class, softmax(θ) is always 1" in result["captions"]["dtheta|0"]
        if spec.variant == "tanh" and shapes["n"] > 2:
            assert result["captions"]["J|0,1"] == "J[0,1] = ∂f[0]/∂x[1] = 0 (f[0] = tanh(x[0]) does not depend on x[1])"
    assert js["fmt"] == ["1.23", "0.00", "−1.20", "0.31", "0.00"]  # never "−0.00"


def test_cell_text_contrast_meets_wcag_aa(js_twins):
    _, js = js_twins
    for text, background in ((row[0], row[1:]) for row in js["colours"]):
        assert contrast([int(text[k:k + 2], 16) for k in (1, 3, 5)], background) >= 4.5, (text, background)
    ends = [row[1:] for row in js["colours"]]
    assert ends[0][2] > ends[0][0] and ends[-1][0] > ends[-1][2] and ends[100] == [247, 247, 247]  # blue, white, red


def test_js_captions_of_the_backward_pass(js_twins):
    """Chapter 8: the 1/N of the mean and the ReLU's mask are spelled out with the numbers."""
    python, js = js_twins
    seen = 0
    for (spec, shapes, arrays), result in zip(python, js["out"]):
        if spec.rule != "mlp" or shapes != spec.default_shapes:
            continue
        N = shapes["N"]
        caption = result["captions"]["dTheta|1,2"]
        assert caption.startswith("dΘ[1,2] = softmax(Θ[1,:])[2] / N − T[1,2] / N = ")
        value = f"{arrays['dTheta'][1, 2]:.2f}".replace("-", "−")
        assert f" / {N} − " in caption and caption.split("; it feeds")[0].endswith(f" = {value}")
        for i, h in itertools.product(range(N), range(shapes["H"])):
            caption = result["captions"][f"dZ1|{i},{h}"]
            off = arrays["Z1"][i, h] <= 0
            assert caption.startswith(f"dZ1[{i},{h}] = dH[{i},{h}] × 1[Z1[{i},{h}] > 0] = ")
            assert (f"Z1[{i},{h}] ≤ 0: the unit is off" in caption) == off
            assert caption.split(" = ")[2].endswith("× 0" if off else "× 1")
            seen += off
    assert seen > 0, "the default values switch some unit off"


# --- the Jacobian view's JavaScript twin ------------------------------------------------------------

JACOBIAN_RUNNER = """
const source = require("fs").readFileSync(process.argv[1], "utf8");
import("data:text/javascript;base64," + Buffer.from(source).toString("base64")).then((js) => {
  const cases = JSON.parse(require("fs").readFileSync(0, "utf8"));
  const out = cases.map(({ spec, shapes, values, wrt }) => {
    const arrays = js.evaluate(spec, shapes, js.givenArrays(spec, shapes, values, {}));
    const jac = js.jacobian(spec, shapes, arrays, wrt);
    const width = jac.cols.reduce((a, b) => a * b, 1), height = jac.rows.reduce((a, b) => a * b, 1);
    const captions = [];
    for (let row = 0; row < height; row++) for (let col = 0; col < width; col++) captions.push(js.jacobianCaption(spec, jac, wrt, row, col));
    return { entries: [...jac.entries].map(([at, e]) => [at, e.value]), height, width, captions,
             summary: js.jacobianSummary(spec, jac, wrt) };
  });
  process.stdout.write(JSON.stringify(out));
});
"""
JACOBIAN_SPECS = [s for s in ALL_SPECS if s.output]


def test_js_jacobian_equals_python_and_the_numerical_jacobian():
    """The Jacobian the page draws (pattern, values, captions) equals structure.jacobian, which
    tests/lib/test_structure.py holds to gradlib.numerical_jacobian of the rule's forward map."""
    if NODE is None:
        pytest.fail("node (Debian package nodejs) is needed to run the explorer's JavaScript")
    cases, python = [], []
    for spec in JACOBIAN_SPECS:
        values = structure.random_values(spec.rule)
        for shapes in shape_cases(spec):
            for wrt, _ in spec.jacobian_notes:
                cases.append({"spec": structure.as_dict(spec), "shapes": shapes, "wrt": wrt,
                              "values": {k: v.tolist() for k, v in values.items()}})
                given = structure.inputs(spec, shapes, values)
                python.append((spec, shapes, wrt, given, *structure.jacobian(spec, given, wrt)))
    runner = subprocess.run([NODE, "-e", JACOBIAN_RUNNER, str(JS)], input=json.dumps(cases), capture_output=True,
                            text=True, timeout=300, check=False)
    assert runner.returncode == 0, runner.stderr
    for (spec, shapes, wrt, given, pattern, values), result in zip(python, json.loads(runner.stdout)):
        where = f"{spec.rule} d{wrt} at {shapes}"
        assert (result["height"], result["width"]) == pattern.shape, where
        drawn = np.zeros(pattern.shape, dtype=bool)
        drawn_values = np.zeros(pattern.shape)
        for at, value in result["entries"]:
            drawn.flat[at], drawn_values.flat[at] = True, value
        np.testing.assert_array_equal(drawn, pattern, err_msg=where)
        np.testing.assert_allclose(drawn_values, values, rtol=1e-12, err_msg=where)
        zeros = [c for c, nonzero in zip(result["captions"], pattern.ravel()) if not nonzero]
        assert all(c.endswith("(a structural zero)") for c in zeros), where
        assert result["summary"].startswith(f"∂{spec.output}/∂{wrt}: {pattern.sum()} of {pattern.size} entries can be nonzero: "
                                            f"{dict(spec.jacobian_notes)[wrt]}."), where
        if spec.rule == "matvec" and wrt == "W" and shapes == spec.default_shapes:
            x = f"{given['x'][2]:.2f}".replace("-", "−")
            assert result["captions"][1 * 12 + 1 * 4 + 2] == f"∂z[1]/∂W[1,2] = x[2] = {x}"
            assert result["captions"][0 * 12 + 1 * 4 + 2] == "∂z[0]/∂W[1,2] = 0: z[0] does not depend on W[1,2] (a structural zero)"
            assert result["summary"].startswith("∂z/∂W: 12 of 36 entries can be nonzero: z[k] depends only on row k of W. "
                                                "Rows: the 3 entries of z (z[0] … z[2]); columns: the 12 entries of W "
                                                "flattened row by row (W[0,0] … W[2,3]).")
        if spec.rule == "matmul" and wrt == "Y" and shapes == spec.default_shapes:  # B[i,l] = Σ_j X[i,j] Y[j,l]
            m, p = shapes["m"], shapes["p"]
            row, col = 2 * p + 1, 3 * p + 1  # ∂B[2,1]/∂Y[3,1] = X[2,3]
            assert result["captions"][row * m * p + col].startswith("∂B[2,1]/∂Y[3,1] = X[2,3] = ")
        if spec.rule == "broadcast_add" and wrt == "X" and shapes == spec.default_shapes:
            assert result["captions"][5 * 13] == "∂B[1,2]/∂X[1,2] = 1.00"  # identity (4 x 3 -> 12 x 12)
