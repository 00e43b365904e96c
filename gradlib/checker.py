r"""The verdict: does an analytic gradient match finite differences? (float64 throughout)

The estimates come from :mod:`gradlib.estimators`; this module decides. Normwise test, with
``M = max(max|numerical|, max|analytic|)`` and ``F = max|f|`` over the calls of f (for complex
step only its own calls, all at x: ``Re f(x + i h e_j) = f(x) + O(h**2)``):

    ``passed  <=>  max_j |numerical_j - analytic_j| <= atol + rtol * M``.

Defaults (``eps = 2**-52``; ``atol`` is the rounding noise ``~eps F / h`` of a difference quotient,
so a (near) zero gradient raises no false alarm and scaling f changes nothing):

==========  =====  ==============================  =======================================
method      rtol   atol                            measured error / M (smooth f, |x|<=1e3)
==========  =====  ==============================  =======================================
complex     1e-9   64 eps F                        ~1e-15: nothing is subtracted
richardson  1e-7   64 eps F / 2**-10 (~1.4e-11 F)  <= 2e-9 (h / 16**k where refined: / 16**k)
central     1e-4   64 eps F / eps**(1/3)           ~1e-10 typically; 6e-5 for x**4 at 1e-3
==========  =====  ==============================  =======================================

So an entry wrong by more than ``1e-6 M`` fails complex and richardson, whose errors sit >= 50x
below their rtol. Plain central cannot meet that bar (its truncation ``h**2 |f'''| / 6`` exceeds
``1e-6 M`` for x**3, x**4 at |x| ~ 1e-3), so its rtol is 1e-4, and ``"auto"`` never uses it.

``"auto"`` (the default): (1) complex step, every call guarded, and cross-checked along a random
direction against real differences (:func:`gradlib.estimators.checked_complex_step`); if f is not
holomorphic as written, richardson instead. (2) If complex step fails the check, richardson too:
if richardson also fails, FAIL. If richardson passes, the two estimates are compared: when they
differ by more than richardson's own tolerance, complex step is what is wrong (a non-holomorphic f
that kept a complex dtype) and richardson's PASS stands; when they agree within it, richardson
passed only because its noise floor hides the error (``f = 1e8 + sum(X**2)``: ``F ~ 1e8``) and
complex step's FAIL stands. (3) Before either, a complex-step error below the rounding of the
gradient's own terms, ``64 eps max|f''_jj| max|x| sqrt(n)`` (``f''_jj`` from richardson's stencil),
is no evidence at all when the gradient itself is within 16x that floor: it is zero up to rounding
(a least-squares minimum), and auto raises ``atol`` to the floor and passes. (4) A complex-step PASS
that only its floor ``64 eps F`` allows (error above ``rtol * M``) is judged again against that
rounding of the gradient's own terms: a constant in f inflates F but adds no noise to complex step,
which subtracts nothing (``1e12 + sum(X**2)`` would otherwise hide an error of ``1e-6 M``).

``directions=k`` (big x): k seeded random unit directions ``w``; ``J w`` by 4 calls each
(richardson; central 2, complex 1) against ``analytic . w``. One entry wrong by ``e`` moves each by
``~e / sqrt(x.size)``. A failing check gets a :attr:`CheckResult.diagnosis` (:mod:`gradlib.diagnosis`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from . import estimators
from ._evaluate import ComplexStepInvalid, Evaluator, FloatFunction, check_method, real_copy
from ._validate import rule_error
from .diagnosis import diagnose, shape_hint
from .display import check_result_html
from .estimators import CENTRAL_STEP, EPS, METHODS, RICHARDSON_STEP, numerical_gradient, numerical_jacobian

__all__ = ["CheckResult", "check_gradient", "numerical_gradient", "numerical_jacobian"]

CHECK_METHODS = ("auto",) + METHODS
RTOL = {"central": 1e-4, "richardson": 1e-7, "complex": 1e-9}
NOISE = {"central": 64 * EPS / CENTRAL_STEP, "richardson": 64 * EPS / RICHARDSON_STEP, "complex": 64 * EPS}


def _magnitude(*arrays: np.ndarray) -> float:
    return float(max(np.abs(a).max() for a in arrays))


@dataclass(frozen=True, eq=False, repr=False)
class CheckResult:
    """Outcome of :func:`check_gradient`; truthy iff the check passed.

    ``numerical`` and ``analytic`` have x's shape and ``worst_index`` (the entry with the largest
    ``|numerical - analytic|``) indexes x -- except in directional mode (``directions=k``), where
    they are the ``k`` directional derivatives ``J w_k`` (finite differences) and ``analytic . w_k``,
    ``worst_index`` is ``(k,)`` for the worst direction, and ``direction_vectors`` holds the unit
    directions ``w_k`` (shape ``(k, *x.shape)``). ``max_rel_error = max_abs_error / M`` with
    ``M = max(max|numerical|, max|analytic|)`` (normwise); ``passed`` iff
    ``max_abs_error <= atol + rtol * M``. ``method`` is the method actually used, ``calls`` the
    number of calls of f, ``note`` says why ``"auto"`` fell back or re-checked, and ``diagnosis``
    names the slip on a failing check when the numbers show one (transposed, sign, scaled by c,
    one entry, row or column wrong), else None.
    """

    passed: bool
    method: str
    max_abs_error: float
    max_rel_error: float
    worst_index: tuple[int, ...]
    numerical: np.ndarray
    analytic: np.ndarray
    rtol: float
    atol: float
    calls: int
    note: str = ""
    direction_vectors: np.ndarray | None = None
    diagnosis: str | None = None

    def __bool__(self) -> bool:
        return self.passed

    @property
    def tolerance(self) -> float:
        """The bound on ``max_abs_error``: ``atol + rtol * max(max|numerical|, max|analytic|)``."""
        return self.atol + self.rtol * _magnitude(self.numerical, self.analytic)

    @property
    def mismatched(self) -> np.ndarray:
        """Boolean mask of the entries whose error alone exceeds :attr:`tolerance`."""
        return np.abs(self.numerical - self.analytic) > self.tolerance

    def _labels(self) -> tuple[str, str]:
        if self.direction_vectors is None:
            return "entry", ""
        return "direction", f", {len(self.numerical)} random directions"

    def __repr__(self) -> str:
        what, mode = self._labels()
        lines = [
            f"CheckResult: {'PASS' if self.passed else 'FAIL'} (method {self.method!r}{mode}, "
            f"{self.calls} calls of f)",
            f"  max abs error {self.max_abs_error:.3g} (tolerance {self.tolerance:.3g}), "
            f"max rel error {self.max_rel_error:.3g} (rtol {self.rtol:.3g})",
            f"  worst {what} {self.worst_index}: numerical {float(self.numerical[self.worst_index])!r}, "
            f"analytic {float(self.analytic[self.worst_index])!r}",
        ]
        if self.diagnosis:
            lines.append(f"  diagnosis: {self.diagnosis}")
        if self.note:
            lines.append(f"  note: {self.note}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return check_result_html(self)


def _verdict(ev: Evaluator, numerical: np.ndarray, analytic: np.ndarray, method: str, rtol: float | None,
             atol: float | None, note: str = "", direction_vectors: np.ndarray | None = None) -> CheckResult:
    rtol_used = RTOL[method] if rtol is None else rtol
    noise = NOISE[method] if method != "richardson" or not ev.finest_step else 64 * EPS / ev.finest_step
    atol_used = noise * ev.largest_output(method == "complex") if atol is None else atol
    error = np.abs(numerical - analytic)
    max_abs = float(error.max())
    magnitude = _magnitude(numerical, analytic)
    tolerance = atol_used + rtol_used * magnitude
    passed = bool(max_abs <= tolerance)
    worst = np.unravel_index(int(np.argmax(error)), numerical.shape)
    return CheckResult(
        passed=passed, method=method, max_abs_error=max_abs,
        max_rel_error=max_abs / magnitude if magnitude > 0 else 0.0, worst_index=tuple(int(i) for i in worst),
        numerical=numerical, analytic=analytic, rtol=rtol_used, atol=atol_used, calls=ev.calls, note=note,
        direction_vectors=direction_vectors,
        diagnosis=None if passed or direction_vectors is not None else diagnose(numerical, analytic, tolerance))


def _check_tolerance(rule: str, name: str, value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not math.isfinite(value) or value < 0:
        raise rule_error(rule, f"{name} must be a finite number >= 0 or None, got {value!r}")
    return float(value)


def _directional_check(ev: Evaluator, grad: np.ndarray, method: str, rtol: float | None, atol: float | None,
                       directions: int, seed: int) -> CheckResult:
    """``J w`` by finite differences against ``analytic . w`` for ``directions`` random unit ``w``."""
    used = "richardson" if method == "auto" else method
    estimators.require_resolvable_steps(ev, used)
    rng = np.random.default_rng(seed)
    units, numerical, predicted = [], [], []
    for _ in range(directions):
        u, sigma = estimators.random_direction(ev.x0, rng.standard_normal(ev.size))
        estimate, w = estimators.directional(ev, u, sigma, used)
        units.append(u.reshape(ev.shape))
        numerical.append(estimate[0])
        predicted.append(float(grad.reshape(-1) @ w))
    return _verdict(ev, np.array(numerical), np.array(predicted), used, rtol, atol,
                    direction_vectors=np.array(units))


def _auto(ev: Evaluator, grad: np.ndarray, rtol: float | None, atol: float | None, seed: int) -> CheckResult:
    """Complex step if f allows it, richardson if not or to confirm a FAIL (module docstring)."""
    try:
        jac = estimators.jacobian(ev, "complex", seed)
    except ComplexStepInvalid as why:
        reason = str(why).split("complex step unusable: ", 1)[-1].split("; use method", 1)[0]
        return _verdict(ev, estimators.jacobian(ev, "richardson").reshape(ev.shape), grad, "richardson", rtol,
                        atol, note=f"auto used richardson because complex step is unusable: {reason}")
    result = _verdict(ev, jac.reshape(ev.shape), grad, "complex", rtol, atol)
    # a PASS that only complex step's floor 64 eps max|f| allows is no evidence when f carries a large
    # constant (f = 1e8 + sum(X**2)): complex step subtracts nothing, so the constant adds no noise
    within_floor = atol is None and result.max_abs_error > result.rtol * _magnitude(result.numerical, grad)
    if result.passed and not within_floor:
        return result
    confirm = _verdict(ev, estimators.jacobian(ev, "richardson").reshape(ev.shape), grad, "richardson", rtol, atol)
    gap = float(np.abs(result.numerical - confirm.numerical).max())
    rounding = 64 * EPS * estimators.term_scale(ev) * math.sqrt(ev.size)  # of terms ~ |f''| |x| summed in the gradient
    if atol is None and result.max_abs_error <= rounding and np.abs(result.numerical).max() <= 16 * rounding:
        return replace(result, passed=True, atol=rounding, calls=ev.calls, diagnosis=None,
                       note=f"complex step's error is below the rounding of the gradient's own terms, "
                            f"64 eps max|f''| max|x| sqrt(n) = {rounding:.3g} (the gradient is ~0 here), "
                            f"so auto raised atol to that and passes")
    if result.passed:  # within the floor: judge again against the rounding of the gradient's own terms
        rejudged = _verdict(ev, result.numerical, grad, "complex", rtol, rounding)
        if rejudged.passed:
            return replace(rejudged, note=f"complex step's error {result.max_abs_error:.3g} exceeds "
                           f"rtol * M but not the rounding of the gradient's own terms ({rounding:.3g})")
        result = replace(rejudged, note=f"complex step passed only within its floor 64 eps max|f| = {result.atol:.3g}, "
                                        f"which a constant in f inflates; the gradient's own terms round to {rounding:.3g}")
    if not confirm.passed:
        return replace(result, calls=ev.calls,
                       note=f"confirmed by richardson (max rel error {confirm.max_rel_error:.3g})")
    if gap > confirm.tolerance:
        return replace(confirm, note=f"complex step differs from richardson by {gap:.3g}, beyond richardson's "
                                     f"tolerance {confirm.tolerance:.3g}: f is not holomorphic as written, "
                                     f"so auto reports richardson, which passes")
    return replace(result, calls=ev.calls,
                   note=f"richardson passes only within its noise floor (tolerance {confirm.tolerance:.3g}); "
                        f"it agrees with complex step to {gap:.3g}, so complex step's FAIL stands")


def check_gradient(f: FloatFunction, x: Any, analytic: Any, *, method: str = "auto",
                   rtol: float | None = None, atol: float | None = None,
                   directions: int | None = None, seed: int = 0) -> CheckResult:
    r"""Compare an analytic gradient of a scalar ``f`` at ``x`` with finite differences.

    ``passed <=> max|numerical - analytic| <= atol + rtol * M``, ``M = max(max|numerical|,
    max|analytic|)``; ``rtol``/``atol`` default to the method's (module docstring: complex 1e-9,
    richardson 1e-7, central 1e-4; atol the rounding noise ``64 eps max|f| / h``). ``method``:
    ``"auto"`` (complex step, richardson where f is not holomorphic or to confirm a FAIL),
    ``"complex"``, ``"richardson"`` or ``"central"``. ``directions=k``: compare ``k`` seeded random
    directional derivatives instead of every entry (4 calls each, whatever x.size); ``seed`` seeds
    the random directions. Bad input (wrong shape -- with a hint when it looks transposed or
    unsummed over a batch --, an x too large for any step, an f that fails): GradlibError.
    """
    rule = "check_gradient"
    method = check_method(rule, method, CHECK_METHODS)
    ev = Evaluator(rule, f, x, scalar=True, per_entry=directions is None)
    grad = real_copy(rule, "analytic", analytic, "a real gradient is expected")
    if grad.shape != ev.shape:
        raise rule_error(rule, f"analytic is {grad.shape} but x is {ev.shape}; the gradient must have x's shape"
                         + shape_hint(grad.shape, ev.shape))
    rtol = _check_tolerance(rule, "rtol", rtol)
    atol = _check_tolerance(rule, "atol", atol)
    if directions is not None and (isinstance(directions, bool) or not isinstance(directions, (int, np.integer))
                                   or directions < 1):
        raise rule_error(rule, f"directions must be a positive int or None, got {directions!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise rule_error(rule, f"seed must be an int, got {seed!r}")
    if directions is not None:
        return _directional_check(ev, grad, method, rtol, atol, int(directions), int(seed))
    if method == "auto":
        return _auto(ev, grad, rtol, atol, int(seed))
    jac = estimators.jacobian(ev, method, int(seed))
    return _verdict(ev, jac.reshape(ev.shape), grad, method, rtol, atol)
