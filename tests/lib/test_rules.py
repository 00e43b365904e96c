"""The seven rule modules against finite differences and against the notes' element-wise formulas.

Every ``backward`` is checked three ways: against ``gradlib.numerical_gradient`` of the scalar
``<upstream, forward(...)>`` taken with respect to each input; against explicit index loops that
spell out the notes' element-wise formulas (and ``np.einsum``), which share no code with the
implementation; and for the shapes it returns (each gradient has its input's shape, vectors keep
their 1-D / row / column convention).
"""
from __future__ import annotations

import inspect
import itertools
import re
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from gradlib import (
    broadcast_add,
    broadcast_mul,
    jacobian,
    matmul,
    matvec,
    numerical_gradient,
    numerical_jacobian,
    show_source,
    softmax_xent,
    vecmat,
)

SETTINGS = settings(max_examples=50, deadline=None)
TOL = dict(rtol=1e-6, atol=1e-7)
dims = st.integers(1, 4)  # includes 1 x 1, 1 x n, n x 1 and non-square shapes


def arrays(*shape: int) -> st.SearchStrategy[np.ndarray]:
    return hnp.arrays(np.float64, shape, elements=st.floats(-3, 3, allow_subnormal=False))


def as_kind(v: np.ndarray, kind: str) -> np.ndarray:
    """The 1-D vector v written as (m,), (1, m) or (m, 1)."""
    return {"flat": v, "row": v.reshape(1, -1), "column": v.reshape(-1, 1)}[kind]


def numerical_vjp(forward, upstream: np.ndarray, args: list[np.ndarray]) -> list[np.ndarray]:
    """Finite-difference gradients of J = <upstream, forward(*args)> (entry by entry) w.r.t. each arg."""
    grads = []
    for i in range(len(args)):
        def J(a: np.ndarray, i: int = i) -> float:
            return np.sum(np.ravel(upstream) * np.ravel(forward(*args[:i], a, *args[i + 1:])))
        grads.append(numerical_gradient(J, args[i]))
    return grads


def assert_vjp(forward, backward, upstream: np.ndarray, args: list[np.ndarray]) -> tuple[np.ndarray, ...]:
    """backward(upstream, *args) has one gradient per arg, each of its arg's shape and equal to finite differences."""
    analytic = backward(upstream, *args)
    assert len(analytic) == len(args)
    for got, arg, expected in zip(analytic, args, numerical_vjp(forward, upstream, args), strict=True):
        assert got.shape == arg.shape and got.dtype == np.float64
        np.testing.assert_allclose(got, expected, **TOL)
    return analytic


# --- matvec: z = W x ---------------------------------------------------------------------

@SETTINGS
@given(st.data(), dims, dims, st.sampled_from(["flat", "column"]), st.sampled_from(["flat", "row", "column"]))
def test_matvec(data, n, m, x_kind, r_kind):
    W, x, r = data.draw(arrays(n, m)), data.draw(arrays(m)), data.draw(arrays(n))
    z = matvec.forward(W, as_kind(x, x_kind))
    assert z.shape == as_kind(np.zeros(n), x_kind).shape  # z follows x's convention
    np.testing.assert_allclose(z.ravel(), [sum(W[k, ell] * x[ell] for ell in range(m)) for k in range(n)], **TOL)

    dW, dx = assert_vjp(matvec.forward, matvec.backward, as_kind(r, r_kind), [W, as_kind(x, x_kind)])
    for i, j in itertools.product(range(n), range(m)):
        assert dW[i, j] == pytest.approx(r[i] * x[j])  # notes: dL/dW_ij = r_i x_j
    np.testing.assert_allclose(dx.ravel(), [sum(r[k] * W[k, j] for k in range(n)) for j in range(m)], **TOL)
    np.testing.assert_allclose(dW, np.einsum("i,j->ij", r, x), **TOL)


# --- vecmat: z = x W ---------------------------------------------------------------------

@SETTINGS
@given(st.data(), dims, dims, st.sampled_from(["flat", "row"]), st.sampled_from(["flat", "row", "column"]))
def test_vecmat(data, m, n, x_kind, r_kind):
    x, W, r = data.draw(arrays(m)), data.draw(arrays(m, n)), data.draw(arrays(n))
    z = vecmat.forward(as_kind(x, x_kind), W)
    assert z.shape == as_kind(np.zeros(n), x_kind).shape
    np.testing.assert_allclose(z.ravel(), [sum(x[k] * W[k, ell] for k in range(m)) for ell in range(n)], **TOL)

    dx, dW = assert_vjp(vecmat.forward, vecmat.backward, as_kind(r, r_kind), [as_kind(x, x_kind), W])
    for i, j in itertools.product(range(m), range(n)):
        assert dW[i, j] == pytest.approx(x[i] * r[j])  # notes: dL/dW_ij = x_i r_j
    np.testing.assert_allclose(dx.ravel(), [sum(r[ell] * W[i, ell] for ell in range(n)) for i in range(m)], **TOL)


# --- matmul: B = X Y ---------------------------------------------------------------------

@SETTINGS
@given(st.data(), dims, dims, dims)
def test_matmul(data, n, m, p):
    X, Y, dB = data.draw(arrays(n, m)), data.draw(arrays(m, p)), data.draw(arrays(n, p))
    np.testing.assert_allclose(matmul.forward(X, Y), np.einsum("kj,jl->kl", X, Y), **TOL)
    dX, dY = assert_vjp(matmul.forward, matmul.backward, dB, [X, Y])
    for i, j in itertools.product(range(n), range(m)):
        assert dX[i, j] == pytest.approx(sum(dB[i, ell] * Y[j, ell] for ell in range(p)), abs=1e-12)
    for i, j in itertools.product(range(m), range(p)):
        assert dY[i, j] == pytest.approx(sum(dB[k, j] * X[k, i] for k in range(n)), abs=1e-12)


def test_matvec_and_vecmat_are_matmul_with_one_side_a_vector():
    rng = np.random.default_rng(0)
    W, x, r = rng.normal(size=(3, 4)), rng.normal(size=(4, 1)), rng.normal(size=(1, 3))
    dW, dx = matvec.backward(r, W, x)
    dW_mm, dx_mm = matmul.backward(r.T, W, x)  # z = W x is matmul with p = 1; its upstream is the column r^T
    np.testing.assert_allclose(dW, dW_mm)
    np.testing.assert_allclose(dx, dx_mm)
    dx_row, dW_row = vecmat.backward(r.T, x.T, W.T)  # (W x)^T = x^T W^T
    np.testing.assert_allclose(dW_row, dW.T)
    np.testing.assert_allclose(dx_row, dx.T)


# --- broadcast_add: B = X + y, broadcast_mul: B = y * X ----------------------------------

@SETTINGS
@given(st.data(), dims, dims, st.sampled_from(["flat", "row"]))
def test_broadcast_add(data, n, m, y_kind):
    X, y, dB = data.draw(arrays(n, m)), data.draw(arrays(m)), data.draw(arrays(n, m))
    B = broadcast_add.forward(X, as_kind(y, y_kind))
    np.testing.assert_allclose(B, [[X[i, j] + y[j] for j in range(m)] for i in range(n)])
    dX, dy = assert_vjp(broadcast_add.forward, broadcast_add.backward, dB, [X, as_kind(y, y_kind)])
    np.testing.assert_array_equal(dX, dB)
    np.testing.assert_allclose(dy.ravel(), [sum(dB[i, j] for i in range(n)) for j in range(m)], **TOL)
    np.testing.assert_allclose(dy.ravel(), np.ones(n) @ dB, **TOL)  # notes: dL/dy = 1^T dL/dB


@SETTINGS
@given(st.data(), dims, dims, st.sampled_from(["flat", "row"]))
def test_broadcast_mul(data, n, m, y_kind):
    y, X, dB = data.draw(arrays(m)), data.draw(arrays(n, m)), data.draw(arrays(n, m))
    B = broadcast_mul.forward(as_kind(y, y_kind), X)
    np.testing.assert_allclose(B, [[y[j] * X[i, j] for j in range(m)] for i in range(n)])
    dy, dX = assert_vjp(broadcast_mul.forward, broadcast_mul.backward, dB, [as_kind(y, y_kind), X])
    np.testing.assert_allclose(dy.ravel(), [sum(dB[i, j] * X[i, j] for i in range(n)) for j in range(m)], **TOL)
    np.testing.assert_allclose(dX, [[y[j] * dB[i, j] for j in range(m)] for i in range(n)], **TOL)
    np.testing.assert_allclose(dy.ravel(), np.einsum("ij,ij->j", dB, X), **TOL)


def test_backward_does_not_hand_back_the_callers_upstream_array():
    dB = np.ones((2, 3))
    dX, _ = broadcast_add.backward(dB, np.zeros((2, 3)), np.zeros(3))
    dX[0, 0] = 5.0
    assert dB[0, 0] == 1.0


# --- softmax cross-entropy -----------------------------------------------------------------

def naive_loss(theta: np.ndarray, t: int) -> float:
    """-log softmax(theta)_t straight from the definition (fine for small logits)."""
    e = [np.exp(v) for v in theta]
    return -np.log(e[t] / sum(e))


@SETTINGS
@given(st.data(), dims, st.sampled_from(["flat", "row", "column"]))
def test_softmax_xent_single(data, C, kind):
    theta = data.draw(arrays(C))
    t = data.draw(st.integers(0, C - 1))
    logits = as_kind(theta, kind)
    assert softmax_xent.forward(logits, t) == pytest.approx(naive_loss(theta, t), rel=1e-12, abs=1e-12)
    grad = softmax_xent.backward(logits, t)
    assert grad.shape == logits.shape
    e = np.exp(theta)
    np.testing.assert_allclose(grad.ravel(), [e[i] / e.sum() - (i == t) for i in range(C)], **TOL)
    np.testing.assert_allclose(grad, numerical_gradient(lambda a: softmax_xent.forward(a, t), logits), **TOL)
    np.testing.assert_allclose(softmax_xent.softmax(logits).ravel(), e / e.sum(), **TOL)
    assert softmax_xent.logsumexp(logits) == pytest.approx(np.log(e.sum()), rel=1e-12)


@SETTINGS
@given(st.data(), dims, dims)
def test_softmax_xent_batch_is_the_mean_of_the_rows(data, N, C):
    theta = data.draw(arrays(N, C))
    t = np.array(data.draw(st.lists(st.integers(0, C - 1), min_size=N, max_size=N)))
    assert softmax_xent.forward(theta, t) == pytest.approx(
        np.mean([naive_loss(theta[i], t[i]) for i in range(N)]), rel=1e-12, abs=1e-12)
    grad = softmax_xent.backward(theta, t)
    assert grad.shape == (N, C)
    np.testing.assert_allclose(grad, [softmax_xent.backward(theta[i], t[i]) / N for i in range(N)], **TOL)
    np.testing.assert_allclose(grad, numerical_gradient(lambda a: softmax_xent.forward(a, t), theta), **TOL)


@SETTINGS
@given(st.data(), st.integers(2, 5), st.sampled_from([1e4, -1e4, 1e6]))
def test_softmax_xent_is_shift_invariant_for_huge_logits(data, C, offset):
    theta = data.draw(arrays(C))
    t = data.draw(st.integers(0, C - 1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        big = theta + offset
        assert softmax_xent.forward(big, t) == pytest.approx(softmax_xent.forward(theta, t), abs=1e-9)
        np.testing.assert_allclose(softmax_xent.backward(big, t), softmax_xent.backward(theta, t), atol=1e-9)
        assert softmax_xent.logsumexp(big) == pytest.approx(softmax_xent.logsumexp(theta) + offset, rel=1e-14)


def test_softmax_xent_huge_logits_give_exact_finite_answers_without_warnings():
    theta = np.array([1e4, 0.0, -1e4])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any overflow / invalid-value warning fails the test
        assert softmax_xent.forward(theta, 0) == 0.0  # log(1 + e^-1e4 + e^-2e4) underflows to exactly 0
        assert softmax_xent.forward(theta, 1) == 1e4
        assert softmax_xent.forward(theta, 2) == 2e4
        np.testing.assert_array_equal(softmax_xent.softmax(theta), [1.0, 0.0, 0.0])
        np.testing.assert_array_equal(softmax_xent.backward(theta, 2), [1.0, 0.0, -1.0])
        assert softmax_xent.logsumexp(theta) == 1e4
        assert softmax_xent.logsumexp(np.full(4, -1e4)) == pytest.approx(-1e4 + np.log(4), rel=1e-15)
        batch = np.array([[1e4, -1e4], [-1e4, -1e4]])
        assert softmax_xent.forward(batch, np.array([1, 0])) == pytest.approx((2e4 + np.log(2)) / 2)
        np.testing.assert_allclose(softmax_xent.backward(batch, np.array([1, 0])), [[0.5, -0.5], [-0.25, 0.25]])
        assert np.all(np.isfinite(jacobian.softmax.jacobian(theta)))
        close = np.array([1e4, 1e4 - 1.0, -1e4])  # two live classes next to each other, far from 0
        np.testing.assert_allclose(softmax_xent.backward(close, 1),
                                   numerical_gradient(lambda a: softmax_xent.forward(a, 1), close), atol=1e-6)


def test_onehot():
    np.testing.assert_array_equal(softmax_xent.onehot(2, 4), [0, 0, 1, 0])
    np.testing.assert_array_equal(softmax_xent.onehot(np.array([0, 3]), 4), [[1, 0, 0, 0], [0, 0, 0, 1]])


def test_the_true_class_is_called_t():
    """The book writes the true class t; so does the API, positionally and by keyword."""
    for function, names in [(softmax_xent.forward, ["theta", "t"]), (softmax_xent.backward, ["theta", "t"]),
                            (softmax_xent.onehot, ["t", "C"]), (jacobian.softmax_xent, ["t"])]:
        assert list(inspect.signature(function).parameters) == names, function.__name__
    theta = np.array([0.5, -1.0, 2.0])
    assert softmax_xent.forward(theta, t=1) == softmax_xent.forward(theta, 1) == naive_loss(theta, 1)
    np.testing.assert_array_equal(softmax_xent.backward(theta, t=1), softmax_xent.backward(theta, 1))
    assert jacobian.softmax_xent(1).name == "softmax_xent(t=1)"


def test_softmax_of_a_batch_is_row_by_row():
    theta = np.array([[0.0, np.log(3.0)], [np.log(2.0), np.log(2.0)], [5.0, 5.0]])
    np.testing.assert_allclose(softmax_xent.softmax(theta), [[0.25, 0.75], [0.5, 0.5], [0.5, 0.5]])
    np.testing.assert_allclose(softmax_xent.logsumexp(theta), [np.log(4), np.log(4), 5 + np.log(2)])


# --- integer input and complex steps -----------------------------------------------------

RULE_CASES = {  # rule -> (forward, backward, upstream, inputs) with small integer inputs
    "matvec": (matvec.forward, matvec.backward, [[1, 2]], [[[1, 2, 3], [4, 5, 6]], [[1], [0], [2]]]),
    "vecmat": (vecmat.forward, vecmat.backward, [1, -1], [[1, 0, 2], [[1, 2], [3, 4], [5, 6]]]),
    "matmul": (matmul.forward, matmul.backward, [[1, 2], [3, 4]], [[[1, 2, 3], [4, 5, 6]], [[1, 0], [0, 1], [1, 1]]]),
    "broadcast_add": (broadcast_add.forward, broadcast_add.backward, [[1, 2], [3, 4]], [[[1, 2], [3, 4]], [[5, 6]]]),
    "broadcast_mul": (broadcast_mul.forward, broadcast_mul.backward, [[1, 2], [3, 4]], [[5, 6], [[1, 2], [3, 4]]]),
}


@pytest.mark.parametrize("rule", RULE_CASES)
def test_integer_input_is_promoted_to_float64(rule):
    forward, backward, upstream, inputs = RULE_CASES[rule]
    assert forward(*inputs).dtype == np.float64
    grads = backward(np.array(upstream), *[np.array(a) for a in inputs])
    assert all(g.dtype == np.float64 and g.shape == np.shape(a) for g, a in zip(grads, inputs, strict=True))
    floats = backward(np.array(upstream, float), *[np.array(a, float) for a in inputs])
    for g, f in zip(grads, floats, strict=True):
        np.testing.assert_array_equal(g, f)
    assert softmax_xent.backward(np.array([1, 2, 3]), 0).dtype == np.float64


@pytest.mark.parametrize("rule", RULE_CASES)
def test_forward_passes_complex_steps_through(rule):
    """The checker's complex-step method needs forward to be analytic in complex input."""
    forward, backward, upstream, inputs = RULE_CASES[rule]
    args = [np.array(a, float) for a in inputs]
    for i, expected in enumerate(backward(np.array(upstream, float), *args)):
        def J(a, i=i):
            return np.sum(np.ravel(upstream) * np.ravel(forward(*args[:i], a, *args[i + 1:])))
        np.testing.assert_allclose(numerical_gradient(J, args[i], method="complex"), expected, rtol=1e-12, atol=1e-12)
    theta = np.array([0.3, -1.2, 2.0])
    np.testing.assert_allclose(numerical_gradient(lambda t: softmax_xent.forward(t, 1), theta, method="complex"),
                               softmax_xent.backward(theta, 1), rtol=1e-12, atol=1e-14)


# --- analytic Jacobians ------------------------------------------------------------------

def softmax_jacobian_by_loops(x: np.ndarray) -> np.ndarray:
    s = np.exp(x) / np.exp(x).sum()
    return np.array([[s[i] * ((i == j) - s[j]) for j in range(x.size)] for i in range(x.size)])


@SETTINGS
@given(st.data(), dims, dims, st.sampled_from(["flat", "row", "column"]))
def test_jacobians_match_finite_differences_and_the_definitions(data, m, n, kind):
    x = data.draw(arrays(n))
    xk = as_kind(x, kind)
    maps = [jacobian.tanh, jacobian.softmax, jacobian.sum_of_squares, jacobian.softmax_xent(n - 1)]
    for f in maps:
        J = f.jacobian(xk)
        y = np.atleast_1d(f(xk))
        assert J.shape == (y.size, n), f.name
        np.testing.assert_allclose(J, numerical_jacobian(f, xk), **TOL, err_msg=f.name)
    np.testing.assert_allclose(jacobian.tanh.jacobian(xk), np.diag([1 - np.tanh(v) ** 2 for v in x]), **TOL)
    np.testing.assert_allclose(jacobian.softmax.jacobian(xk), softmax_jacobian_by_loops(x), **TOL)
    np.testing.assert_allclose(jacobian.sum_of_squares.jacobian(xk), [2 * x], **TOL)
    np.testing.assert_allclose(jacobian.softmax_xent(0).jacobian(xk), [softmax_xent.backward(x, 0)], **TOL)
    assert jacobian.tanh(xk).shape == xk.shape and jacobian.softmax(xk).shape == xk.shape

    A = data.draw(arrays(m, n))
    if kind != "row":  # A x needs a column x
        linear = jacobian.linear(A)
        np.testing.assert_array_equal(linear.jacobian(xk), A)
        np.testing.assert_allclose(numerical_jacobian(linear, xk), A, **TOL)
        assert linear(xk).shape == as_kind(np.zeros(m), kind).shape


def test_elementwise_map_takes_any_derivative():
    cube = jacobian.elementwise("cube", lambda x: x**3, lambda x: 3 * x**2)
    x = np.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(cube.jacobian(x), np.diag([3.0, 12.0, 0.75]))
    np.testing.assert_allclose(cube.jacobian(x), numerical_jacobian(cube, x), **TOL)


def test_softmax_jacobian_rows_and_columns_sum_to_zero():
    """Probabilities always sum to 1, so moving any logit changes them by a total of 0 (columns of J sum to 0);
    J is symmetric, so its rows do too."""
    J = jacobian.softmax.jacobian(np.array([0.1, 2.0, -1.0, 0.7]))
    np.testing.assert_allclose(J.sum(axis=0), 0, atol=1e-15)
    np.testing.assert_allclose(J, J.T)


TRUE_CLASS_K = re.compile(r"(true class|class index)\W{0,4}k\b|theta_k|θₖ|\)ₖ|y_k\b|yₖ|onehot\(k\b|\bk=\{|"
                          r"[\"']k[\"']")


def test_gradlib_never_calls_the_true_class_k():
    """k is an index letter (z_k, B_kl); the true class is t, in docstrings, messages and explorer labels
    alike: in every Python and JavaScript file of the package, its subpackages (structure/, whose
    formulas and labels the explorers show) and the widgets' sources included."""
    import pathlib
    root = pathlib.Path(softmax_xent.__file__).parent
    files = sorted(f for f in root.rglob("*") if f.suffix in (".py", ".js", ".mjs") and "node_modules" not in f.parts)
    assert {"structure/rules.py", "structure/computed.py", "explorer.js", "softmax_xent.py"} <= {
        f.relative_to(root).as_posix() for f in files}
    offending = [f"{f.relative_to(root)}:{n}: {line.strip()}" for f in files
                 for n, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1) if TRUE_CLASS_K.search(line)]
    assert offending == []


@pytest.mark.parametrize("line, offends", [
    ('Array("y", ("C",), "input", "one-hot y: 1 at the true class k")', True),
    ('formula = "dθ[{0}] = softmax(θ)[{0}] − y[{0}]"; t = params["k"]', True),
    ("Param('k', 'the true class', 2, below='C')", True),
    ("loss = -theta_k + logsumexp(theta)", True),
    ("θₖ − log Σ exp θ", True),
    ("dB[k,l] = Σ_j X[k,j] Y[j,l]", False),
    ("the true class t, an index into theta", False),
    ("for k in range(C):", False),
])
def test_the_true_class_lint_finds_a_k_where_t_belongs(line, offends):
    assert bool(TRUE_CLASS_K.search(line)) is offends


@pytest.mark.parametrize("module", [matvec, vecmat, matmul, broadcast_add, broadcast_mul, softmax_xent],
                         ids=lambda m: m.__name__.split(".")[-1])
def test_the_source_a_chapter_shows_is_the_math_alone(module):
    """show_source of a rule shows its signature, docstring and the lines that compute it; the input
    checks run on every call (test_bad_input.py) but live in the @validated decorator's check."""
    for name in ("forward", "backward"):
        shown = show_source(getattr(module, name)).data
        assert shown.count("@validated(") == 1, shown
        assert not re.search(r"\bas_\w+\(|_checked|mismatch\(|fail\(|\bAny\b", shown), shown
        body = [line for line in shown.split('"""')[-1].splitlines() if line.strip() and not line.startswith("```")]
        assert 1 <= len(body) <= 3, shown
