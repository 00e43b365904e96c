"""Two checker defects now fixed (a large offset, a huge x), the diagnosis of classic slips and the shape hints.

The diagnosis must name the slip when the numbers show it, and say nothing (None) otherwise:
a random error, a passing check and a numerical gradient that is all noise get no claim.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from gradlib import holomorphy
from gradlib._validate import GradlibError
from gradlib.checker import check_gradient, numerical_gradient, numerical_jacobian
from gradlib.diagnosis import diagnose

pytestmark = pytest.mark.filterwarnings("error")


def tanh_problem(shape, seed=0):
    """f(W) = sum(tanh(W v) * u): a smooth scalar of a matrix whose gradient has no symmetry."""
    rng = np.random.default_rng(seed)
    W = rng.standard_normal(shape)
    v, u = rng.standard_normal(shape[-1]), rng.standard_normal(shape[0])
    f = lambda W: np.sum(u * np.tanh(W @ v))
    return f, W, np.outer(u * (1 - np.tanh(W @ v) ** 2), v)


# -- defect 1: a false PASS when f carries a large offset ---------------------------------------------

def test_large_offset_one_entry_wrong_by_1e_6_fails_by_complex_step():
    X = np.random.default_rng(0).standard_normal((4, 3))
    f = lambda X: 1e8 + np.sum(X ** 2)
    assert check_gradient(f, X, 2 * X)
    wrong = 2 * X
    wrong[1, 2] += 1.01e-6 * np.abs(2 * X).max()
    result = check_gradient(f, X, wrong)
    assert not result and result.method == "complex" and result.worst_index == (1, 2)
    assert "complex step's FAIL stands" in result.note
    assert result.diagnosis.startswith("right except entry (1, 2)")
    # richardson alone cannot see it: its noise floor ~1e-11 |f| is above the error
    assert check_gradient(f, X, wrong, method="richardson")


def test_auto_trusts_richardson_when_complex_step_errs_beyond_richardsons_tolerance(monkeypatch):
    """A complex step that errs where its own cross-check cannot see (a mistake orthogonal to the
    random direction) disagrees with richardson by far more than richardson's tolerance: richardson
    decides, and a wrong analytic gradient still fails."""
    f, W, good = tanh_problem((3, 3), seed=1)
    honest = holomorphy.checked_complex_step

    def lying(ev, seed):
        estimate, confirmed = honest(ev, seed)
        jac = estimate.values.copy()
        jac[0, 4] += 0.5
        return dataclasses.replace(estimate, values=jac), confirmed

    monkeypatch.setattr(holomorphy, "checked_complex_step", lying)
    result = check_gradient(f, W, good)
    assert result and result.method == "richardson" and "not holomorphic" in result.note
    wrong = good.copy()
    wrong[0, 0] += 0.5
    result = check_gradient(f, W, wrong)
    assert not result and "confirmed by richardson" in result.note


# -- defect 2: an x so large that no step survives next to it --------------------------------------------

HUGE = np.array([3e30, 1.0])
SQUARES = lambda x: np.sum(x ** 2)
VANISHES = r"entry \(0,\) of x \(shape \(2,\)\) is 3e\+30: next to \|x_j\| the smallest real step .* vanishes"


@pytest.mark.parametrize("call", [
    lambda: check_gradient(SQUARES, HUGE, 2 * HUGE),
    *[lambda m=m: check_gradient(SQUARES, HUGE, 2 * HUGE, method=m) for m in ("central", "richardson", "complex")],
    *[lambda m=m: check_gradient(SQUARES, HUGE, 2 * HUGE, method=m, directions=3)
      for m in ("auto", "central", "richardson", "complex")],
    *[lambda m=m: numerical_gradient(SQUARES, HUGE, method=m) for m in ("central", "richardson", "complex")],
    *[lambda m=m: numerical_jacobian(lambda x: x ** 2, HUGE, method=m) for m in ("central", "richardson", "complex")],
], ids=lambda call: "")
def test_an_x_too_large_for_any_step_is_a_value_error_naming_the_entry(call):
    with pytest.raises(GradlibError, match=VANISHES) as info:
        call()
    assert isinstance(info.value, ValueError)


def test_large_but_resolvable_x_still_works():
    x = np.array([1e12, -3e11, 1.0])
    for method in ("central", "richardson", "complex"):
        error = np.abs(numerical_gradient(SQUARES, x, method=method) - 2 * x).max()  # normwise: x_2 = 1 is
        assert error <= 1e-4 * 2e12, method  # lost in the rounding noise of f ~ 1e24, as it must be
    assert check_gradient(SQUARES, x, 2 * x) and not check_gradient(SQUARES, x, -2 * x)


# -- diagnosis ------------------------------------------------------------------------------------------

def test_transposed():
    f, W, good = tanh_problem((4, 4))
    result = check_gradient(f, W, good.T)
    assert not result and result.diagnosis.startswith("transposed")
    assert "r^T x^T" in result.diagnosis


def test_sign_flipped():
    f, W, good = tanh_problem((3, 5))
    assert check_gradient(f, W, -good).diagnosis.startswith("sign flipped")


@pytest.mark.parametrize("factor, name", [(32, "32"), (1 / 32, "1/32"), (2, "2"), (0.5, "1/2"), (-4, "-4"),
                                          (1 / 6, "1/6"), (1.37, "1.37")])
def test_scaled_names_the_factor(factor, name):
    f, W, good = tanh_problem((3, 5))
    result = check_gradient(f, W, factor * good)
    assert not result and result.diagnosis.startswith(f"scaled by {name}:"), result.diagnosis


def test_scaled_by_one_over_n_says_mean_or_missing_one_over_n():
    X = np.random.default_rng(3).standard_normal((32, 3))
    mean_loss = lambda X: np.sum(X ** 2)  # a sum; the analytic below divides by N
    result = check_gradient(mean_loss, X, 2 * X / 32)
    assert result.diagnosis.startswith("scaled by 1/32: ") and "a mean where a sum belongs, or a missing 1/N?" \
        in result.diagnosis
    assert check_gradient(lambda X: np.mean(X ** 2) * 3, X, 2 * X * 3).diagnosis.startswith("scaled by 96:")


@pytest.mark.parametrize("method", ["auto", "richardson", "central"])
def test_one_row_one_column_one_entry(method):
    f, W, good = tanh_problem((4, 5), seed=2)
    row, column, entry = good.copy(), good.copy(), good.copy()
    row[2] *= 1.5
    column[:, 3] += 0.2
    entry[1, 4] -= 0.3
    assert check_gradient(f, W, row, method=method).diagnosis.startswith("right except row [2, :] (5 of its 5")
    assert check_gradient(f, W, column, method=method).diagnosis.startswith("right except column [:, 3] (4 of")
    assert check_gradient(f, W, entry, method=method).diagnosis.startswith("right except entry (1, 4)")


def test_terms_left_out_and_zero():
    f, W, good = tanh_problem((3, 4), seed=4)
    diagonal_only = np.zeros_like(good)
    diagonal_only[[0, 1, 2], [0, 1, 2]] = good[[0, 1, 2], [0, 1, 2]]
    assert check_gradient(f, W, diagonal_only).diagnosis.startswith("terms left out: the analytic gradient is zero "
                                                                    "at 9 entries")
    assert check_gradient(f, W, np.zeros_like(good)).diagnosis.startswith("zero:")


@pytest.mark.parametrize("seed", range(20))
def test_random_errors_get_no_specific_claim(seed):
    rng = np.random.default_rng(100 + seed)
    shape = [(4, 4), (3, 5), (6,), (2, 3, 4), (5, 1)][seed % 5]
    f, W, good = tanh_problem((shape[0], int(np.prod(shape[1:])) or 1), seed=seed)
    W, good = W.reshape(shape), good.reshape(shape)
    g = lambda V: f(V.reshape(W.shape[0], -1))
    wrong = good + 0.3 * np.abs(good).max() * rng.standard_normal(shape)
    result = check_gradient(g, W, wrong)
    assert not result and result.diagnosis is None, result.diagnosis


def test_no_diagnosis_on_a_pass_a_directional_check_or_a_numerical_gradient_of_noise():
    f, W, good = tanh_problem((4, 4))
    assert check_gradient(f, W, good).diagnosis is None
    assert check_gradient(f, W, good.T, directions=3).diagnosis is None  # no entries to compare there
    # a numerical gradient that is zero up to its noise: nothing to compare a pattern with
    assert diagnose(np.array([1e-20, -1e-20, 0.0]), np.array([1.0, 2.0, 3.0]), 1e-12) is None
    # a size-1 x is always "scaled by c": no claim
    assert check_gradient(lambda v: np.sum(v ** 3), np.array([2.0]), np.array([24.0])).diagnosis is None


def test_symmetric_gradients_are_never_called_transposed():
    """For a symmetric numerical gradient, A = N^T is A = N: a failure there is something else."""
    S = np.random.default_rng(5).standard_normal((4, 4))
    S = S + S.T
    f = lambda X: np.sum(X * (S @ X)) / 2 + np.sum(X)  # gradient (S X + S^T X)/2 + 1 = S X + 1
    X = np.eye(4)
    wrong = S @ X + 1
    wrong[0, 3] += 1.0
    result = check_gradient(f, X, wrong)
    assert result.diagnosis.startswith("right except entry (0, 3)")


def test_3d_input_transposed_in_the_last_two_axes_and_one_entry():
    rng = np.random.default_rng(6)
    A = rng.standard_normal((2, 3, 3))
    f = lambda X: np.sum(np.sin(X) * A)
    X = rng.standard_normal((2, 3, 3))
    good = np.cos(X) * A
    assert check_gradient(f, X, np.swapaxes(good, 1, 2)).diagnosis.startswith("transposed")
    one = good.copy()
    one[1, 2, 0] += 1.0
    assert check_gradient(f, X, one).diagnosis.startswith("right except entry (1, 2, 0)")


def test_diagnosis_shows_in_repr_and_html():
    f, W, good = tanh_problem((4, 4))
    result = check_gradient(f, W, -good)
    assert f"  diagnosis: {result.diagnosis}" in repr(result)
    page = result._repr_html_()
    assert '<div class="gradlib-diagnosis"><strong>Diagnosis:</strong> sign flipped' in page
    assert "gradlib-diagnosis" not in check_gradient(f, W, good)._repr_html_()


# -- shape hints ------------------------------------------------------------------------------------------

def test_shape_error_says_transposed():
    with pytest.raises(GradlibError, match=r"analytic is \(4, 3\) but x is \(3, 4\);.*it looks transposed"):
        check_gradient(SQUARES, np.ones((3, 4)), np.ones((4, 3)))
    with pytest.raises(GradlibError, match=r"analytic is \(3, 1\) but x is \(1, 3\);.*it looks transposed"):
        check_gradient(SQUARES, np.ones((1, 3)), np.ones((3, 1)))


def test_shape_error_says_the_batch_sum_is_missing():
    with pytest.raises(GradlibError, match=r"analytic is \(5, 3\) but x is \(3,\);.*extra leading axis of 5: "
                                           r"the sum over the batch is missing"):
        check_gradient(SQUARES, np.ones(3), np.ones((5, 3)))
    with pytest.raises(GradlibError, match=r"analytic is \(5, 3\) but x is \(1, 3\);.*the sum over the batch is "
                                           r"missing\? \(analytic.sum\(axis=0, keepdims=True\)"):
        check_gradient(SQUARES, np.ones((1, 3)), np.ones((5, 3)))
    with pytest.raises(GradlibError, match=r"analytic is \(4, 6\) but x is \(4, 1\);.*axis=1, keepdims=True"):
        check_gradient(SQUARES, np.ones((4, 1)), np.ones((4, 6)))


def test_other_shape_errors_get_no_hint():
    for x_shape, a_shape in [((3, 4), (3, 5)), ((5, 1), (5,)), ((2, 3), (6,))]:
        with pytest.raises(GradlibError) as info:
            check_gradient(SQUARES, np.ones(x_shape), np.ones(a_shape))
        assert "transposed" not in str(info.value) and "batch" not in str(info.value)


# -- stress: matrix functions, tiny scales, offsets, branch cuts --------------------------------------

def matrix_functions(n, rng):
    """name: (f, gradient) for f of a square X, holomorphic as written where det(X) > 0 (log|det|
    for real input, so that f is defined at the far steps too)."""
    A, b = rng.standard_normal((n, n)), rng.standard_normal(n)
    inv = np.linalg.inv
    return {
        "logdet": (lambda X: np.log(np.linalg.det(X) if np.iscomplexobj(X) else abs(np.linalg.det(X))),
                   lambda X: inv(X).T),
        "sum_inv": (lambda X: np.sum(inv(X)), lambda X: -(inv(X).T @ np.ones((n, n)) @ inv(X).T)),
        "solve": (lambda X: b @ np.linalg.solve(X, b), lambda X: -np.outer(np.linalg.solve(X.T, b),
                                                                           np.linalg.solve(X, b))),
        "det": (lambda X: np.linalg.det(X), lambda X: np.linalg.det(X) * inv(X).T),
        "trace_AXX": (lambda X: np.trace(A @ X @ X), lambda X: (A @ X + X @ A).T),
    }


@pytest.mark.parametrize("n", [2, 3, 4])
@pytest.mark.parametrize("scale", [1e-8, 1e-3, 1.0, 10.0])
def test_matrix_functions_pass_and_catch_1e_6_at_every_scale(n, scale):
    """inv, solve, det at |X| ~ 1e-8 vary on the length scale 1e-8, far below the first step (~1e-3):
    the cross-check of complex step and richardson step down a ladder until the step is under it."""
    rng = np.random.default_rng(n)
    X = scale * (np.eye(n) + 0.3 * rng.standard_normal((n, n)))
    if np.linalg.det(X) < 0:  # det > 0: complex log(det) has no branch cut here
        X[0] *= -1
    for name, (f, grad) in matrix_functions(n, rng).items():
        good = grad(X)
        result = check_gradient(f, X, good)
        assert result, (name, result)
        wrong = good.copy()
        wrong.flat[np.argmax(np.abs(good))] += 1.01e-6 * np.abs(good).max()
        assert not check_gradient(f, X, wrong), name


@pytest.mark.parametrize("offset", [1e4, 1e8])
def test_matrix_functions_under_large_offsets_raise_no_false_alarm(offset):
    rng = np.random.default_rng(7)
    for scale in (1e-3, 1.0, 10.0):
        X = scale * (np.eye(3) + 0.3 * rng.standard_normal((3, 3)))
        if np.linalg.det(X) < 0:
            X[0] *= -1
        for name, (f, grad) in matrix_functions(3, rng).items():
            result = check_gradient(lambda X, f=f: f(X) + offset, X, grad(X))
            assert result, (name, scale, result)
            assert not check_gradient(lambda X, f=f: f(X) + offset, X, -grad(X)), name
            wrong = grad(X)
            wrong.flat[np.argmax(np.abs(wrong))] *= 1 + 1.01e-6
            assert not check_gradient(lambda X, f=f: f(X) + offset, X, wrong), (name, scale)


def test_a_branch_cut_sends_auto_to_richardson_without_false_alarm():
    """log(det X) with det X < 0 through np.log of a complex number: Im jumps by pi, so complex step
    is garbage there (as written, f is not holomorphic at x); the cross-check sees it."""
    X = np.array([[0.0, 1.0], [1.0, 0.3]])  # det = -1
    def f(X):
        return np.log(np.linalg.det(X) + 0j).real if not np.iscomplexobj(X) else np.log(np.linalg.det(X))
    result = check_gradient(f, X, np.linalg.inv(X).T)
    assert result and result.method == "richardson" and "not holomorphic" in result.note


def test_large_offsets_with_1e_6_errors_on_a_3d_input():
    rng = np.random.default_rng(8)
    X = rng.standard_normal((2, 3, 4))
    for offset in (0.0, 1e4, 1e8, 1e12):
        f = lambda X, o=offset: o + np.sum(np.sin(X) * X ** 2)
        good = np.cos(X) * X ** 2 + 2 * X * np.sin(X)
        assert check_gradient(f, X, good)
        wrong = good.copy()
        wrong[1, 2, 3] += 1.01e-6 * np.abs(good).max()
        result = check_gradient(f, X, wrong)
        assert not result and result.worst_index == (1, 2, 3), offset


@pytest.mark.parametrize("noise", [1e-2, 1e-6, 0.0])
def test_a_gradient_that_is_zero_up_to_rounding_passes(noise):
    """At a least-squares minimum the gradient X^T (X w - y) is pure rounding (~1e-15), and complex step
    and the analytic formula round differently; the error is below the rounding of the gradient's
    terms (~|f''| |w|), so no alarm -- while a real 1e-6 mistake next to the offset example still fails."""
    for seed in range(10):
        rng = np.random.default_rng(seed)
        X = rng.standard_normal((20, 3))
        y = X @ rng.standard_normal(3) + noise * rng.standard_normal(20)
        w = np.linalg.lstsq(X, y, rcond=None)[0]
        f = lambda w, X=X, y=y: 0.5 * np.sum((X @ w - y) ** 2)
        result = check_gradient(f, w, X.T @ (X @ w - y))
        assert result, result
        assert not check_gradient(f, w, X.T @ (X @ w - y) + 1e-6)


_OFFSET_CASES = {
    "sin": (lambda X: np.sum(np.sin(X)), lambda X: np.cos(X)),
    "x^4": (lambda X: np.sum(X**4) / 4, lambda X: X**3),
    "logdet": (lambda X: np.log(np.linalg.det(X) ** 2) / 2, lambda X: np.linalg.inv(X).T),
    "trace inv": (lambda X: np.trace(np.linalg.inv(X)), lambda X: -(np.linalg.inv(X) @ np.linalg.inv(X)).T),
}


@pytest.mark.parametrize("offset", [1e4, 1e8, 1e12])
@pytest.mark.parametrize("scale", [1e-3, 1.0, 10.0])
@pytest.mark.parametrize("case", list(_OFFSET_CASES))
def test_a_constant_in_f_hides_no_error_from_auto(case, scale, offset):
    """Complex step subtracts nothing, so a constant added to f must not widen its tolerance: one entry
    off by 1.01e-6 max|grad| fails at every offset (61 of 144 such probes passed before), and the
    correct gradient passes."""
    f0, grad = _OFFSET_CASES[case]
    X = np.random.default_rng(7).normal(size=(3, 3)) * scale + 3 * scale * np.eye(3)
    f = lambda X: offset + f0(X)
    right = grad(X)
    assert check_gradient(f, X, right).passed
    wrong = right.copy()
    wrong[1, 2] += 1.01e-6 * np.abs(right).max()
    result = check_gradient(f, X, wrong)
    assert not result.passed and result.worst_index == (1, 2), (result.method, result.note)
