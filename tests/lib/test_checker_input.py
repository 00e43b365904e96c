"""What the checker does with its input: integers promoted to float64, the caller's x never
modified, and every bad argument or misbehaving f a GradlibError that names the function and shapes.

Every test runs with warnings turned into errors, so "the checker emits no warnings" is checked
here too.
"""
from __future__ import annotations

import re

import numpy as np
import pytest
from checker_cases import METHODS, smooth, smooth_grad

from gradlib._validate import GradlibError
from gradlib.checker import check_gradient, numerical_gradient, numerical_jacobian

pytestmark = pytest.mark.filterwarnings("error")

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
            ev.stencil(zip([0.6, -1.4, 2.6], [0.4, -1.6, 2.4], strict=True))
        np.testing.assert_array_equal(ev.x0, x, err_msg=name)
    np.testing.assert_array_equal(x, [0.5, -1.5, 2.5])  # and the caller's x is never touched
