"""Tests of the finite-difference checker (gradlib/checker.py).

Every test runs with warnings turned into errors, so "the checker emits no warnings" is checked
everywhere, including while ``"auto"`` probes non-holomorphic functions with complex input.
"""
from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from gradlib._validate import GradlibError
from gradlib.checker import CheckResult, check_gradient, numerical_gradient, numerical_jacobian

pytestmark = pytest.mark.filterwarnings("error")

METHODS = ["central", "richardson", "complex"]
# normwise error bounds max|numerical - exact| / max|exact| on well-scaled smooth problems
ACCURACY = {"central": 1e-8, "richardson": 1e-10, "complex": 1e-13}


class Counter:
    """Wraps f and counts its calls."""

    def __init__(self, f):
        self.f, self.calls = f, 0

    def __call__(self, x):
        self.calls += 1
        return self.f(x)


def smooth(x):
    """A smooth, holomorphic-as-written test function of any shape."""
    return np.sum(np.sin(x) * x ** 2) + 0.5 * np.sum(x) ** 2


def smooth_grad(x):
    return np.cos(x) * x ** 2 + 2 * x * np.sin(x) + np.sum(x)


def normwise(numerical, exact):
    return np.abs(numerical - exact).max() / np.abs(exact).max()


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


# -- auto and non-holomorphic functions -----------------------------------------------------------

X_SIGNED = np.array([[0.7, -1.3, 0.25], [-0.4, 2.1, -0.9]])

NON_HOLOMORPHIC = {  # name: (f, correct gradient, the wrong answer complex step would give)
    "abs": (lambda x: np.sum(np.abs(x) * x ** 2), lambda x: 3 * np.abs(x) * x, None),
    "abs_times_x": (lambda x: np.sum(np.abs(x) * x), lambda x: 2 * np.abs(x), lambda x: np.abs(x)),
    "norm": (lambda x: np.linalg.norm(x) ** 3, lambda x: 3 * np.linalg.norm(x) * x, None),
    "float": (lambda x: float(np.sum(x ** 3)), lambda x: 3 * x ** 2, None),
    "vdot": (lambda x: np.vdot(x, x) + np.sum(x), lambda x: 2 * x + 1, lambda x: np.ones_like(x)),
    "real": (lambda x: np.sum(np.real(x) * x), lambda x: 2 * x, lambda x: x),
    "astype": (lambda x: np.sum(x.astype(np.float64) ** 2), lambda x: 2 * x, None),
}


@pytest.mark.parametrize("name", sorted(NON_HOLOMORPHIC))
def test_auto_falls_back_to_richardson_without_false_alarm_or_false_pass(name):
    f, grad, complex_answer = NON_HOLOMORPHIC[name]
    result = check_gradient(f, X_SIGNED, grad(X_SIGNED))
    assert result, result
    assert result.method == "richardson" and "complex step is unusable" in result.note
    assert result.max_rel_error < 1e-9
    if complex_answer is not None:  # an analytic gradient with the same mistake complex step makes
        fooled = check_gradient(f, X_SIGNED, complex_answer(X_SIGNED))
        assert not fooled and fooled.method == "richardson"
    assert not check_gradient(f, X_SIGNED, -grad(X_SIGNED))


@pytest.mark.parametrize("f, grad", [
    (lambda x: np.sum(np.maximum(x, 0) * x), lambda x: 2 * np.maximum(x, 0)),
    (lambda x: np.sum(np.where(x > 0, x ** 2, -x)), lambda x: np.where(x > 0, 2 * x, -1.0)),
    (lambda x: np.sum(x * (x > 0)), lambda x: (x > 0).astype(float)),
], ids=["maximum", "where", "mask"])
def test_auto_on_comparisons_away_from_the_kink(f, grad):
    """Comparisons keep complex step right (complex compares by real part) -- no alarm either way."""
    result = check_gradient(f, X_SIGNED, grad(X_SIGNED))
    assert result and result.method in ("complex", "richardson")
    assert result.max_rel_error < 1e-9
    wrong = grad(X_SIGNED).copy()
    wrong[1, 1] += 0.01
    assert not check_gradient(f, X_SIGNED, wrong)


def test_auto_falls_back_when_complex_input_overflows():
    def guarded(v):  # finite for real input, inf for complex input
        return np.sum(v ** 2) + (np.inf if np.iscomplexobj(v) else 0.0)

    result = check_gradient(guarded, X_SIGNED, 2 * X_SIGNED)
    assert result and result.method == "richardson" and "nan or inf" in result.note
    assert np.isfinite(result.atol) and not check_gradient(guarded, X_SIGNED, -2 * X_SIGNED)


def test_explicit_complex_on_non_holomorphic_f_is_an_error():
    with pytest.raises(GradlibError, match=r"check_gradient: complex step unusable: f returned a float64"):
        check_gradient(lambda x: np.sum(np.abs(x)), X_SIGNED, np.sign(X_SIGNED), method="complex")
    with pytest.raises(GradlibError, match=r"numerical_gradient: complex step unusable: f raised TypeError"):
        numerical_gradient(lambda x: math.sin(x.tolist()[0]), np.array([0.5]), method="complex")
    with pytest.raises(GradlibError, match=r"complex step unusable: along a random direction.*not holomorphic"):
        numerical_jacobian(lambda x: np.abs(x) * x, X_SIGNED, method="complex")


def test_richardson_refines_entries_next_to_a_kink():
    x = np.array([1e-4, -3e-4, 0.5, -2.0])  # |x| has kinks within the first step (~1e-3) of x0, x1
    counted = Counter(lambda v: np.sum(np.abs(v)))
    got = numerical_gradient(counted, x, method="richardson")
    np.testing.assert_allclose(got, np.sign(x), rtol=0, atol=1e-10)
    assert counted.calls > 4 * x.size  # extra calls for the two rough entries only
    assert counted.calls <= 4 * x.size + 4 * 2 * 4


# -- directional mode ----------------------------------------------------------------------------

def test_directional_mode_uses_at_most_4_calls_per_direction_whatever_the_size():
    rng = np.random.default_rng(15)
    x = rng.standard_normal(100)
    W = rng.standard_normal((200, 100))
    # complex: 1 call, and 6 more to check along the same direction that f is holomorphic (issue 17)
    for method, per_direction in [("auto", 4), ("richardson", 4), ("central", 2), ("complex", 7)]:
        counted = Counter(lambda W: np.sum(np.tanh(W @ x)))
        result = check_gradient(counted, W, np.outer(1 - np.tanh(W @ x) ** 2, x), directions=5, method=method)
        assert result, result
        assert counted.calls == result.calls == 5 * per_direction
        assert result.numerical.shape == result.analytic.shape == (5,)
        assert result.direction_vectors.shape == (5, 200, 100)
        np.testing.assert_allclose(np.linalg.norm(result.direction_vectors.reshape(5, -1), axis=1), 1.0)
        assert len(result.worst_index) == 1 and 0 <= result.worst_index[0] < 5


def test_directional_mode_catches_wrong_gradients_and_is_reproducible():
    rng = np.random.default_rng(16)
    W, x = rng.standard_normal((50, 50)), rng.standard_normal(50)
    f = lambda W: np.sum(np.tanh(W @ x))  # noqa: E731
    good = np.outer(1 - np.tanh(W @ x) ** 2, x)
    one_off = good.copy()
    one_off[3, 7] += 0.05 * np.abs(good).max()  # one entry wrong shows up ~ 1/sqrt(2500) per direction
    for wrong in (good.T, -good, good / 50, one_off):
        assert not check_gradient(f, W, wrong, directions=3)
    first, again = check_gradient(f, W, good, directions=3), check_gradient(f, W, good, directions=3)
    np.testing.assert_array_equal(first.numerical, again.numerical)
    other = check_gradient(f, W, good, directions=3, seed=1)
    assert not np.array_equal(first.numerical, other.numerical)
    assert "3 random directions" in repr(first) and "worst direction" in repr(first)


# -- inputs: promotion, shapes, never mutating x ----------------------------------------------------

def test_integer_x_is_promoted_to_float64_never_an_integer_step():
    seen = []

    def cube(v):
        seen.append(v.dtype)
        return np.sum(v ** 3)

    x = np.array([1, 2, 3])
    for method in METHODS:
        np.testing.assert_allclose(numerical_gradient(cube, x, method=method), [3.0, 12.0, 27.0], rtol=1e-9)
    assert set(seen) <= {np.dtype(np.float64), np.dtype(np.complex128)}
    assert check_gradient(cube, [[1, 2], [3, 4]], [[3, 12], [27, 48]])
    assert x.dtype.kind == "i"


def test_never_mutates_the_callers_x():
    x = np.random.default_rng(17).standard_normal((3, 2))
    before = x.copy()
    for method in ["auto", *METHODS]:
        check_gradient(smooth, x, smooth_grad(x), method=method)
        check_gradient(smooth, x, smooth_grad(x), method=method, directions=2)
    numerical_jacobian(lambda v: v ** 2, x)
    np.testing.assert_array_equal(x, before)
    view = x[:, 0]  # non-contiguous input
    assert numerical_gradient(lambda v: np.sum(v ** 2), view).shape == (3,)
    np.testing.assert_array_equal(x, before)


def test_f_returning_its_argument_and_size_1_outputs_work():
    x = np.array([[1.0, 2.0]])  # a 1 x n row
    np.testing.assert_allclose(numerical_jacobian(lambda v: v, x), np.eye(2), atol=1e-9)
    g = numerical_gradient(lambda v: np.sum(v ** 2, keepdims=True), x)  # f returns shape (1, 1)
    np.testing.assert_allclose(g, 2 * x, rtol=1e-8)
    assert check_gradient(lambda v: np.array([[np.sum(v ** 2)]]), x, 2 * x)


# -- bad input ------------------------------------------------------------------------------------

def test_non_finite_x():
    with pytest.raises(GradlibError, match=r"^check_gradient: x of shape \(2,\) contains nan or inf"):
        check_gradient(smooth, [1.0, np.nan], [0.0, 0.0])
    with pytest.raises(GradlibError, match=r"^numerical_jacobian: x of shape \(1, 2\) contains nan or inf"):
        numerical_jacobian(np.sin, [[np.inf, 1.0]])
    for call in (lambda x: numerical_gradient(smooth, x, method="richardson"),  # float64 arrays: the fast path
                 lambda x: check_gradient(smooth, x, np.zeros_like(x)),
                 lambda x: check_gradient(smooth, x, np.zeros_like(x), directions=2)):
        for bad in (np.array([1.0, -np.inf, np.inf]), np.array([[0.5], [np.nan], [2.0]])):
            with pytest.raises(GradlibError, match=rf"x of shape \({bad.shape[0]},( 1)?\) contains nan or inf"):
                call(bad)
    from gradlib._evaluate import Evaluator as _Evaluator
    from gradlib._evaluate import all_finite as _all_finite

    huge = np.array([1e308, -1e308, 1e200])  # finite, though sums of it overflow: no false alarm
    assert _all_finite(huge) and _Evaluator("check_gradient", smooth, huge, scalar=True).size == 3
    assert _Evaluator("check_gradient", smooth, huge, scalar=True, per_entry=False).size == 3
    assert not _all_finite(np.array([1.0, np.inf, -np.inf])) and not _all_finite(np.array([[np.nan + 0j]]))


def test_f_that_raises_names_the_function_the_shape_and_chains_the_error():
    def broken(v):
        raise ZeroDivisionError("boom")

    for call, rule in [(lambda: numerical_gradient(broken, np.ones((2, 3))), "numerical_gradient"),
                       (lambda: numerical_jacobian(broken, np.ones((2, 3)), method="richardson"), "numerical_jacobian"),
                       (lambda: check_gradient(broken, np.ones((2, 3)), np.ones((2, 3))), "check_gradient"),
                       (lambda: check_gradient(broken, np.ones((2, 3)), np.ones((2, 3)), directions=2),
                        "check_gradient")]:
        with pytest.raises(GradlibError, match=rf"^{rule}: f raised ZeroDivisionError: boom .*x of shape \(2, 3\)") \
                as info:
            call()
        assert isinstance(info.value.__cause__, ZeroDivisionError)


def test_f_returning_non_finite_or_non_real():
    with pytest.raises(GradlibError, match=r"^numerical_gradient: f returned nan or inf at x of shape \(3,\)"):
        numerical_gradient(lambda v: np.sum(v) * (np.inf if v[1] > 1 else 1.0), np.array([0.0, 1.0, 2.0]))
    with pytest.raises(GradlibError, match=r"^check_gradient: f returned nan or inf"):
        check_gradient(lambda v: np.inf * np.ones(()), np.ones(3), np.zeros(3))
    with pytest.raises(GradlibError, match=r"^numerical_gradient: f returned nan or inf at x of shape \(2,\) "
                                           r"with entry \(0,\) perturbed \(stencil point 1 of 4\)"):
        numerical_gradient(lambda v: np.inf if v[0] > 1.0 else -np.inf, np.array([1.0, 2.0]), method="richardson")
    with pytest.raises(GradlibError, match=r"^numerical_jacobian: f returned complex values"):
        numerical_jacobian(lambda v: v * 1j, np.ones(2))
    with pytest.raises(GradlibError, match=r"^numerical_jacobian: f returned a str"):
        numerical_jacobian(lambda v: "nope", np.ones(2))


def test_analytic_with_the_wrong_shape_names_both_shapes():
    with pytest.raises(GradlibError, match=r"^check_gradient: analytic is \(4, 3\) but x is \(3, 4\)"):
        check_gradient(smooth, np.ones((3, 4)), np.ones((4, 3)))
    with pytest.raises(GradlibError, match=r"^check_gradient: analytic is \(5,\) but x is \(5, 1\)"):
        check_gradient(smooth, np.ones((5, 1)), np.ones(5))
    with pytest.raises(GradlibError, match=r"^check_gradient: analytic of shape \(2,\) contains nan or inf"):
        check_gradient(smooth, np.ones(2), [np.nan, 1.0])


def test_bad_method_lists_the_valid_ones():
    with pytest.raises(GradlibError, match=re.escape(
            "check_gradient: method 'forward' is not one of 'auto', 'central', 'richardson', 'complex'")):
        check_gradient(smooth, np.ones(2), np.ones(2), method="forward")
    with pytest.raises(GradlibError, match=re.escape(
            "numerical_jacobian: method 'auto' is not one of 'central', 'richardson', 'complex'")):
        numerical_jacobian(smooth, np.ones(2), method="auto")


def test_vector_f_where_a_scalar_is_needed():
    for call, rule in [(lambda: numerical_gradient(np.sin, np.ones(3)), "numerical_gradient"),
                       (lambda: check_gradient(np.sin, np.ones(3), np.ones(3)), "check_gradient")]:
        message = rf"^{rule}: f must return a scalar \(size 1\) but returned shape \(3,\)"
        with pytest.raises(GradlibError, match=message):
            call()


def test_other_bad_arguments():
    cases = [
        (lambda: check_gradient(smooth, np.ones(2), np.ones(2), rtol=-1), r"check_gradient: rtol must be"),
        (lambda: check_gradient(smooth, np.ones(2), np.ones(2), atol=np.nan), r"check_gradient: atol must be"),
        (lambda: check_gradient(smooth, np.ones(2), np.ones(2), directions=0), r"check_gradient: directions must"),
        (lambda: check_gradient(smooth, np.ones(2), np.ones(2), seed=1.5), r"check_gradient: seed must be an int"),
        (lambda: numerical_gradient("f", np.ones(2)), r"numerical_gradient: f must be callable"),
        (lambda: numerical_gradient(smooth, np.ones((0, 3))), r"numerical_gradient: x is empty \(shape \(0, 3\)\)"),
        (lambda: numerical_gradient(smooth, np.ones(2) * 1j), r"numerical_gradient: x of shape \(2,\) is complex"),
        (lambda: numerical_gradient(smooth, ["a", "b"]), r"numerical_gradient: x must be numeric"),
        (lambda: check_gradient(smooth, np.ones(2), np.ones(2) * 1j),
         r"check_gradient: analytic of shape \(2,\) is complex"),
    ]
    for call, message in cases:
        with pytest.raises(GradlibError, match="^" + message):
            call()


def test_f_that_modifies_its_input_or_changes_output_shape():
    def in_place(v):
        v *= 2
        return np.sum(v)

    with pytest.raises(GradlibError, match=r"^numerical_gradient: f modified its argument \(x of shape \(3,\)\)"):
        numerical_gradient(in_place, np.ones(3))
    with pytest.raises(GradlibError, match=r"^numerical_jacobian: f returned shape \(2,\) at x of shape \(3,\)"):
        numerical_jacobian(lambda v: v[:2] if v[2] > 1.0 else v, np.ones(3))


def test_the_checkers_private_x_is_restored_when_f_fails_midway():
    """The checker perturbs its private copy of x entry by entry; a failure in the middle (f raises,
    returns garbage or modifies x) must leave that copy as it was, so nothing later sees a perturbed x."""
    from gradlib._evaluate import Evaluator as _Evaluator

    x = np.array([0.5, -1.5, 2.5])
    failures = {"raises": lambda v: 1 / 0 if v[1] != -1.5 else np.sum(v),
                "garbage": lambda v: "nope" if v[1] != -1.5 else np.sum(v),
                "in place": lambda v: v.__imul__(2).sum() if v[1] != -1.5 else np.sum(v)}
    for name, f in failures.items():
        ev = _Evaluator("numerical_gradient", f, x, scalar=True)
        with pytest.raises(GradlibError):
            ev.stencil(zip([0.6, -1.4, 2.6], [0.4, -1.6, 2.4]))
        np.testing.assert_array_equal(ev.x0, x, err_msg=name)
    np.testing.assert_array_equal(x, [0.5, -1.5, 2.5])  # and the caller's x is never touched


# -- repr and HTML ------------------------------------------------------------------------------

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


def _tables(page: str) -> dict[str, dict[tuple[int, int], object]]:
    """Each table of a check's HTML (by kind: numerical, analytic, difference) as {(row, column): <td>},
    the row and column read from the table's own header cells (a vector's column is 0)."""
    from bs4 import BeautifulSoup

    tables = {}
    for table in BeautifulSoup(page, "html.parser").find_all("table"):
        kind = next(c.removeprefix("gradlib-") for c in table["class"] if c != "gradlib-table")
        rows = table.find_all("tr")
        head = [int(th.text) for th in rows[0].find_all("th")[1:]] if not rows[0].find("td") else [0]
        cells = {}
        for tr in rows[1:] if not rows[0].find("td") else rows:
            label = tr.find("th").text
            for column, td in zip(head, tr.find_all("td")):
                cells[(int(label) if label else 0, column)] = td
        tables[kind] = cells
    return tables


@pytest.mark.parametrize("shape, wrong, shown", [
    ((6, 6), [(2, 3), (4, 0), (0, 5)], None),
    ((40, 30), [(30, 6), (35, 12), (33, 2)], (range(27, 39), range(0, 8))),
    ((20,), [(9,), (2,), (15,)], (range(8, 20), range(1))),
], ids=["6x6", "40x30 window", "vector"])
def test_html_marks_exactly_the_wrong_entries_at_their_indices(shape, wrong, shown):
    """Entries made wrong by +1 (the numbers' own truth, not the HTML's) are the cells marked as
    mismatched in each of the three tables, found by the tables' row and column headers; the worst
    is marked with a diamond; every cell's title is its table's value at that index. How the marks
    look, in light and dark, on a phone: tests/site/test_check_view.py measures it in Chromium."""
    x = np.random.default_rng(20).standard_normal(shape)
    analytic = smooth_grad(x)
    for k, index in enumerate(wrong):
        analytic[index] += 1.0 + k  # the first one least wrong: the worst is the last
    result = check_gradient(smooth, x, analytic)
    assert not result and result.worst_index == wrong[-1]
    page = result._repr_html_()
    values = {"numerical": result.numerical, "analytic": result.analytic,
              "difference": result.numerical - result.analytic}
    grid = (lambda a: a.reshape(-1, 1)) if len(shape) == 1 else (lambda a: a)
    rows, columns = shown or (range(shape[0]), range(shape[1]))
    as_cell = (lambda i: (i[0], 0)) if len(shape) == 1 else (lambda i: tuple(i))
    for kind, cells in _tables(page).items():
        assert set(cells) == {(r, c) for r in rows for c in columns}, kind
        marked = {index for index, td in cells.items() if "gradlib-mismatch" in td["class"]}
        assert marked == {as_cell(i) for i in wrong if i[0] in rows and (len(i) == 1 or i[1] in columns)}, kind
        worst = [index for index, td in cells.items() if "gradlib-worst" in td["class"]]
        assert worst == [as_cell(wrong[-1])] and cells[worst[0]].text.startswith("\u25c6"), kind
        for (r, c), td in cells.items():
            assert float(td["title"]) == grid(values[kind])[r, c], (kind, r, c)
    assert "Legend" in page and "outside the tolerance" in page and "the worst entry" in page
    ok = check_gradient(smooth, x, smooth_grad(x))
    assert ok and not any("gradlib-mismatch" in td["class"] for cells in _tables(ok._repr_html_()).values()
                          for td in cells.values())


def test_html_of_big_and_3d_arrays_is_a_window_around_the_worst_entry():
    x = np.random.default_rng(21).standard_normal((40, 30))
    analytic = smooth_grad(x)
    analytic[33, 2] += 1.0
    page = check_gradient(smooth, x, analytic, method="richardson")._repr_html_()
    assert page.count("<td") == 3 * 12 * 8  # 12 rows, 8 columns: what fits a 700 px page
    assert "Showing rows 27-38 of 40, columns 0-7 of 30, around the worst entry." in page
    cube = np.random.default_rng(22).standard_normal((2, 3, 4))
    analytic = smooth_grad(cube)
    analytic[1, 0, 2] += 1.0
    page = check_gradient(smooth, cube, analytic)._repr_html_()
    assert "the slice [1, :, :] of the 2x3x4 array" in page and page.count("<td") == 3 * 12
    scalar = check_gradient(lambda v: v ** 3, np.array(2.0), np.array(12.0))._repr_html_()
    assert scalar.count("<td") == 3


def test_html_tables_stay_compact():
    """A 6 x 6 result stays narrow: short numbers (at most 12 characters even with the worst-entry
    mark), every digit on hover. How it lays out on a page: tests/site/test_check_view.py."""
    x = np.random.default_rng(24).standard_normal((6, 6)) * np.array([1e-3, 1, 10, 100, 1e4, 1e-6])
    analytic = smooth_grad(x)
    analytic[3, 1] += 1.0
    result = check_gradient(smooth, x, analytic)
    page = result._repr_html_()
    cells = re.findall(r'<td class="[^"]*" style="([^"]*)" title="([^"]*)">([^<]*)</td>', page)
    assert len(cells) == 3 * 36
    for style, full, text in cells:
        assert len(text) <= 12, text
        assert not re.search(r"e[+-]0\d", text), text  # exponents without padding zeros
    shown = [float(full) for _, full, _ in cells]  # hovering shows every digit
    expected = np.concatenate([result.numerical.ravel(), result.analytic.ravel(),
                               (result.numerical - result.analytic).ravel()])
    np.testing.assert_array_equal(shown, expected)
    assert page.count("<table") == 3


def test_html_shows_a_vector_as_a_column():
    """A 1-D x is shown as a column, its entries as rows, so three 12-entry tables fit side by side."""
    v = np.random.default_rng(25).standard_normal(20)
    analytic = smooth_grad(v)
    analytic[15] += 1.0
    page = check_gradient(smooth, v, analytic)._repr_html_()
    assert page.count("<tr>") == 3 * 12  # no header row; entries 8-19 around the worst entry 15
    assert "Showing entries 8-19 of 20, around the worst entry." in page
    rows = re.findall(r"<tr><th[^>]*>(\d+)</th><td", page)
    assert rows == [str(i) for i in range(8, 20)] * 3
    assert page.count("gradlib-worst") == 3 + 1  # one cell per table, and the legend


def test_html_escapes_text_that_comes_from_f():
    def sneaky(v):
        if np.iscomplexobj(v):
            raise TypeError("<script>alert(1)</script>")
        return np.sum(v ** 2)

    result = check_gradient(sneaky, np.ones(2), 2 * np.ones(2))
    assert result and "<script>" in result.note
    page = result._repr_html_()
    assert "<script>" not in page and "&lt;script&gt;" in page


def test_importing_gradlib_does_not_import_ipython():
    """gradlib is a library first: IPython is imported only where a chapter shows source (issue 17)."""
    import subprocess
    import sys

    code = "import sys, gradlib; print('IPython' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_the_checker_layers_stay_apart_and_short():
    """The checker imports no view, the display helpers no checker internals; no checker file is
    over 300 lines (issue 17: its code is read in a chapter)."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "gradlib"
    for name in ("checker", "estimators", "_evaluate", "holomorphy", "diagnosis", "report"):
        text = (root / f"{name}.py").read_text()
        imports = [line for line in text.splitlines() if line.startswith(("from ", "import "))]
        assert len(text.splitlines()) <= 300, name
        assert not any("display" in line or "IPython" in line for line in imports), (name, imports)
    display = (root / "display.py").read_text()
    assert "checker" not in display and "_labels" not in display and "CheckResult" not in display.split("\n", 1)[1]
