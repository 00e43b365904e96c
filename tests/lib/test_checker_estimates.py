"""The checker's estimates (gradlib/estimators.py through numerical_gradient and numerical_jacobian):
known derivatives at every shape and method, the Jacobian's layout, Richardson next to a kink.

Every test runs with warnings turned into errors, so "the checker emits no warnings" is checked
here too.
"""
from __future__ import annotations

import numpy as np
import pytest
from checker_cases import METHODS, Counter, normwise, smooth, smooth_grad

from gradlib.checker import CheckResult, check_gradient, numerical_gradient, numerical_jacobian

pytestmark = pytest.mark.filterwarnings("error")

# normwise error bounds max|numerical - exact| / max|exact| on well-scaled smooth problems
ACCURACY = {"central": 1e-8, "richardson": 1e-10, "complex": 1e-13}

SHAPES = [(), (1, 1), (1, 5), (5, 1), (7,), (3, 4), (2, 3, 4)]


# -- known derivatives, every shape and method -------------------------------------------------

@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("method", METHODS)
def test_numerical_gradient_matches_known_derivative(shape, method):
    x = np.random.default_rng(1).standard_normal(shape)
    got = numerical_gradient(smooth, x, method=method)
    assert got.shape == x.shape and got.dtype == np.float64
    assert normwise(got, smooth_grad(x)) < ACCURACY[method]


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_check_gradient_passes_correct_gradient_with_complex_step(shape):
    x = np.random.default_rng(2).standard_normal(shape)
    result = check_gradient(smooth, x, smooth_grad(x))
    assert result and result.passed and isinstance(result, CheckResult)
    assert result.method == "complex"  # smooth and holomorphic as written: auto picks complex
    assert result.numerical.shape == result.analytic.shape == x.shape
    assert len(result.worst_index) == x.ndim
    assert result.max_rel_error < 1e-13 and result.calls == x.size + 6


def test_accuracy_on_softmax_cross_entropy():
    """The chapter's softmax-CE: central <= 1e-9, richardson <= 2e-11, complex <= 1e-14 normwise."""
    theta, t = np.random.default_rng(3).standard_normal(10), 3

    def loss(logits):
        m = logits.max()
        return m + np.log(np.sum(np.exp(logits - m))) - logits[t]

    s = np.exp(theta - theta.max())
    exact = s / s.sum() - np.eye(10)[t]
    for method, bound in [("central", 1e-9), ("richardson", 2e-11), ("complex", 1e-14)]:
        assert normwise(numerical_gradient(loss, theta, method=method), exact) <= bound, method


# -- Jacobian layout ---------------------------------------------------------------------------

@pytest.mark.parametrize("method", METHODS)
def test_numerical_jacobian_of_linear_map_is_the_matrix(method):
    A = np.random.default_rng(4).standard_normal((3, 5))  # non-square: a transposed layout cannot pass
    J = numerical_jacobian(lambda x: A @ x, np.arange(5.0), method=method)
    assert J.shape == (3, 5)
    np.testing.assert_allclose(J, A, rtol=0, atol=1e-9)


def test_numerical_jacobian_flattens_matrix_input_and_output_row_major():
    A = np.random.default_rng(5).standard_normal((3, 4))
    X = np.random.default_rng(6).standard_normal((4, 2))
    J = numerical_jacobian(lambda X: A @ X, X, method="richardson")
    assert J.shape == (6, 8)  # (f(X).size, X.size)
    # d (A X)[i, c] / d X[k, c'] = A[i, k] delta(c, c'); row-major vec gives kron(A, I_2)
    np.testing.assert_allclose(J, np.kron(A, np.eye(2)), atol=1e-9)


def test_numerical_jacobian_of_elementwise_map_is_diagonal_and_scalar_output_is_one_row():
    x = np.array([0.3, -1.2, 2.0])
    np.testing.assert_allclose(numerical_jacobian(np.tanh, x, method="complex"), np.diag(1 - np.tanh(x) ** 2),
                               rtol=1e-14, atol=1e-300)
    assert numerical_jacobian(lambda v: np.sum(v ** 2), x).shape == (1, 3)
    for method in METHODS:  # an empty output is a valid, empty Jacobian
        assert numerical_jacobian(lambda v: v[:0], x, method=method).shape == (0, 3)


# -- Richardson next to a kink -----------------------------------------------------------------

def test_richardson_refines_entries_next_to_a_kink():
    x = np.array([1e-4, -3e-4, 0.5, -2.0])  # |x| has kinks within the first step (~1e-3) of x0, x1
    counted = Counter(lambda v: np.sum(np.abs(v)))
    got = numerical_gradient(counted, x, method="richardson")
    np.testing.assert_allclose(got, np.sign(x), rtol=0, atol=1e-10)
    assert counted.calls > 4 * x.size  # extra calls for the two rough entries only
    assert counted.calls <= 4 * x.size + 4 * 2 * 4
