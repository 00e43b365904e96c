"""The checker's "auto" on functions that are not holomorphic as written: it falls back to
Richardson, with no false alarm and no false pass; an explicit complex step on them is an error.

Every test runs with warnings turned into errors, so "the checker emits no warnings" is checked
here too.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from gradlib._validate import GradlibError
from gradlib.checker import check_gradient, numerical_gradient, numerical_jacobian

pytestmark = pytest.mark.filterwarnings("error")

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
