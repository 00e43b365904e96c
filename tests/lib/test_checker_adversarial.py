"""Adversarial checks of the checker: losses a reader writes every day, each with the slip a reader
makes, at the places where finite differences are fragile. Every test ran red on an earlier checker
(false PASS, false FAIL, a crash or a leaked warning)."""
from __future__ import annotations

import numpy as np
import pytest

from gradlib._validate import GradlibError
from gradlib.checker import check_gradient, numerical_gradient

pytestmark = pytest.mark.filterwarnings("error")

X = np.random.default_rng(0).standard_normal((4, 3))


def slip(grad: np.ndarray, where: tuple[int, ...] | None = None, size: float = 1.01e-6) -> np.ndarray:
    """``grad`` with one entry moved by ``size`` of the gradient's largest entry."""
    wrong = np.array(grad, dtype=float)
    where = where if where is not None else np.unravel_index(int(np.argmax(np.abs(wrong))), wrong.shape)
    wrong[where] += size * np.abs(grad).max()
    return wrong


# -- 1. non-holomorphic f: complex step never wins by a grown noise bound ------------------------

PENALTIES = {  # a loss with a small non-holomorphic term: (f, full gradient, gradient without the term)
    "abs": (lambda X: np.sum(X**2) + 1e-3 * np.sum(np.abs(X)), lambda X: 2 * X + 1e-3 * np.sign(X)),
    "norm": (lambda X: np.sum(X**2) + 1e-3 * np.linalg.norm(X), lambda X: 2 * X + 1e-3 * X / np.linalg.norm(X)),
    "real": (lambda X: np.sum(X**2) + 1e-3 * np.sum(np.real(X) * X), lambda X: 2 * X + 2e-3 * X),
    "conj": (lambda X: np.sum(X**2) + 1e-3 * np.sum(np.conj(X) * X), lambda X: 2 * X + 2e-3 * X),
    "maximum": (lambda X: np.sum(X**2) + 1e-3 * np.sum(np.maximum(X, 0) * np.abs(X)),
                lambda X: 2 * X + 2e-3 * np.maximum(X, 0)),
    "huber": (lambda X: np.sum(X**2) + 1e-3 * np.sum(np.where(np.abs(X) < 0.5, X**2, np.abs(X) - 0.25)),
              lambda X: 2 * X + 1e-3 * np.where(np.abs(X) < 0.5, 2 * X, np.sign(X))),
}


@pytest.mark.parametrize("name", sorted(PENALTIES))
def test_a_forgotten_small_non_holomorphic_term_fails_and_the_right_gradient_passes(name):
    f, grad = PENALTIES[name]
    forgot = check_gradient(f, X, 2 * X)
    assert not forgot, forgot
    right = check_gradient(f, X, grad(X))
    assert right, right
    if right.method != "complex":  # reported with the real-step estimator's own numbers
        assert right.method == "richardson"
        assert np.abs(right.numerical - grad(X)).max() < 1e-8


def test_explicit_complex_never_returns_the_wrong_numbers_of_a_non_holomorphic_f():
    f, grad = PENALTIES["abs"]
    try:
        got = numerical_gradient(f, X, method="complex")
    except GradlibError as error:
        assert "complex" in str(error) and "analytic" in str(error) or "holomorphic" in str(error)
    else:
        np.testing.assert_allclose(got, grad(X), rtol=0, atol=1e-9)
    try:
        verdict = check_gradient(f, X, 2 * X, method="complex")
    except GradlibError:
        pass
    else:
        assert not verdict


def test_directional_complex_checks_holomorphy():
    x = np.array([0.7, -1.3, 0.25, 1.9, -0.6])
    f = lambda v: np.sum(np.abs(v) * v)
    try:
        right = check_gradient(f, x, 2 * np.abs(x), method="complex", directions=3)
    except GradlibError as error:
        assert "holomorphic" in str(error) or "analytic" in str(error)
    else:
        assert right, right
    try:
        wrong = check_gradient(f, x, np.abs(x), method="complex", directions=3)
    except GradlibError:
        pass
    else:
        assert not wrong, wrong


def test_a_tiny_non_holomorphic_loss_with_the_right_gradient_passes():
    x = np.array([0.7, -1.3, 0.25, 1.9])
    result = check_gradient(lambda v: 1 + 1e-12 * np.sum(np.abs(v) * v), x, 2e-12 * np.abs(x))
    assert result, result


# -- 2. domain edges near x ---------------------------------------------------------------------

EDGES = {  # name: (f, gradient, x near the edge of f's domain)
    "log": (lambda v: np.sum(np.log(v)), lambda v: 1 / v, np.array([1e-4, 0.5, 2.0])),
    "xlogx": (lambda v: np.sum(v * np.log(v)), lambda v: np.log(v) + 1, np.array([1e-4, 0.3, 0.6])),
    "sqrt": (lambda v: np.sum(np.sqrt(v)), lambda v: 0.5 / np.sqrt(v), np.array([1e-4, 1.0, 4.0])),
    "arcsin": (lambda v: np.sum(np.arcsin(v)), lambda v: 1 / np.sqrt(1 - v**2), np.array([0.9999, 0.2, -0.5])),
}


@pytest.mark.parametrize("name", sorted(EDGES))
@pytest.mark.parametrize("method", ["auto", "richardson", "central"])
def test_domain_edges_near_x_are_checked_not_refused(name, method):
    f, grad, x = EDGES[name]
    right = check_gradient(f, x, grad(x), method=method)
    if method != "central":  # central's truncation (h**2 times the third derivative) has no estimate
        assert right, right
    assert not check_gradient(f, x, slip(grad(x), (1,), 1e-2), method=method)


def test_a_wrong_entropy_gradient_fails_cleanly():
    p = np.array([1e-4, 0.2, 0.3, 0.4999])
    entropy = lambda v: -np.sum(v * np.log(v))
    assert check_gradient(entropy, p, -(np.log(p) + 1))
    wrong = check_gradient(entropy, p, -np.log(p))  # the "+1" forgotten
    assert not wrong and wrong.diagnosis is not None


def test_the_complex_step_is_not_blocked_by_a_real_steps_domain_error():
    x = np.array([1e-4, 0.5, 2.0])
    result = check_gradient(lambda v: np.sum(np.log(v)), x, 1 / x)
    assert result and result.method == "complex", result


def test_an_entry_too_large_for_any_step_is_a_clear_error_or_checked_right():
    x, f = np.array([3e30, 1.0]), lambda v: np.sum(v**2)
    try:
        right = check_gradient(f, x, 2 * x)
    except GradlibError as error:
        assert "rescale x" in str(error)
    else:
        assert right and not check_gradient(f, x, slip(2 * x, (0,)))


# -- 3. one kink must not loosen every entry ------------------------------------------------------

def test_one_entry_next_to_a_kink_does_not_loosen_the_others():
    """Entry 0 sits 1e-6 from the kink of |x|, so Richardson steps down there; the other entries keep
    their own (tight) floor, and a slip of 3e-5 M at entry 4 fails (before: the floor of the refined
    step, 64 eps max|f| / h_min ~ 6e-4, served every entry and let it pass)."""
    x = np.array([1e-6, 0.8, -1.2, 0.5, 1.5])
    f = lambda v: 1e4 + np.sum(np.abs(v)) + np.sum(v**4)
    grad = np.sign(x) + 4 * x**3
    assert check_gradient(f, x, grad, method="richardson")
    assert not check_gradient(f, x, slip(grad, (4,), 3e-5), method="richardson")
    assert not check_gradient(f, x, slip(grad, (4,), 3e-5))


@pytest.mark.parametrize("distance", [1e-9, 3e-9, 3e-8])
def test_a_kink_very_close_to_an_entry_is_stepped_under(distance):
    x = np.array([distance, 0.8, -1.2, 0.5])
    f = lambda v: np.sum(np.abs(v)) + np.sum(v**2)
    grad = np.sign(x) + 2 * x
    result = check_gradient(f, x, grad, method="richardson")
    assert result, result


# -- 4. rounding floors from the same entry -------------------------------------------------------

def test_a_huge_entry_does_not_make_every_gradient_zero_up_to_rounding():
    true = np.array([0.0, -0.02, 0.04, -0.01])
    x = np.array([1e12, 0.3, -0.7, 1.1])
    c = x - true / 2
    f = lambda v: np.sum((v - c) ** 2)
    assert check_gradient(f, x, true)
    assert not check_gradient(f, x, np.zeros(4))


# -- 5. float32 inside f --------------------------------------------------------------------------

FLOAT32 = {
    "returned": lambda v: np.sum(v.astype(np.float32) ** 2),
    "inside": lambda v: float(np.sum(np.float32(1) * v.astype(np.float32) ** 2)),
}


@pytest.mark.parametrize("name", sorted(FLOAT32))
def test_float32_inside_f_is_noticed_and_never_a_zero_derivative(name):
    x = np.array([0.7, -1.3, 0.25, 1.9])
    f = FLOAT32[name]
    result = check_gradient(f, x, 2 * x)
    assert result, result
    assert "float32" in result.note
    got = numerical_gradient(f, x, method="richardson")
    assert np.abs(got - 2 * x).max() / np.abs(2 * x).max() < 1e-3, got
    assert not check_gradient(f, x, x)


# -- 6. f that caches its argument, random f ------------------------------------------------------

def test_f_that_caches_its_input_is_checked_right_or_named():
    cache = {}

    def memoized(v):  # keyed on the array object: the checker's in-place steps look like the same x
        if id(v) not in cache:
            cache[id(v)] = float(np.sum(v**2))
        return cache[id(v)]

    x = np.array([0.7, -1.3, 0.25])
    for method in ("auto", "richardson"):
        cache.clear()
        try:
            result = check_gradient(memoized, x, 2 * x, method=method)
        except GradlibError as error:
            assert "cache" in str(error) and "holomorphic" not in str(error)
        else:
            assert "holomorphic" not in result.note
            assert result or "cache" in (result.note + str(result.diagnosis))


def test_random_f_is_named():
    rng = np.random.default_rng(3)
    dropout = lambda v: np.sum((rng.random(v.shape) > 0.5) * v**2) * 2
    x = np.array([0.7, -1.3, 0.25, 1.9])
    with pytest.raises(GradlibError, match=r"random|dropout"):
        check_gradient(dropout, x, 2 * x)


# -- 7. clean edges -------------------------------------------------------------------------------

def test_negative_seed_is_a_gradlib_error():
    with pytest.raises(GradlibError, match=r"^check_gradient: seed"):
        check_gradient(lambda v: np.sum(v**2), X, 2 * X, seed=-1)


@pytest.mark.parametrize("scale", [1e-300, 1e-200, 1e-100, 1e100, 1e200, 1e300])
@pytest.mark.parametrize("method", ["auto", "richardson", "central", "complex"])
def test_extreme_scales_give_the_same_verdict_and_diagnosis(scale, method):
    f = lambda v: scale * np.sum(np.sin(v) * v)
    grad = scale * (np.cos(X) * X + np.sin(X))
    assert check_gradient(f, X, grad, method=method)
    B = X[:3]
    transposed = check_gradient(lambda v: scale * np.sum(np.sin(v) * B), B, scale * (np.cos(B) * B).T, method=method)
    assert not transposed and transposed.diagnosis.startswith("transposed"), transposed
    halved = check_gradient(f, X, grad / 2, method=method)
    assert not halved and halved.diagnosis.startswith("scaled by 1/2")
    assert check_gradient(f, X, grad, method=method, directions=3)
    assert not check_gradient(f, X, -grad, method=method, directions=3)


def test_a_single_dominant_entry_slightly_off_is_named_as_that_entry():
    x = np.array([1e-5, 2e-5, 30.0, -3e-5])
    f = lambda v: np.sum(v**2)
    wrong = 2 * x
    wrong[2] *= 1.001
    result = check_gradient(f, x, wrong)
    assert not result and result.diagnosis.startswith("right except entry (2,)"), result


def test_float16_inside_f_is_noticed_too():
    x = np.array([0.7, -1.3, 0.25, 1.9])
    f = lambda v: np.sum(v.astype(np.float16) ** 2)
    result = check_gradient(f, x, 2 * x)
    assert result and "float16" in result.note, result
    assert not check_gradient(f, x, x)
    got = numerical_gradient(f, x, method="richardson")
    assert np.abs(got - 2 * x).max() / np.abs(2 * x).max() < 1e-2, got
