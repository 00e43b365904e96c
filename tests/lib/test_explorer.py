"""gradlib.explorer: the widget's Python side, and its JavaScript view against gradlib.structure.

The view computes values and lights itself when no kernel answers (the static site). Its view state
(gradlib/explorer_js/state.js and the pure modules under it: state + action -> lights, caption, score,
Jacobian, chapter 9's step, no DOM) is run under Node by tests/lib/test_explorer_view*.py, from the
shipped bundle gradlib/explorer.js (tests/tooling/test_explorer_bundle.py holds the bundle to its
sources), and compared with gradlib.structure, which tests/lib/test_structure*.py hold to gradlib itself and to
gradlib.numerical_jacobian. The browser tests (tests/site/test_explorer_*.py) check only the wiring.
"""
from __future__ import annotations

import copy
import re
from pathlib import Path

import numpy as np
import pytest
import traitlets

import gradlib
from gradlib import GradlibError, structure
from gradlib.explorer import Explorer

JS = Path(gradlib.__file__).with_name("explorer.js")


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
    """Chapter 9: with a kernel, every array shown is gradlib.mlp.trace's, at any shapes."""
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
    (dict(rule="softmax_xent", t=True), r"explorer: t=True is out of range 0..4"),
    (dict(rule="softmax_xent", t=np.True_), r"explorer: t=np.True_ is out of range 0..4"),
    (dict(rule="matvec", select=("dZ", (0, 0))), "explorer: matvec has no array 'dZ' to select"),
    (dict(rule="matvec", select=("dW", (3, 0))), r"explorer: dW\[3,0\] is not an entry of dW \(shape \(3, 4\)\)"),
])
def test_bad_arguments_are_gradlib_errors(kwargs, message):
    with pytest.raises(GradlibError, match=message):
        Explorer(**kwargs)


@pytest.mark.parametrize("shapes,message", [
    ({"n": 3, "m": 7}, "explorer: m=7 is out of range 1..6 for rule matvec"),
    ({"n": 0, "m": 4}, "explorer: n=0 is out of range 1..6 for rule matvec"),
    ({"n": 2.5, "m": 4}, "explorer: n must be an integer, got 2.5 for rule matvec"),
    ({"n": True, "m": 4}, "explorer: n must be an integer, got True for rule matvec"),
    ({"n": 3}, "explorer: no size for m: rule matvec needs n, m, got {'n': 3}"),
], ids=["m=7", "n=0", "n=2.5", "n=True", "no m"])
def test_bad_shapes_later_are_refused_and_change_nothing(shapes, message):
    """Shapes set after construction (what the sliders send) are checked as the constructor checks
    them: refused with a TraitError (traitlets' error for a refused value, so the front end is told)
    carrying the GradlibError's message, and the widget keeps its shapes, numbers and selection."""
    widget = Explorer("matvec", select=("dW", (2, 3)))
    synced = ("shapes", "computed", "selection", "params", "values", "variant")
    before = {name: copy.deepcopy(getattr(widget, name)) for name in synced}
    with pytest.raises(traitlets.TraitError) as info:
        widget.shapes = shapes
    assert type(info.value) is traitlets.TraitError and str(info.value) == message
    assert {name: getattr(widget, name) for name in synced} == before
    assert widget.lit == structure.lights(widget.spec, {"n": 3, "m": 4}, "dW", (2, 3))


def test_the_view_is_self_contained():
    """The static site works offline: the view imports nothing and fetches nothing."""
    source = JS.read_text()
    widget = Explorer("matvec")
    assert widget._esm == source and widget._css == JS.with_suffix(".css").read_text()
    assert not re.search(r"^\s*import\b|\bimport\(|\bfetch\(|https?://|XMLHttpRequest", source, re.M)
    assert re.search(r"\bexport default\b|\bas default\b", source)
    assert source.startswith("// GENERATED by `make js` (esbuild) from gradlib/explorer_js/*.js")


