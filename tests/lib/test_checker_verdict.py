"""The checker's verdict: wrong gradients caught (transposed, sign, scale, one entry off by 1e-6 of
the largest), no false alarm at the default tolerances, the rounding floor, and the verdict's text.

Every test runs with warnings turned into errors, so "the checker emits no warnings" is checked
here too.
"""
from __future__ import annotations

import numpy as np
import pytest
from checker_cases import smooth, smooth_grad
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from gradlib.checker import check_gradient

pytestmark = pytest.mark.filterwarnings("error")

# -- catching wrong gradients --------------------------------------------------------------------

W_X = np.random.default_rng(7).standard_normal(4)


def tanh_layer(W):
    return np.sum(np.tanh(W @ W_X))


def tanh_layer_grad(W):
    return np.outer(1 - np.tanh(W @ W_X) ** 2, W_X)


@pytest.mark.parametrize("method", ["auto", "complex", "richardson", "central"])
def test_catches_transposed_sign_and_scale_errors(method):
    W = np.random.default_rng(8).standard_normal((4, 4))  # square, so a transpose keeps the shape
    good = tanh_layer_grad(W)
    assert check_gradient(tanh_layer, W, good, method=method)
    for wrong in (good.T, -good, good / 2):
        result = check_gradient(tanh_layer, W, wrong, method=method)
        assert not result and result.passed is False


@pytest.mark.parametrize("method", ["auto", "complex", "richardson"])
def test_catches_one_entry_wrong_by_1e_6_of_max_gradient(method):
    W = np.random.default_rng(9).standard_normal((4, 3))
    x = np.random.default_rng(10).standard_normal(3)
    f = lambda W: np.sum(np.tanh(W @ x))  # noqa: E731
    good = np.outer(1 - np.tanh(W @ x) ** 2, x)
    assert check_gradient(f, W, good, method=method)
    bad = good.copy()
    bad[2, 1] += 1.01e-6 * np.abs(good).max()
    result = check_gradient(f, W, bad, method=method)
    assert not result
    assert result.worst_index == (2, 1)
    assert result.mismatched[2, 1] and result.mismatched.sum() == 1


def test_catches_missing_one_over_n():
    X = np.random.default_rng(11).standard_normal((6, 3))

    def mean_loss(X):
        return np.mean(np.sum(X ** 2, axis=1))

    assert check_gradient(mean_loss, X, 2 * X / 6)
    result = check_gradient(mean_loss, X, 2 * X)  # forgot the 1/N of the mean
    assert not result and result.max_rel_error > 0.5


def test_central_has_a_looser_default_and_still_catches_real_mistakes():
    W = np.random.default_rng(12).standard_normal((4, 3))
    x = np.random.default_rng(13).standard_normal(3)
    f = lambda W: np.sum(np.tanh(W @ x))  # noqa: E731
    good = np.outer(1 - np.tanh(W @ x) ** 2, x)
    result = check_gradient(f, W, good, method="central")
    assert result and result.method == "central" and result.rtol == 1e-4
    bad = good.copy()
    bad[0, 0] += 1e-3 * np.abs(good).max()
    assert not check_gradient(f, W, bad, method="central")


# -- default tolerances: no false alarm, and the 1e-6 bar, on a family of smooth functions --------

FAMILY = {  # name: (f, gradient, largest |x| it is used at, holomorphic as written)
    "sin": (lambda x: np.sum(np.sin(x)), np.cos, 1e3),
    "cube": (lambda x: np.sum(x ** 3), lambda x: 3 * x ** 2, 1e3),
    "tanh_x": (lambda x: np.sum(np.tanh(x) * x), lambda x: (1 - np.tanh(x) ** 2) * x + np.tanh(x), 1e3),
    "chain": (lambda x: np.sum(x.ravel()[:-1] * x.ravel()[1:]),
              lambda x: (np.r_[x.ravel()[1:], 0] + np.r_[0, x.ravel()[:-1]]).reshape(x.shape), 1e3),
    "logsumexp": (lambda x: x.max() + np.log(np.sum(np.exp(x - x.max()))),
                  lambda x: np.exp(x - x.max()) / np.sum(np.exp(x - x.max())), 1e3),
    "hyperbola": (lambda x: np.sum(np.sqrt(1 + x ** 2)), lambda x: x / np.sqrt(1 + x ** 2), 1e3),
    "cos_x2": (lambda x: np.sum(np.cos(x) * x ** 2), lambda x: 2 * x * np.cos(x) - x ** 2 * np.sin(x), 1e3),
    "quartic": (lambda x: np.sum(x ** 4), lambda x: 4 * x ** 3, 1e3),
    "exp": (lambda x: np.sum(np.exp(x)), np.exp, 1e2),
    "sin3x": (lambda x: np.sum(np.sin(3 * x)), lambda x: 3 * np.cos(3 * x), 1e3),
}


@st.composite
def smooth_problems(draw):
    name = draw(st.sampled_from(sorted(FAMILY)))
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=0, max_size=3)))
    f, grad, largest = FAMILY[name]
    magnitude = min(10.0 ** draw(st.integers(-3, 3)), largest)
    x = magnitude * np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1))).uniform(-1, 1, shape)
    return name, f, x, np.asarray(grad(x), dtype=float)


@settings(max_examples=100, deadline=None)
@given(problem=smooth_problems(), method=st.sampled_from(["auto", "richardson", "complex"]))
def test_default_tolerance_passes_correct_and_fails_1e_6_wrong(problem, method):
    name, f, x, grad = problem
    result = check_gradient(f, x, grad, method=method)
    assert result, (name, result)
    if method == "auto":
        assert result.method == "complex", (name, result)
    assume(np.abs(grad).max() > 0)  # "wrong by 1e-6 of max|gradient|" needs a nonzero gradient
    bad = grad.copy()
    bad.flat[int(np.argmax(np.abs(grad)))] += 1.01e-6 * np.abs(grad).max()
    assert not check_gradient(f, x, bad, method=method), (name, x.shape)


def test_absolute_floor_is_the_rounding_noise_and_scales_with_f():
    """Near a minimum the gradient (~1e-9) drowns in rounding noise eps|f|/h (f ~ 3): the floor
    atol = NOISE * max|f| absorbs it, whatever the scale of f; a real mistake still fails."""
    x = 1e-9 * np.random.default_rng(14).standard_normal(5)
    for scale in (1e-12, 1.0, 1e12):
        f = lambda v, s=scale: s * (np.sum(v ** 2) + 3.0)  # noqa: E731
        result = check_gradient(f, x, scale * 2 * x, method="richardson")
        assert result and result.max_abs_error > result.rtol * np.abs(result.numerical).max()  # noise > rtol*M
        assert result.atol == pytest.approx(64 * 2.0 ** -52 / 2.0 ** -10 * 3 * scale, rel=1e-6)
        wrong = scale * 2 * x
        wrong[0] += 1e-6 * scale  # tiny next to f, huge next to the gradient
        assert not check_gradient(f, x, wrong, method="richardson")
        assert check_gradient(lambda v, s=scale: s * (3.0 + 0 * v.sum()), x, np.zeros(5))


# -- the verdict as text ------------------------------------------------------------------------------

def test_repr_says_verdict_method_errors_and_worst_entry():
    x = np.random.default_rng(19).standard_normal((3, 4))
    analytic = smooth_grad(x)
    analytic[1, 2] += 0.5
    result = check_gradient(smooth, x, analytic)
    text = repr(result)
    assert text.startswith("CheckResult: FAIL (method 'complex'")
    assert "worst entry (1, 2)" in text
    assert repr(float(result.numerical[1, 2])) in text and repr(float(analytic[1, 2])) in text
    assert "max abs error 0.5" in text and len(text.splitlines()) <= 5
    assert repr(check_gradient(smooth, x, smooth_grad(x))).startswith("CheckResult: PASS")
