"""gradlib.gather and gradlib.reduce_max against references that share no code with them: a
one-hot matrix product (gather is B = S E, so dE = S^T G by chapter 5's rule), finite differences
of the forward pass (check_gradient), and a tie-free brute force for max; plus their bad input."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gradlib
from gradlib import GradlibError, check_gradient, gather, numerical_gradient, reduce_max


def onehot_rows(idx: np.ndarray, V: int) -> np.ndarray:
    """S with S[n, v] = 1 if idx[n] == v: gather is the matrix product S E."""
    return (np.asarray(idx)[:, None] == np.arange(V)).astype(float)


def test_both_are_exported_by_import_gradlib():
    import importlib
    fresh = importlib.reload(gradlib)
    assert fresh.gather.forward is gather.forward and fresh.reduce_max.backward is reduce_max.backward
    assert {"gather", "reduce_max"} <= set(gradlib.__all__)


# --- gather -------------------------------------------------------------------------------------

@settings(max_examples=60, deadline=None)
@given(V=st.integers(1, 6), D=st.integers(1, 5), data=st.data())
def test_gather_is_the_one_hot_product(V, D, data):
    idx = np.array(data.draw(st.lists(st.integers(0, V - 1), min_size=1, max_size=8)))
    rng = np.random.default_rng(len(idx) * 31 + V * 7 + D)
    E, G = rng.normal(size=(V, D)), rng.normal(size=(len(idx), D))
    S = onehot_rows(idx, V)
    np.testing.assert_array_equal(gather.forward(E, idx), S @ E)
    dE = gather.backward(G, E, idx)
    np.testing.assert_allclose(dE, S.T @ G, rtol=1e-12, atol=1e-12)
    assert dE.shape == E.shape


def test_repeated_indices_add_up_where_the_classic_slip_keeps_one():
    E = np.arange(8.0).reshape(4, 2)
    idx = np.array([1, 3, 1, 1])
    G = np.array([[1.0, 10.0], [2.0, 20.0], [4.0, 40.0], [8.0, 80.0]])
    dE = gather.backward(G, E, idx)
    np.testing.assert_array_equal(dE, [[0, 0], [13, 130], [0, 0], [2, 20]])
    slip = np.zeros_like(E)
    slip[idx] = G  # keeps only the last of row 1's three contributions
    assert not np.array_equal(slip, dE)
    f = lambda E: np.sum(G * gather.forward(E, idx))
    assert check_gradient(f, E, dE) and not check_gradient(f, E, slip)


def test_gather_gradient_matches_finite_differences():
    rng = np.random.default_rng(3)
    E, idx = rng.normal(size=(5, 3)), np.array([4, 0, 4, 2, 2, 2])
    weights = rng.normal(size=(6, 3))
    f = lambda E: np.sum(np.tanh(gather.forward(E, idx)) * weights)
    G = (1 - np.tanh(gather.forward(E, idx)) ** 2) * weights
    assert check_gradient(f, E, gather.backward(G, E, idx))
    np.testing.assert_allclose(gather.backward(G, E, idx), numerical_gradient(f, E), atol=1e-8)


# --- reduce_max ---------------------------------------------------------------------------------

@settings(max_examples=60, deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3), data=st.data())
def test_max_forward_and_backward_against_brute_force(shape, data):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    rng = np.random.default_rng(int(np.prod(shape)) + 13 * (axis + 3))
    X = rng.permutation(np.prod(shape)).reshape(shape) + rng.uniform(0, 0.5, size=shape)  # no ties
    np.testing.assert_array_equal(reduce_max.forward(X, axis), np.max(X, axis=axis))
    g = rng.normal(size=np.max(X, axis=axis).shape)
    dX = reduce_max.backward(g, X, axis)
    # brute force: every entry's derivative, one at a time: is it the winner of its line?
    moved = np.moveaxis(X, axis, -1)
    expected = np.zeros_like(moved)
    for line in np.ndindex(moved.shape[:-1]):
        expected[line + (int(np.argmax(moved[line])),)] = np.asarray(g)[line]
    np.testing.assert_array_equal(dX, np.moveaxis(expected, -1, axis))
    assert check_gradient(lambda X: np.sum(g * reduce_max.forward(X, axis)), X, dX)


def test_ties_share_the_gradient_equally_like_torch_amax():
    X = np.array([[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, 2.0, 2.0], [5.0, 1.0, 1.0, 1.0]])
    dX = reduce_max.backward(np.array([1.0, 4.0, 2.0]), X)
    np.testing.assert_array_equal(dX, [[0, 0.5, 0.5, 0], [1, 1, 1, 1], [2, 0, 0, 0]])
    np.testing.assert_array_equal(dX.sum(axis=1), [1.0, 4.0, 2.0])  # moving a whole row by d moves m by d
    # the one-sided derivatives at a tie bracket the shared value: right 1 for the first winner, left 0
    f = lambda x: reduce_max.forward(X[0] + x * np.eye(4)[1])
    h = 1e-6
    assert (f(h) - f(0)) / h == pytest.approx(1.0) and (f(0) - f(-h)) / h == pytest.approx(0.0)


def test_max_along_the_first_axis_and_of_a_vector():
    X = np.array([[1.0, 9.0], [4.0, 2.0], [3.0, 7.0]])
    np.testing.assert_array_equal(reduce_max.forward(X, axis=0), [4.0, 9.0])
    np.testing.assert_array_equal(reduce_max.backward(np.array([1.0, 2.0]), X, axis=0), [[0, 2], [1, 0], [0, 0]])
    v = np.array([0.5, -1.0, 2.5])
    assert reduce_max.forward(v) == 2.5
    np.testing.assert_array_equal(reduce_max.backward(3.0, v), [0, 0, 3.0])


# --- bad input ----------------------------------------------------------------------------------

E43, IDX = np.ones((4, 3)), np.array([0, 2, 0])
BAD = [
    (lambda: gather.forward(E43, np.array([0.0, 2.0])), "gather: idx must be integer indices, got dtype float64"),
    (lambda: gather.forward(E43, np.array([True, False])), "gather: idx must be integer indices, got dtype bool"),
    (lambda: gather.forward(E43, [0, 4]), "gather: idx[1]=4 is out of range 0..3 for E of shape (4, 3)"),
    (lambda: gather.forward(E43, [-1]), "gather: idx[0]=-1 is out of range 0..3 for E of shape (4, 3)"),
    (lambda: gather.forward(E43, np.zeros((2, 2), int)), "gather: idx must be a non-empty 1-D array of indices (N,), "
                                                         "got shape (2, 2)"),
    (lambda: gather.forward(np.ones(4), [0]), "gather: E must be 2-D, got shape (4,)"),
    (lambda: gather.backward(np.ones((2, 3)), E43, IDX), "gather: G is (2, 3) but B = E[idx] is (3, 3)"),
    (lambda: gather.backward(np.ones((3, 4)), E43, IDX), "gather: G is (3, 4) but B = E[idx] is (3, 3)"),
    (lambda: reduce_max.forward(np.ones((2, 3)), axis=2), "reduce_max: axis=2 is out of range for X of shape (2, 3)"),
    (lambda: reduce_max.forward(np.ones((2, 3)), axis=-3), "reduce_max: axis=-3 is out of range for X of shape (2, 3)"),
    (lambda: reduce_max.forward(np.ones((2, 3)), axis=1.0), "reduce_max: axis must be an int, got 1.0 for X of shape"),
    (lambda: reduce_max.forward(np.ones((2, 3)), axis=True), "reduce_max: axis must be an int, got True"),
    (lambda: reduce_max.forward(np.zeros((2, 0))), "reduce_max: X must be a non-empty array"),
    (lambda: reduce_max.forward(np.array([1.0, np.nan])), "reduce_max: X of shape (2,) contains nan or inf"),
    (lambda: reduce_max.backward(np.ones(3), np.ones((2, 3))), "reduce_max: g is (3,) but m = X.max(axis=1) for X "
                                                               "of shape (2, 3) is (2,)"),
]


@pytest.mark.parametrize("call,message", BAD, ids=[m.split(": ", 1)[1][:40] for _, m in BAD])
def test_bad_input_is_a_gradlib_error_naming_rule_argument_and_shapes(call, message):
    with pytest.raises(GradlibError) as caught:
        call()
    assert str(caught.value).startswith(message)
