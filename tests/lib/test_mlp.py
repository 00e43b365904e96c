"""gradlib.mlp: the two-layer classifier of chapter 9 (the capstone) against an independent reference.

The reference below is written with plain index loops and math.exp/math.log, sharing no code with
gradlib: the loss, and every gradient derived entry by entry with the multi-path chain rule. Both
are also held to finite differences (gradlib.check_gradient). A swap test replaces one rule module
at a time with a wrong one and sees the network's gradient change, so each rule is really used.
"""
from __future__ import annotations

import copy
import math

import numpy as np
import pytest

import gradlib
from gradlib import GradlibError, check_gradient, mlp

SHAPES = [  # (N, D, H, C): the defaults, N=1, H=1, C=2, D=1, non-square and larger
    (4, 3, 5, 2), (1, 3, 4, 3), (5, 2, 1, 3), (3, 4, 2, 2), (1, 1, 1, 2), (6, 5, 3, 4), (2, 6, 7, 5),
]


# --- the independent reference ------------------------------------------------------------------

def reference(p: dict, X: np.ndarray, t: np.ndarray) -> tuple[float, dict]:
    """Loss and gradients by index loops: A_nh = sum_d X_nd W1_dh + b1_h, H = max(0, A),
    L_nc = sum_h H_nh W2_hc + b2_c, J = mean_n (log sum_c exp L_nc - L_n,t_n)."""
    W1, b1, W2, b2 = (p[k].tolist() for k in ("W1", "b1", "W2", "b2"))
    N, D = X.shape
    Hn, C = len(b1), len(b2)
    A = [[sum(X[n][d] * W1[d][h] for d in range(D)) + b1[h] for h in range(Hn)] for n in range(N)]
    Hid = [[A[n][h] if A[n][h] > 0 else 0.0 for h in range(Hn)] for n in range(N)]
    L = [[sum(Hid[n][h] * W2[h][c] for h in range(Hn)) + b2[c] for c in range(C)] for n in range(N)]
    loss = 0.0
    dL = [[0.0] * C for _ in range(N)]
    for n in range(N):
        top = max(L[n])
        total = sum(math.exp(L[n][c] - top) for c in range(C))
        loss += (top + math.log(total) - L[n][t[n]]) / N
        for c in range(C):
            dL[n][c] = (math.exp(L[n][c] - top) / total - (1.0 if c == t[n] else 0.0)) / N
    dW2 = [[sum(Hid[n][h] * dL[n][c] for n in range(N)) for c in range(C)] for h in range(Hn)]
    db2 = [sum(dL[n][c] for n in range(N)) for c in range(C)]
    dA = [[sum(dL[n][c] * W2[h][c] for c in range(C)) * (1.0 if A[n][h] > 0 else 0.0) for h in range(Hn)]
          for n in range(N)]
    dW1 = [[sum(X[n][d] * dA[n][h] for n in range(N)) for h in range(Hn)] for d in range(D)]
    db1 = [sum(dA[n][h] for n in range(N)) for h in range(Hn)]
    return loss, {"W1": np.array(dW1), "b1": np.array(db1), "W2": np.array(dW2), "b2": np.array(db2)}


def problem(N: int, D: int, H: int, C: int, seed: int = 0) -> tuple[dict, np.ndarray, np.ndarray]:
    """Random parameters (biases nonzero), data and classes; no pre-activation near the ReLU's kink."""
    rng = np.random.default_rng(seed)
    p = mlp.init(D, H, C, seed=seed)
    p["b1"], p["b2"] = rng.normal(size=H), rng.normal(size=C)
    X = rng.normal(size=(N, D))
    t = rng.integers(0, C, size=N)
    A = X @ p["W1"] + p["b1"]
    p["b1"] = p["b1"] + np.where(np.abs(A).min(axis=0) < 0.05, 0.2, 0.0)  # finite differences straddle no kink
    return p, X, t


# --- values ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "N{}-D{}-H{}-C{}".format(*s))
def test_loss_and_gradients_equal_the_index_loops(shape):
    p, X, t = problem(*shape)
    loss, grads = reference(p, X, t)
    assert mlp.forward(p, X, t) == pytest.approx(loss, rel=1e-12, abs=1e-14)
    got = mlp.backward(p, X, t)
    assert set(got) == {"W1", "b1", "W2", "b2"}
    for name, value in grads.items():
        assert got[name].shape == p[name].shape and got[name].dtype == np.float64
        np.testing.assert_allclose(got[name], value, rtol=1e-10, atol=1e-14, err_msg=f"{name} at {shape}")


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "N{}-D{}-H{}-C{}".format(*s))
def test_gradients_pass_the_finite_difference_check(shape):
    p, X, t = problem(*shape, seed=1)
    grads = mlp.backward(p, X, t)
    for name in p:
        result = check_gradient(lambda v, name=name: mlp.forward({**p, name: v}, X, t), p[name], grads[name])
        assert result, f"{name} at {shape}: {result!r}"


def test_the_reference_and_the_check_can_fail():
    """A gradient off by a little in one entry is caught by both comparisons."""
    p, X, t = problem(4, 3, 5, 2)
    grads = mlp.backward(p, X, t)
    wrong = grads["W1"].copy()
    wrong[1, 2] += 1e-3
    assert not np.allclose(wrong, reference(p, X, t)[1]["W1"], rtol=1e-10, atol=1e-14)
    assert not check_gradient(lambda v: mlp.forward({**p, "W1": v}, X, t), p["W1"], wrong)


def test_a_dead_unit_gets_no_gradient():
    """A hidden unit that no example switches on gets no gradient (ReLU's mask), in W1 and b1."""
    p, X, t = problem(5, 3, 4, 3)
    p["b1"][2] = -100.0
    grads = mlp.backward(p, X, t)
    assert np.all(grads["W1"][:, 2] == 0) and grads["b1"][2] == 0
    assert np.all(grads["W2"][2] == 0)  # its activation is 0 for every example


def test_trace_holds_every_array_of_the_pass():
    p, X, t = problem(3, 4, 2, 5)
    arrays = mlp.trace(p, X, t)
    np.testing.assert_allclose(arrays["Z1"], X @ p["W1"] + p["b1"])
    np.testing.assert_allclose(arrays["H"], np.maximum(arrays["Z1"], 0))
    np.testing.assert_allclose(arrays["Theta"], arrays["H"] @ p["W2"] + p["b2"])
    np.testing.assert_allclose(arrays["dTheta"].sum(axis=1), 0, atol=1e-15)  # softmax - onehot sums to 0
    assert check_gradient(lambda X: mlp.forward(p, X, t), X, arrays["dX"])  # the input gradient too


# --- init and predict --------------------------------------------------------------------------------

def test_init_shapes_dtype_seed_and_scale():
    p = mlp.init(3, 5, 2)
    assert {k: v.shape for k, v in p.items()} == {"W1": (3, 5), "b1": (5,), "W2": (5, 2), "b2": (2,)}
    assert all(v.dtype == np.float64 for v in p.values())
    again, other = mlp.init(3, 5, 2), mlp.init(3, 5, 2, seed=1)
    assert all(np.array_equal(p[k], again[k]) for k in p)
    assert not np.array_equal(p["W1"], other["W1"])
    assert np.all(p["b1"] == 0) and np.all(p["b2"] == 0)
    big = mlp.init(400, 300, 200, seed=3)  # He: variance 2 / fan-in
    assert big["W1"].var() == pytest.approx(2 / 400, rel=0.05)
    assert big["W2"].var() == pytest.approx(2 / 300, rel=0.05)


@pytest.mark.parametrize("args,message", [
    ((0, 3, 2), "mlp: D must be a positive int, got 0"),
    ((3, 2.0, 2), "mlp: H must be a positive int, got 2.0"),
    ((3, 2, True), "mlp: C must be a positive int, got True"),
])
def test_init_refuses_bad_sizes(args, message):
    with pytest.raises(GradlibError, match=message):
        mlp.init(*args)


def test_predict_is_the_argmax_of_the_logits():
    p, X, t = problem(6, 3, 4, 3)
    L = np.maximum(X @ p["W1"] + p["b1"], 0) @ p["W2"] + p["b2"]
    predicted = mlp.predict(p, X)
    assert predicted.shape == (6,) and predicted.dtype.kind == "i"
    assert [int(c) for c in predicted] == [max(range(3), key=lambda c: L[n, c]) for n in range(6)]
    p["b2"] = np.array([0.0, 1e6, 0.0])  # a huge bias decides every example
    assert np.all(mlp.predict(p, X) == 1)


# --- each rule is really used -----------------------------------------------------------------------

@pytest.mark.parametrize("module,wrong,changes", [
    ("matmul", lambda real: lambda dB, X, Y: (real(dB, X, Y)[0], 2 * real(dB, X, Y)[1]), {"W1", "W2"}),
    ("matmul", lambda real: lambda dB, X, Y: (0.5 * real(dB, X, Y)[0], real(dB, X, Y)[1]), {"W1", "b1"}),
    ("broadcast_add", lambda real: lambda dB, X, y: (real(dB, X, y)[0], np.asarray(dB)[0].copy()), {"b1", "b2"}),
    ("broadcast_add", lambda real: lambda dB, X, y: (-real(dB, X, y)[0], real(dB, X, y)[1]), {"W2", "b1"}),
    ("softmax_xent", lambda real: lambda theta, t: real(theta, t) * len(t), {"W1", "b1", "W2", "b2"}),
    # (negating broadcast_add's dX twice cancels in W1: only W2 and b1 see an odd number of flips)
], ids=["matmul-dY", "matmul-dX", "broadcast_add-unsummed", "broadcast_add-dX", "softmax_xent-no-1/N"])
def test_swapping_a_rule_changes_the_gradient(monkeypatch, module, wrong, changes):
    p, X, t = problem(4, 3, 5, 3)
    right = mlp.backward(p, X, t)
    rule = getattr(gradlib, module)
    monkeypatch.setattr(rule, "backward", wrong(rule.backward))
    swapped = mlp.backward(p, X, t)
    changed = {name for name in p if not np.allclose(swapped[name], right[name])}
    assert changed == changes
    monkeypatch.undo()
    assert all(np.array_equal(mlp.backward(p, X, t)[name], right[name]) for name in p)


def test_relu_mask_is_applied():
    """The ReLU step matters: without the mask (every unit treated as on) W1's gradient changes."""
    p, X, t = problem(5, 3, 4, 3)
    arrays = mlp.trace(p, X, t)
    assert np.any(arrays["Z1"] < 0) and np.any(arrays["Z1"] > 0)
    unmasked = X.T @ (arrays["dTheta"] @ p["W2"].T)
    assert not np.allclose(unmasked, arrays["dW1"])
    np.testing.assert_allclose(arrays["dW1"], X.T @ (arrays["dH"] * (arrays["Z1"] > 0)))


# --- bad input ---------------------------------------------------------------------------------------

def _good():
    p, X, t = problem(4, 3, 5, 2)
    return p, X, t


def _with(p, **changes):
    out = dict(p)
    for k, v in changes.items():
        if v is None:
            del out[k]
        else:
            out[k] = v
    return out


P, X0, T0 = _good()
BAD = [
    ("X with 2 columns", P, np.ones((4, 2)), T0, r"mlp: X is \(4, 2\) but W1 is \(3, 5\); X needs one column per row"),
    ("X 1-D", P, np.ones(3), T0, r"mlp: X must be 2-D, got shape \(3,\)"),
    ("X with nan", P, np.full((4, 3), np.nan), T0, r"mlp: X of shape \(4, 3\) contains nan or inf"),
    ("X text", P, [["a"] * 3] * 4, T0, r"mlp: X must be numeric, got dtype <U1 \(shape \(4, 3\)\)"),
    ("X empty", P, np.ones((0, 3)), np.zeros(0, dtype=int), r"mlp: X is empty \(shape \(0, 3\)\)"),
    ("t out of range", P, X0, np.array([0, 1, 2, 0]),
     r"mlp: t\[2\]=2 is out of range for theta with 2 classes \(shape \(4, 2\)\)"),
    ("t negative", P, X0, np.array([0, -1, 1, 0]), r"mlp: t\[1\]=-1 is out of range for theta with 2 classes"),
    ("t float", P, X0, T0.astype(float),
     r"mlp: t must be an integer class index, got .* \(dtype float64\) for theta of shape \(4, 2\)"),
    ("t bool", P, X0, T0.astype(bool),
     r"mlp: t must be an integer class index, got .* \(dtype bool\) for theta of shape \(4, 2\)"),
    ("t too short", P, X0, T0[:3], r"mlp: t is \(3,\) but X has 4 rows; t needs one class per row, shape \(4,\)"),
    ("t a scalar", P, X0, 1, r"mlp: t is \(\) but X has 4 rows"),
    ("W1 missing", _with(P, W1=None), X0, T0, "mlp: params is missing W1; it needs W1, b1, W2, b2"),
    ("two missing", _with(P, b1=None, b2=None), X0, T0, "mlp: params is missing b1, b2"),
    ("not a dict", [P["W1"], P["b1"]], X0, T0, "mlp: params must be a dict with keys W1, b1, W2, b2, got list"),
    ("b1 wrong length", _with(P, b1=np.zeros(4)), X0, T0,
     r"mlp: b1 is \(4,\) but W1 is \(3, 5\); b1 needs one entry per column of W1, \(5,\)"),
    ("b1 two rows", _with(P, b1=np.zeros((2, 5))), X0, T0,
     r"mlp: b1 is \(2, 5\) but W1 is \(3, 5\); b1 needs one entry per column of W1, \(5,\) or \(1, 5\)"),
    ("b1 a column", _with(P, b1=np.zeros((5, 1))), X0, T0, r"mlp: b1 is \(5, 1\) but W1 is \(3, 5\)"),
    ("b2 3-D", _with(P, b2=np.zeros((1, 1, 2))), X0, T0, r"mlp: b2 must be 1-D or 2-D, got shape \(1, 1, 2\)"),
    ("W2 rows", _with(P, W2=np.zeros((4, 2))), X0, T0,
     r"mlp: W2 is \(4, 2\) but W1 is \(3, 5\); W2 needs one row per hidden unit"),
    ("b2 wrong length", _with(P, b2=np.zeros(3)), X0, T0,
     r"mlp: b2 is \(3,\) but W2 is \(5, 2\); b2 needs one entry per column of W2, \(2,\)"),
    ("W1 inf", _with(P, W1=np.full((3, 5), np.inf)), X0, T0, r"mlp: W1 of shape \(3, 5\) contains nan or inf"),
    ("W2 3-D", _with(P, W2=np.zeros((5, 2, 1))), X0, T0, r"mlp: W2 must be 2-D, got shape \(5, 2, 1\)"),
    ("W2 empty", _with(P, W2=np.zeros((5, 0)), b2=np.zeros(0)), X0, T0, r"mlp: W2 is empty \(shape \(5, 0\)\)"),
]


def test_biases_may_be_rows_and_their_gradients_come_back_as_rows():
    """b1 as a (1, H) row and b2 as a (1, C) row, as numpy code often writes them: the same loss, the
    same gradients, db1 and db2 shaped like the biases given (a gradient has its parameter's shape)."""
    rows = _with(P, b1=P["b1"].reshape(1, -1), b2=P["b2"].reshape(1, -1))
    assert mlp.forward(rows, X0, T0) == pytest.approx(mlp.forward(P, X0, T0), rel=1e-15)
    flat, as_rows = mlp.backward(P, X0, T0), mlp.backward(rows, X0, T0)
    for name in mlp.PARAMS:
        assert as_rows[name].shape == rows[name].shape
        np.testing.assert_allclose(as_rows[name].reshape(flat[name].shape), flat[name], rtol=1e-14, atol=0)
    np.testing.assert_array_equal(mlp.predict(rows, X0), mlp.predict(P, X0))
    assert check_gradient(lambda b1: mlp.forward(_with(rows, b1=b1), X0, T0), rows["b1"], as_rows["b1"])


def _same(given, was) -> None:
    """``given`` is exactly its deep copy ``was``: a dict's keys in order, a list's length, and each
    array's (or number's) dtype, shape and bytes."""
    if isinstance(was, dict):
        assert list(given) == list(was), f"the call changed the dict's keys to {list(given)}"
        for name in was:
            _same(given[name], was[name])
    elif isinstance(was, list):
        assert isinstance(given, list) and len(given) == len(was), "the call changed a list"
        for item, old in zip(given, was, strict=True):
            _same(item, old)
    else:
        now, then = np.asarray(given), np.asarray(was)
        assert (now.dtype, now.shape) == (then.dtype, then.shape), "the call changed an input's dtype or shape"
        assert now.tobytes() == then.tobytes(), "the call changed an input's values"


def _call_keeping_inputs(function: str, params, X, t):
    """mlp.<function>(params, X, t) (predict takes no t), asserting afterwards, also when it raised, that
    it changed none of its arguments and left the caller's own arrays in the params dict."""
    arguments = [params, X] if function == "predict" else [params, X, t]
    arrays = dict(params) if isinstance(params, dict) else {}
    snapshot = copy.deepcopy(arguments)
    try:
        return getattr(mlp, function)(*arguments)
    finally:
        _same(arguments, snapshot)
        assert all(params[name] is array for name, array in arrays.items()), "the call replaced a caller's array"


@pytest.mark.parametrize("function", ["forward", "backward", "trace"])
@pytest.mark.parametrize("what,params,X,t,message", BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_a_clear_error_and_changes_nothing(function, what, params, X, t, message):
    with pytest.raises(GradlibError, match=message) as info:
        _call_keeping_inputs(function, params, X, t)
    assert type(info.value) is GradlibError


@pytest.mark.parametrize("what,params,X,t,message", [b for b in BAD if not b[0].startswith("t ")],
                         ids=[b[0] for b in BAD if not b[0].startswith("t ")])
def test_predict_refuses_the_same_bad_input(what, params, X, t, message):
    with pytest.raises(GradlibError, match=message) as info:
        _call_keeping_inputs("predict", params, X, t)
    assert type(info.value) is GradlibError


@pytest.mark.parametrize("function", ["forward", "backward", "trace", "predict"])
def test_a_call_changes_none_of_its_inputs(function):
    """Every entry point leaves the caller's params (its keys and arrays), X and t as they were, also
    with a bias given as a row and integer data, which the checks convert."""
    p, X, t = _good()
    _call_keeping_inputs(function, p, X, t)
    rows = _with(p, b1=p["b1"].reshape(1, -1), b2=p["b2"].reshape(1, -1))
    _call_keeping_inputs(function, rows, np.arange(12).reshape(4, 3) % 3 - 1, t.astype(np.int32))


def test_a_shape_error_is_a_value_error_with_the_whole_message():
    """numpy-style code catches shape errors as ValueError: a GradlibError is one, and says it all."""
    p, X, t = _good()
    with pytest.raises(ValueError) as info:
        mlp.forward(p, X, t[:1])
    assert type(info.value) is GradlibError
    assert str(info.value) == "mlp: t is (1,) but X has 4 rows; t needs one class per row, shape (4,)"


def test_complex_steps_pass_through():
    """Like every rule, mlp keeps complex input complex, so check_gradient can use the complex step."""
    p, X, t = _good()
    result = check_gradient(lambda W1: mlp.forward({**p, "W1": W1}, X, t), p["W1"], mlp.backward(p, X, t)["W1"])
    assert result and result.method == "complex", result


def test_integer_inputs_are_promoted():
    p, X, t = _good()
    Xi = np.arange(12).reshape(4, 3) % 3 - 1
    np.testing.assert_allclose(mlp.backward(p, Xi, t)["W1"], mlp.backward(p, Xi.astype(float), t)["W1"])
    assert mlp.backward(p, Xi, t.astype(np.uint8))["W1"].dtype == np.float64


# --- check_backward: the lab's checker ------------------------------------------------------------

def _slipped(name, change):
    """mlp.backward with one gradient changed by ``change(gradient, trace)``."""
    def backward(p, X, t):
        grads = mlp.backward(p, X, t)
        grads[name] = change(grads[name], mlp.trace(p, X, t))
        return grads
    return backward


def test_check_backward_passes_the_right_pass_and_answers_per_parameter():
    report = mlp.check_backward(mlp.backward)
    assert list(report) == ["W1", "b1", "W2", "b2"] and all(report.values())
    assert all(isinstance(r, gradlib.CheckResult) and r.diagnosis is None for r in report.values())
    assert report["W1"].analytic.shape == (4, 5) and report["b2"].analytic.shape == (3,)
    small = mlp.check_backward(mlp.backward, N=2, D=3, H=2, C=4, seed=9)
    assert small["W2"].analytic.shape == (2, 4) and all(small.values())


def test_check_backward_names_the_slip_where_it_is():
    b1_mean = mlp.check_backward(_slipped("b1", lambda g, tr: tr["dZ1"].mean(axis=0)))  # N = 6
    assert [n for n, r in b1_mean.items() if not r] == ["b1"]
    assert b1_mean["b1"].diagnosis.startswith("scaled by 1/6")
    w2_sign = mlp.check_backward(_slipped("W2", lambda g, tr: -g))
    assert [n for n, r in w2_sign.items() if not r] == ["W2"] and w2_sign["W2"].diagnosis.startswith("sign flipped")
    w1_t = mlp.check_backward(_slipped("W1", lambda g, tr: g.T), D=5, H=5)  # square W1: same shape, transposed
    assert [n for n, r in w1_t.items() if not r] == ["W1"] and w1_t["W1"].diagnosis.startswith("transposed")


def test_check_backward_biases_are_nonzero_so_a_forgotten_bias_shows():
    def no_b1(p, X, t):  # the student's forward pass forgets b1: the ReLU's mask is then wrong
        return mlp.backward({**p, "b1": np.zeros_like(p["b1"])}, X, t)
    report = mlp.check_backward(no_b1)
    assert not report["W1"] and not report["b1"]


BACKWARD_ERRORS = [
    (3, "check_backward: backward must be a function backward(params, X, t)"),
    (lambda p, X, t: [1, 2], "check_backward: backward must return a dict with keys W1, b1, W2, b2, got list"),
    (lambda p, X, t: {"W1": p["W1"], "b2": p["b2"]}, "check_backward: backward returned no gradient for b1, W2; it "
                                                     "needs W1, b1, W2, b2 (got keys W1, b2)"),
    (_slipped("W1", lambda g, tr: g.T), r"check_backward: dW1 is (5, 4) but W1 is (4, 5); a gradient has its "
                                        r"parameter's shape; it looks transposed"),
    (_slipped("b2", lambda g, tr: g[None, :]), "check_backward: db2 is (1, 3) but b2 is (3,)"),
    (_slipped("b1", lambda g, tr: tr["dZ1"]), "check_backward: db1 is (6, 5) but b1 is (5,)"),
    (_slipped("W2", lambda g, tr: ...), "check_backward: dW2 is Ellipsis: not computed yet (it needs shape (5, 3))"),
]


@pytest.mark.parametrize("backward,message", BACKWARD_ERRORS,
                         ids=[m.split(": ", 1)[1][:30] for _, m in BACKWARD_ERRORS])
def test_check_backward_refuses_what_it_cannot_check(backward, message):
    with pytest.raises(GradlibError) as caught:
        mlp.check_backward(backward)
    assert str(caught.value).startswith(message)


def test_check_backward_displays_as_one_table():
    html = mlp.check_backward(_slipped("W2", lambda g, tr: -g))._repr_html_()
    assert html.count("<table") == 1 and html.count("<tr>") == 5  # the header and one row per parameter
    assert "sign flipped" in html and "FAIL" in html and "PASS" in html
    assert "W2 (5, 3): FAIL" in repr(mlp.check_backward(_slipped("W2", lambda g, tr: -g)))


def test_table_helper_escapes_and_checks_its_rows():
    from gradlib.display import table, table_html
    html = table_html(["a", "b<"], [["x&y", 1.5], ["z", 2]])
    assert html.count("<tr>") == 3 and "b&lt;" in html and "x&amp;y" in html and "|" not in html
    assert "<table" in table(["a"], [["1"]])._repr_html_()
    with pytest.raises(GradlibError, match="table: every row needs 2 cells"):
        table_html(["a", "b"], [["only one"]])
