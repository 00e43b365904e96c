r"""The verdict: does an analytic gradient match finite differences? (float64 throughout)

The estimates come from :mod:`gradlib.estimators` (each an :class:`~gradlib.estimators.Estimate`
with its per-entry rounding noise); this module decides. With ``M = max(max|numerical|,
max|analytic|)`` and per entry ``j`` the floor ``atol_j`` (by default the estimate's own noise,
``64 eps_f max|f| / h_j`` over the calls of entry j; complex step ``64 eps max|f(x)|``):

    ``passed  <=>  |numerical_j - analytic_j| <= atol_j + rtol * M  for every j``.

==========  =====  ==========================================  ================================
method      rtol   atol_j (default)                            measured error / M (smooth f)
==========  =====  ==========================================  ================================
complex     1e-9   64 eps max|f(x)|                            ~1e-15: nothing is subtracted
richardson  1e-7   64 eps max|f| / h_j  (h_j = 2**-10 s_j)     ~1e-12 (h_j / 16**k where refined)
central     1e-4   64 eps max|f| / h_j  (h_j = eps**(1/3) s_j)  ~1e-10 typically; 6e-5 for x**4
==========  =====  ==========================================  ================================

So an entry wrong by more than ``1e-6 M`` fails complex and richardson. Central cannot meet that bar
(its truncation ``h**2 |f'''| / 6`` has no estimate), so its rtol is 1e-4 and ``"auto"`` never uses
it. ``"auto"`` is a sequence of named steps (:func:`_auto`; the book's appendix "How auto decides").
``directions=k`` (big x): k seeded random unit directions ``w``; ``J w`` by 4 calls each (central 2;
complex 1 + 6 to confirm it) against ``analytic . w``.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import estimators, holomorphy
from ._evaluate import ComplexStepInvalid, Evaluator, FloatFunction, check_method, real_copy
from ._validate import is_int, rule_error
from .diagnosis import shape_hint
from .estimators import CENTRAL_STEP, EPS, METHODS, RICHARDSON_STEP, Estimate
from .verdict import CheckResult, verdict

__all__ = ["CheckResult", "check_gradient", "numerical_gradient", "numerical_jacobian"]

CHECK_METHODS = ("auto",) + METHODS
RTOL = {"central": 1e-4, "richardson": 1e-7, "complex": 1e-9}
NOISE = {"central": 64 * EPS / CENTRAL_STEP, "richardson": 64 * EPS / RICHARDSON_STEP, "complex": 64 * EPS}


def jacobian(ev: Evaluator, method: str, seed: int = 0) -> Estimate:
    """The Jacobian estimate by ``method``; complex step is checked against real differences (a
    contradiction is a ComplexStepInvalid; an unconfirmed agreement is trusted)."""
    estimators.require_resolvable_steps(ev, method)
    if method == "complex":
        return holomorphy.checked_complex_step(ev, seed)[0]
    return estimators.central(ev) if method == "central" else estimators.richardson(ev)


def numerical_jacobian(f: FloatFunction, x: Any, *, method: str = "central") -> np.ndarray:
    r"""Finite-difference Jacobian ``J[i, j] = d f(x).ravel()[i] / d x.ravel()[j]`` (numerator layout).

    Returns shape ``(f(x).size, x.size)``; ``x`` may have any shape (integers become float64) and is
    never modified. ``method``: ``"central"`` (2 calls of f per entry of x), ``"richardson"`` (4,
    more only where needed) or ``"complex"`` (1, plus 6 to check f is holomorphic; a GradlibError
    says why if it is not). Bad input, an x too large for any step, or an f that raises or returns
    nan/inf at x: GradlibError.
    """
    rule = "numerical_jacobian"
    return jacobian(Evaluator(rule, f, x, scalar=False), check_method(rule, method, METHODS)).values


def numerical_gradient(f: FloatFunction, x: Any, *, method: str = "central") -> np.ndarray:
    r"""Finite-difference gradient ``(d f / d x)`` of a scalar-valued ``f``, in x's shape.

    ``f`` must return a scalar (anything of size 1); methods as in :func:`numerical_jacobian`.
    """
    rule = "numerical_gradient"
    method = check_method(rule, method, METHODS)
    ev = Evaluator(rule, f, x, scalar=True)
    return jacobian(ev, method).values.reshape(ev.shape)


def _judge(ev: Evaluator, estimate: Estimate, grad: np.ndarray, rtol: float | None, atol: Any = None,
           note: str = "") -> CheckResult:
    """The verdict on one estimate, with the method's default rtol and the estimate's noise as atol."""
    floor = estimate.noise.reshape(ev.shape) if atol is None else atol
    notes = [note] if note else []
    if estimate.precision > EPS:
        kind = "float16" if estimate.precision >= 2.0 ** -10 else "float32"
        notes.append(f"f's values are {kind} numbers (it computes in low precision): the steps were raised "
                     f"to that precision and the tolerance is ~{64 * estimate.precision:.1g} max|f| / h; "
                     f"compute f in float64 to check to 1e-6")
    if ev.fresh:
        notes.append("f returned the same value for every step until given a fresh copy of x: does it cache its "
                     "input? The checker then gave every call a fresh copy")
    return verdict(estimate.values.reshape(ev.shape), grad, estimate.method,
                   RTOL[estimate.method] if rtol is None else rtol, floor, ev.calls, "; ".join(notes))


def _failing(ev: Evaluator, result: CheckResult) -> CheckResult:
    """A FAIL stands only if f is not random: two calls at x that differ are an error naming it."""
    if not result.passed and (random := ev.repeatable()):
        raise rule_error(ev.rule, random)
    return result


# -- auto, step by step (each step returns a result or None to pass on) ------------------------------

def _complex_step(ev: Evaluator, seed: int) -> tuple[Estimate | None, str]:
    """Step 1: complex step and its check against real differences, or why it cannot be used. An
    agreement too noisy to confirm complex step (a gradient tiny next to a large constant in f, at
    every step tried) is no disagreement: complex step is used, as nothing speaks against it."""
    try:
        estimate, confirmed = holomorphy.checked_complex_step(ev, seed)
    except ComplexStepInvalid as invalid:
        if random := ev.repeatable():  # random f: not a question of holomorphy
            raise rule_error(ev.rule, random) from invalid
        return None, invalid.reason
    return estimate, "" if confirmed else "unconfirmed"


def _clean_pass(result: CheckResult) -> CheckResult | None:
    """Step 2: a complex-step PASS within rtol * M stands (its floor 64 eps max|f| was not needed)."""
    return result if result.passed and result.max_abs_error <= result.rtol * result.magnitude else None


def _term_rounding(ev: Evaluator, richardson: Estimate) -> np.ndarray:
    """Per entry, the rounding of the terms a gradient entry sums, ``64 eps sqrt(n) |f''_jj| |x_j|``
    (``f''_jj`` from richardson's stencil): the gradient's own floor, whatever the constant in f."""
    return (64 * EPS * math.sqrt(ev.size) * richardson.curvature * np.abs(ev.x0)).reshape(ev.shape)


def _zero_up_to_rounding(result: CheckResult, rounding: np.ndarray) -> CheckResult | None:
    """Step 3: where complex step's error and the gradient itself are both below the rounding of the
    gradient's own terms (a least-squares minimum), the gradient is zero up to rounding: PASS."""
    error = np.abs(result.numerical - result.analytic)
    if np.all(error <= rounding) and np.all(np.abs(result.numerical) <= 16 * rounding):
        return result.replace(passed=True, atol=rounding, diagnosis=None,
                              note="complex step's error is below the rounding of the gradient's own terms, "
                                   "64 eps sqrt(n) |f''_jj| |x_j| per entry (the gradient is ~0 here), so "
                                   "auto raised atol to that and passes")
    return None


def _within_floor(result: CheckResult, rounding: np.ndarray) -> CheckResult | None:
    """Step 4: a complex-step PASS that only its floor 64 eps max|f| allows is judged again with the
    rounding of the gradient's own terms as floor (a constant in f inflates max|f| but adds no noise
    to complex step, which subtracts nothing)."""
    if not result.passed:
        return None
    again = verdict(result.numerical, result.analytic, "complex", result.rtol, rounding, result.calls)
    return again.replace(note=("complex step's error exceeds rtol * M but not the rounding of the gradient's "
                               "own terms" if again.passed else
                               f"complex step passed only within its floor 64 eps max|f| = {result.atol:.3g}, "
                               f"which a constant in f inflates; the gradient's own terms round far less"))


def _richardson_decides(result: CheckResult, confirm: CheckResult) -> CheckResult:
    """Step 5: complex step failed. If richardson fails too, FAIL. If richardson passes and differs from
    complex step beyond its own tolerance, complex step erred where its check could not see (f not
    holomorphic as written): richardson's PASS. Else richardson passed only within its noise: FAIL."""
    if not confirm.passed:
        return result.replace(calls=confirm.calls, note=(result.note + "; " if result.note else "") +
                              f"confirmed by richardson (max rel error {confirm.max_rel_error:.3g})")
    gap = np.abs(result.numerical - confirm.numerical)
    if np.any(gap > confirm.tolerances):
        return confirm.replace(note=f"complex step differs from richardson by {gap.max():.3g}, beyond richardson's "
                                    f"tolerance: f is not holomorphic as written, so auto reports richardson, "
                                    f"which passes")
    return result.replace(calls=confirm.calls,
                          note=f"richardson passes only within its noise floor; it agrees with complex step "
                               f"to {gap.max():.3g}, so complex step's FAIL stands")


def _auto(ev: Evaluator, grad: np.ndarray, rtol: float | None, atol: float | None, seed: int) -> CheckResult:
    """Complex step if it is usable and confirmed, else richardson; a doubtful complex-step verdict
    is settled with richardson's estimate (module docstring, appendix "How auto decides")."""
    estimators.require_resolvable_steps(ev, "complex")
    estimate, why = _complex_step(ev, seed)
    if estimate is None:
        richardson = estimators.richardson(ev)
        return _failing(ev, _judge(ev, richardson, grad, rtol, atol, note=f"auto used richardson because "
                                                                          f"complex step is unusable: {why}"))
    result = _judge(ev, estimate, grad, rtol, atol)
    if _clean_pass(result) is not None or atol is not None and result.passed:
        return result
    richardson = estimators.richardson(ev)
    rounding = _term_rounding(ev, richardson)
    if atol is None:  # (a CheckResult is falsy when it fails: compare with None, never use "or")
        zero = _zero_up_to_rounding(result, rounding)
        settled = zero if zero is not None else _within_floor(result, rounding)
        if settled is not None and settled.passed:
            return settled.replace(calls=ev.calls)
        result = result if settled is None else settled
    return _failing(ev, _richardson_decides(result, _judge(ev, richardson, grad, rtol, atol)))


def _directional_check(ev: Evaluator, grad: np.ndarray, method: str, rtol: float | None, atol: float | None,
                       directions: int, seed: int) -> CheckResult:
    """``J w`` by finite differences against ``analytic . w`` for ``directions`` random unit ``w``;
    complex step is checked along each direction against real differences."""
    used = "richardson" if method == "auto" else method
    estimators.require_resolvable_steps(ev, used)
    rng = np.random.default_rng(seed)
    units, numerical, predicted, noise = [], [], [], []
    for _ in range(directions):
        u, sigma = estimators.random_direction(ev.x0, rng.standard_normal(ev.size))
        value, w, rounding = estimators.directional(ev, u, sigma, used)
        if used == "complex":
            holomorphy.agrees_along(ev, lambda _w, v=value: v, u, sigma, np.abs(value) * math.sqrt(ev.size))
        units.append(u.reshape(ev.shape))
        numerical.append(value[0])
        predicted.append(float(grad.reshape(-1) @ w))
        noise.append(rounding)
    floor = np.array(noise) if atol is None else atol
    note = "f returned the same value for every step until given a fresh copy of x: does it cache its input?" \
        if ev.fresh else ""
    result = verdict(np.array(numerical), np.array(predicted), used, RTOL[used] if rtol is None else rtol, floor,
                     ev.calls, note, direction_vectors=np.array(units))
    return _failing(ev, result)


def _check_tolerance(rule: str, name: str, value: Any) -> float | None:
    """``value`` as a float (None stays None), or a GradlibError unless it is a finite number >= 0."""
    if value is None:
        return None
    if not (is_int(value) or isinstance(value, (float, np.floating))) or not math.isfinite(value) or value < 0:
        raise rule_error(rule, f"{name} must be a finite number >= 0 or None, got {value!r}")
    return float(value)


def check_gradient(f: FloatFunction, x: Any, analytic: Any, *, method: str = "auto",
                   rtol: float | None = None, atol: float | None = None,
                   directions: int | None = None, seed: int = 0) -> CheckResult:
    r"""Compare an analytic gradient of a scalar ``f`` at ``x`` with finite differences.

    ``passed <=> |numerical_j - analytic_j| <= atol_j + rtol * M`` for every entry j, ``M =
    max(max|numerical|, max|analytic|)``; ``rtol`` defaults to the method's (complex 1e-9, richardson
    1e-7, central 1e-4), ``atol`` to each entry's rounding noise (module docstring). ``method``:
    ``"auto"`` (complex step where it is confirmed, richardson otherwise or to settle a doubtful
    verdict), ``"complex"``, ``"richardson"`` or ``"central"``. ``directions=k``: compare ``k`` seeded
    random directional derivatives instead of every entry (4 calls each, whatever x.size); ``seed``
    (an int >= 0) seeds the random directions. Bad input (wrong shape -- with a hint when it looks
    transposed or unsummed over a batch --, an x too large for any step, an f that fails or is
    random): GradlibError.
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
    if directions is not None and (not is_int(directions) or directions < 1):
        raise rule_error(rule, f"directions must be a positive int or None, got {directions!r}")
    if not is_int(seed) or seed < 0:
        raise rule_error(rule, f"seed must be an int >= 0, got {seed!r}")
    if directions is not None:
        return _directional_check(ev, grad, method, rtol, atol, int(directions), int(seed))
    if method == "auto":
        return _auto(ev, grad, rtol, atol, int(seed))
    estimate = jacobian(ev, method, int(seed))
    return _failing(ev, _judge(ev, estimate, grad, rtol, atol))
