r"""Finite-difference checks of gradients and Jacobians (float64 throughout).

Three estimates of the partial derivative of ``f`` along the flat entry ``x_j`` (``e_j`` its unit
vector, ``eps = 2**-52``, step scale ``s_j = max(1, sqrt|x_j|)``):

``"central"``     ``D(h) = (f(x + h e_j) - f(x - h e_j)) / 2h`` with ``h = eps**(1/3) s_j``: error
                  ``h**2 f'''/6`` (truncation) + ``~eps |f| / h`` (rounding). 2 calls per entry.
``"richardson"``  ``R = (4 D(h/2) - D(h)) / 3`` with ``h = 2**-10 s_j``: the ``h**2`` terms cancel,
                  leaving ``-h**4 f^(5) / 480`` + ``~1.5 eps |f| / h``. 4 calls per entry. Adaptive:
                  ``|D(h) - D(h/2)| ~ h**2 |f'''| / 8`` estimates the truncation of every entry for
                  free, and entries where it is large (a kink or a feature smaller than ``h``
                  nearby) are redone with ``h / 16`` -- so the cost is ``4n`` calls unless needed.
``"complex"``     ``Im f(x + i h e_j) / h`` with ``h = 1e-20 max(1, |x_j|)``: nothing is subtracted,
                  so the error is ``~eps |f'|``. 1 call per entry, but only correct if ``f`` is
                  holomorphic as written: ``abs``, comparisons, ``np.real``, ``float()`` and
                  ``conj`` break it *silently*. See :func:`check_gradient` for how ``"auto"`` copes.

Every step is taken on a private copy of ``x`` (the caller's array is never touched) and each
quotient is divided by the step actually taken, ``(x_j + h) - (x_j - h)`` in floating point, so
the quotient of a linear ``f`` is exact. Why ``sqrt|x_j|`` and not the usual ``|x_j|``: functions
that vary on a unit length scale (``sin``, ``tanh``, ``exp``) want a fixed step, power laws want one
proportional to ``|x|``; the geometric mean serves both. Measured at ``|x| = 1e3``: central errs by
2e-7 on ``sum(sin(3 x))`` with ``sqrt|x|`` but 6e-5 with ``|x|`` (and plain richardson by 0.2).
"""
from __future__ import annotations

import contextlib
import html
import math
import warnings
from dataclasses import dataclass, replace
from typing import Any, Callable, Sequence

import numpy as np

from ._validate import GradlibError, as_float_array, fail

__all__ = ["CheckResult", "check_gradient", "numerical_gradient", "numerical_jacobian"]

EPS = float(np.finfo(np.float64).eps)
METHODS = ("central", "richardson", "complex")
CHECK_METHODS = ("auto",) + METHODS

CENTRAL_STEP = EPS ** (1 / 3)  # ~6.1e-6: balances h**2 truncation against eps/h rounding
RICHARDSON_STEP = 2.0 ** -10  # ~9.8e-4, near eps**(1/5): balances h**4 against eps/h
COMPLEX_STEP = 1e-20
REFINE_TOL = 1e-5  # richardson redoes an entry whose truncation estimate exceeds this * max|R|
REFINE_FACTOR = 16
MAX_REFINE = 4

# Default tolerances (derivation in check_gradient): rtol against max|gradient|, and an
# absolute floor NOISE * max|f|, the rounding noise of the quotient (~eps |f| / h).
RTOL = {"central": 1e-4, "richardson": 1e-7, "complex": 1e-9}
NOISE = {"central": 64 * EPS / CENTRAL_STEP, "richardson": 64 * EPS / RICHARDSON_STEP, "complex": 64 * EPS}

FloatFunction = Callable[[np.ndarray], Any]
_UNSET = object()


class _ComplexStepInvalid(GradlibError):
    """f cannot be differentiated by complex step as written (it raised, warned or lost Im)."""


def _step_scale(x: np.ndarray) -> np.ndarray:
    """Per-entry step scale ``max(1, sqrt|x|)``."""
    return np.sqrt(np.maximum(1.0, np.abs(x)))


def _check_method(rule: str, method: Any, allowed: Sequence[str]) -> str:
    if not isinstance(method, str) or method not in allowed:
        raise fail(rule, f"method {method!r} is not one of {', '.join(repr(m) for m in allowed)}")
    return method


def _as_x(rule: str, x: Any) -> np.ndarray:
    """A private, C-contiguous float64 copy of ``x`` (integers promoted; never the caller's array)."""
    if type(x) is np.ndarray and x.dtype == np.float64 and x.size and np.isfinite(x).all():
        return np.array(x, order="C")  # the common case, without the general checks below
    array = as_float_array(rule, "x", x)
    if array.dtype.kind == "c":
        raise fail(rule, f"x of shape {array.shape} is complex; the checker differentiates real functions")
    if array.size == 0:
        raise fail(rule, f"x is empty (shape {array.shape}); there is nothing to differentiate")
    return np.array(array, dtype=np.float64, order="C", copy=True)


def _describe(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    return f"a {type(value).__name__}"


class _Evaluator:
    """Calls ``f`` at perturbed copies of ``x``, counts the calls, and turns every failure into a
    :class:`GradlibError` naming the checker function, x's shape and the cause."""

    def __init__(self, rule: str, f: FloatFunction, x0: np.ndarray, *, scalar: bool) -> None:
        if not callable(f):
            raise fail(rule, f"f must be callable, got {_describe(f)}")
        self.rule, self.f, self.x0, self.scalar = rule, f, x0, scalar
        self.shape, self.size = x0.shape, x0.size
        self.out_shape: tuple[int, ...] | None = None
        self.calls = 0
        self._outputs: list[np.ndarray] = []  # every value f returned, for largest_output()

    def largest_output(self) -> float:
        """``max|f|`` over every call so far (the real part, for complex step)."""
        return max((float(np.abs(values.real).max(initial=0.0)) for values in self._outputs), default=0.0)

    def _where(self, j: int | None) -> str:
        if j is None:
            return f"near x of shape {self.shape}"
        entry = tuple(int(i) for i in np.unravel_index(j, self.shape))
        return f"at x of shape {self.shape} with entry {entry} perturbed"

    def _failure(self, exc: Exception, out: Any, j: int | None, complex_step: bool) -> GradlibError:
        where = self._where(j)
        if not complex_step:
            if out is _UNSET:
                return fail(self.rule, f"f raised {type(exc).__name__}: {exc} {where}")
            return fail(self.rule, f"f returned {_describe(out)} {where}, which does not fit its "
                                   f"output shape {self.out_shape} ({exc})")
        if isinstance(exc, Warning):
            why = f"f emitted {type(exc).__name__} ({exc}) for complex input {where}"
        elif out is _UNSET:
            why = f"f raised {type(exc).__name__}: {exc} for complex input {where}"
        else:
            why = f"f returned {_describe(out)} for complex input {where} ({exc})"
        return _ComplexStepInvalid(f"{self.rule}: complex step unusable: {why}")

    def _not_finite(self, where: str, complex_step: bool) -> GradlibError:
        if complex_step:
            return _ComplexStepInvalid(f"{self.rule}: complex step unusable: f returned nan or inf for "
                                       f"complex input {where}")
        return fail(self.rule, f"f returned nan or inf {where}; the checker needs finite values near x")

    def _checked_output(self, out: Any, complex_step: bool, j: int | None) -> np.ndarray:
        """``out`` as an array, checked for dtype, scalar-ness and a consistent shape."""
        array = np.asarray(out)
        kind = array.dtype.kind
        if complex_step and kind != "c":
            raise _ComplexStepInvalid(
                f"{self.rule}: complex step unusable: f returned {_describe(out)} for complex input "
                f"{self._where(j)}, dropping the imaginary part (abs, np.real, norm, a real buffer)")
        if not complex_step and kind not in "biuf":
            what = "complex values" if kind == "c" else _describe(out)
            raise fail(self.rule, f"f returned {what} {self._where(j)}; f must return real numbers")
        if self.scalar and array.size != 1:
            raise fail(self.rule, f"f must return a scalar (size 1) but returned shape {array.shape}; "
                                  f"use numerical_jacobian for vector outputs")
        if self.out_shape is None:
            self.out_shape = array.shape
        elif array.shape != self.out_shape:
            raise fail(self.rule, f"f returned shape {array.shape} {self._where(j)} but shape "
                                  f"{self.out_shape} elsewhere")
        return array

    def stencil(self, points: np.ndarray, rows: np.ndarray | None = None, *,
                complex_step: bool = False) -> np.ndarray:
        """``out[k, j] = f(x with flat entry j set to points[k, j])`` for each ``j`` in ``rows``
        (default: all); ``points`` has shape ``(count, x.size)``. Returns an array of shape
        ``(len(points), x.size, *out_shape)``; its entries outside ``rows`` are unset.

        One private working copy of x is perturbed in place and restored after each entry.
        """
        f, n, count = self.f, self.size, len(points)
        todo = range(n) if rows is None else rows.tolist()
        dtype = np.complex128 if complex_step else np.float64
        work = self.x0.astype(dtype)
        flat = work.reshape(-1)
        base = flat.tolist()
        columns = points.tolist()
        j, out = todo[0], _UNSET
        with warnings.catch_warnings() if complex_step else contextlib.nullcontext():
            if complex_step:
                warnings.simplefilter("error")  # ComplexWarning from float()/astype & co.
            try:
                # the first entry fixes the output shape; then a lean loop (per-call cost ~0.2 us)
                for k, column in enumerate(columns):
                    flat[j] = column[j]
                    out = _UNSET
                    out = f(work)
                    if k == 0:
                        template = self._checked_output(out, complex_step, j)
                        block = np.empty((count, n) + template.shape, dtype)
                        strict = complex_step or template.shape != ()  # else numpy rejects a misfit
                    elif strict:
                        self._checked_output(out, complex_step, j)
                    block[k, j] = out
                flat[j] = base[j]
                pairs = list(zip(columns, block))
                for j in todo[1:]:
                    for column, slot in pairs:
                        flat[j] = column[j]
                        out = _UNSET
                        out = f(work)
                        if strict:
                            self._checked_output(out, complex_step, j)
                        slot[j] = out
                    flat[j] = base[j]
            except GradlibError:
                raise
            except Exception as exc:
                raise self._failure(exc, out, j, complex_step) from exc
        self.calls += len(todo) * count
        if flat.tolist() != base:
            raise fail(self.rule, f"f modified its argument (x of shape {self.shape}) in place; "
                                  f"it must leave its input unchanged")
        used = block if rows is None else block[:, rows]
        if not np.isfinite(used).all():
            finite = np.isfinite(used).reshape(count, len(todo), -1).all(axis=2)
            k, at = np.unravel_index(int(np.argmin(finite)), finite.shape)
            raise self._not_finite(f"{self._where(todo[at])} (stencil point {k + 1} of {count})", complex_step)
        self._outputs.append(used)  # only finite values: they set the tolerance floor
        return block

    def at(self, point: np.ndarray, *, complex_step: bool = False) -> np.ndarray:
        """``f(point).ravel()`` (one call) with the same checks as :meth:`stencil`."""
        dtype = np.complex128 if complex_step else np.float64
        work = np.array(point, dtype=dtype, order="C")
        out: Any = _UNSET
        with warnings.catch_warnings() if complex_step else contextlib.nullcontext():
            if complex_step:
                warnings.simplefilter("error")
            try:
                out = self.f(work)
                values = np.array(self._checked_output(out, complex_step, None), dtype=dtype).reshape(-1)
            except GradlibError:
                raise
            except Exception as exc:
                raise self._failure(exc, out, None, complex_step) from exc
        self.calls += 1
        if not np.isfinite(values).all():
            raise self._not_finite(self._where(None), complex_step)
        self._outputs.append(values)
        return values


# -- per-entry estimates ----------------------------------------------------------------------

_RICHARDSON_OFFSETS = np.array([[1.0], [-1.0], [0.5], [-0.5]])  # x + h, x - h, x + h/2, x - h/2


def _richardson_columns(ev: _Evaluator, h: np.ndarray, rows: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Columns ``rows`` (default: all) of ``R = (4 D(h/2) - D(h)) / 3`` and of the truncation
    estimate ``|D(h) - D(h/2)|``; 4 calls per column."""
    points = ev.x0.reshape(1, -1) + _RICHARDSON_OFFSETS * h
    block = ev.stencil(points, rows)
    if rows is not None:
        block, points = block[:, rows], points[:, rows]
    differences = (block[0::2] - block[1::2]).reshape(2, points.shape[1], -1).transpose(0, 2, 1)
    wide, narrow = differences / (points[0::2] - points[1::2])[:, None, :]  # D(h), D(h/2): (m, n) each
    change = narrow - wide
    return narrow + change / 3, np.abs(change)  # (4 D(h/2) - D(h)) / 3 = D(h/2) + (D(h/2) - D(h)) / 3


def _jacobian(ev: _Evaluator, method: str) -> np.ndarray:
    """Numerical Jacobian ``(out.size, x.size)`` by ``method``.

    richardson refines an entry when its truncation estimate ``|D(h) - D(h/2)|`` exceeds both
    ``REFINE_TOL * max|R|`` (over its output row) and the rounding noise ``64 eps max|f| / h``:
    it is redone with ``h / 16`` (4 more calls), up to ``MAX_REFINE`` times, while that helps.
    """
    x0, n = ev.x0.reshape(-1), ev.size
    if method == "complex":
        h = COMPLEX_STEP * np.maximum(1.0, np.abs(x0))
        values = ev.stencil((x0 + 1j * h)[None, :], complex_step=True).reshape(n, -1)
        return np.divide(values.imag.T, h)
    h = _step_scale(x0)
    if method == "central":
        h *= CENTRAL_STEP
        points = np.empty((2, n))
        np.add(x0, h, out=points[0])
        np.subtract(x0, h, out=points[1])
        block = ev.stencil(points).reshape(2, n, -1)
        return np.divide((block[0] - block[1]).T, points[0] - points[1])  # (m, n), C-contiguous
    h *= RICHARDSON_STEP
    jac, estimate = _richardson_columns(ev, h, None)
    settled = np.zeros(n, dtype=bool)
    for _ in range(MAX_REFINE if jac.size else 0):
        magnitude = np.abs(jac).max(axis=1)
        if estimate.max() <= REFINE_TOL * magnitude.min():
            break  # the common case: every entry is in the asymptotic regime
        rough = estimate > REFINE_TOL * magnitude[:, None]
        rough &= estimate > 64 * EPS * ev.largest_output() / h
        rows = np.flatnonzero(rough.any(axis=0) & ~settled)
        if rows.size == 0:
            break
        h[rows] /= REFINE_FACTOR
        finer, finer_estimate = _richardson_columns(ev, h, rows)
        better = finer_estimate.max(axis=0) < estimate[:, rows].max(axis=0)
        jac[:, rows[better]] = finer[:, better]
        estimate[:, rows[better]] = finer_estimate[:, better]
        h[rows[~better]] *= REFINE_FACTOR
        settled[rows[~better]] = True
    return jac


# -- directional estimates --------------------------------------------------------------------

def _random_direction(x0: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """A random unit direction ``u = s*g / ||s*g||`` (``g ~ N(0, I)``, ``s`` the step scale) and
    ``sigma = ||s*g|| / ||g||``: a step ``c sigma u`` moves entry j by ``c s_j g_j / ||g|| <= c s_j``."""
    g = rng.standard_normal(x0.size)
    v = _step_scale(x0.reshape(-1)) * g
    norm_v = float(np.linalg.norm(v))
    return v / norm_v, norm_v / float(np.linalg.norm(g))


def _difference(ev: _Evaluator, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``f(x+p) - f(x-p)`` and the step actually taken, ``(x+p) - (x-p)`` (2 calls)."""
    x0 = ev.x0.reshape(-1)
    plus, minus = x0 + p, x0 - p
    return ev.at(plus.reshape(ev.shape)) - ev.at(minus.reshape(ev.shape)), plus - minus


def _directional(ev: _Evaluator, u: np.ndarray, sigma: float, method: str) -> tuple[np.ndarray, np.ndarray]:
    """Estimate of ``J w`` along ``u`` with 1 (complex), 2 (central) or 4 (richardson) calls, and
    the direction ``w`` (= ``u`` up to rounding) it measures exactly for linear f.

    The estimate is ``sum_l c_l (f(x + p_l) - f(x - p_l))`` and ``w = sum_l c_l ((x + p_l) - (x - p_l))``.
    """
    if method == "complex":
        t = COMPLEX_STEP * sigma
        values = ev.at((ev.x0.reshape(-1) + 1j * t * u).reshape(ev.shape), complex_step=True)
        return values.imag / t, u
    if method == "central":
        t = CENTRAL_STEP * sigma
        df, dx = _difference(ev, t * u)
        return df / (2 * t), dx / (2 * t)
    t = RICHARDSON_STEP * sigma
    df1, dx1 = _difference(ev, t * u)
    df2, dx2 = _difference(ev, (t / 2) * u)
    return (4 * df2 / t - df1 / (2 * t)) / 3, (4 * dx2 / t - dx1 / (2 * t)) / 3


def _validated_complex_jacobian(ev: _Evaluator, rng: np.random.Generator) -> np.ndarray:
    """Complex-step Jacobian, cross-checked against real finite differences (n + 6 calls).

    Raises :class:`_ComplexStepInvalid` if f raised, warned, returned a real dtype or a non-finite
    value for complex input, or if ``J w`` along a seeded random direction disagrees with a
    two-level Richardson estimate ``R2`` beyond its error. With central differences
    ``D(t), D(t/2), D(t/4)``: ``R1 = (4 D(t/2) - D(t)) / 3``, ``R2 = (4 D(t/4) - D(t/2)) / 3``, and the
    bound is ``10 |R1 - R2| + 64 eps max|f| / (t/4) + 1e-9 ||J_i||``. Non-holomorphic code
    (``abs(x) * x``, ``x.conj()``, ``np.real`` mixed back in) errs by O(1) in the entries it touches.
    """
    jac = _jacobian(ev, "complex")
    u, sigma = _random_direction(ev.x0, rng)
    t = 2 * RICHARDSON_STEP * sigma
    levels = [_difference(ev, (t / 2 ** k) * u) for k in range(3)]
    d = [df / (t / 2 ** k) / 2 for k, (df, _) in enumerate(levels)]
    w = [dx / (t / 2 ** k) / 2 for k, (_, dx) in enumerate(levels)]
    r1, r2 = (4 * d[1] - d[0]) / 3, (4 * d[2] - d[1]) / 3
    predicted = jac @ ((4 * w[2] - w[1]) / 3)
    noise = 64 * EPS * ev.largest_output() / (t / 4)
    bound = 10 * np.abs(r1 - r2) + noise + 1e-9 * np.linalg.norm(jac, axis=1)
    excess = np.abs(predicted - r2) - bound
    if np.any(excess > 0):
        i = int(np.argmax(excess))
        raise _ComplexStepInvalid(
            f"{ev.rule}: complex step unusable: along a random direction it gives {predicted[i]:.12g} but "
            f"finite differences give {r2[i]:.12g}; f is not holomorphic as written (abs, a comparison, "
            f"np.real, conj, ...); use method 'richardson' or 'auto'")
    return jac


def _estimate(ev: _Evaluator, method: str, seed: int) -> np.ndarray:
    """The ``(out.size, x.size)`` Jacobian by ``method``; complex step is always cross-checked
    (along a direction drawn from ``default_rng(seed)``, made only then: it costs ~15 us)."""
    if method == "complex":
        return _validated_complex_jacobian(ev, np.random.default_rng(seed))
    return _jacobian(ev, method)


# -- public API --------------------------------------------------------------------------------

def numerical_jacobian(f: FloatFunction, x: Any, *, method: str = "central") -> np.ndarray:
    r"""Finite-difference Jacobian ``J[i, j] = d f(x).ravel()[i] / d x.ravel()[j]`` (numerator layout).

    Returns shape ``(f(x).size, x.size)``; ``x`` may have any shape (integers become float64) and is
    never modified. ``method`` (details in the module docstring): ``"central"``,
    ``(f(x + h e_j) - f(x - h e_j)) / 2h``, 2 calls of f per entry of x; ``"richardson"``,
    ``(4 D(h/2) - D(h)) / 3``, 4 calls (more only where needed); ``"complex"``, ``Im f(x + i h e_j) / h``,
    1 call plus 6 to confirm that f is holomorphic (a GradlibError says why if it is not).
    Bad input, or an f that raises or returns nan/inf: GradlibError.
    """
    rule = "numerical_jacobian"
    method = _check_method(rule, method, METHODS)
    return _estimate(_Evaluator(rule, f, _as_x(rule, x), scalar=False), method, 0)


def numerical_gradient(f: FloatFunction, x: Any, *, method: str = "central") -> np.ndarray:
    r"""Finite-difference gradient ``(d f / d x)`` of a scalar-valued ``f``, in x's shape.

    ``f`` must return a scalar (anything of size 1); methods as in :func:`numerical_jacobian`.
    """
    rule = "numerical_gradient"
    method = _check_method(rule, method, METHODS)
    ev = _Evaluator(rule, f, _as_x(rule, x), scalar=True)
    return _estimate(ev, method, 0).reshape(ev.shape)


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
    number of calls of f, ``note`` says why ``"auto"`` fell back or re-checked.
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
        if self.note:
            lines.append(f"  note: {self.note}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return _result_html(self)


def _magnitude(*arrays: np.ndarray) -> float:
    return float(max(np.abs(a).max() for a in arrays))


def _verdict(ev: _Evaluator, numerical: np.ndarray, analytic: np.ndarray, method: str, rtol: float | None,
             atol: float | None, note: str = "", direction_vectors: np.ndarray | None = None) -> CheckResult:
    rtol_used = RTOL[method] if rtol is None else rtol
    atol_used = NOISE[method] * ev.largest_output() if atol is None else atol
    error = np.abs(numerical - analytic)
    max_abs = float(error.max())
    magnitude = _magnitude(numerical, analytic)
    max_rel = max_abs / magnitude if magnitude > 0 else 0.0
    worst = np.unravel_index(int(np.argmax(error)), numerical.shape)
    return CheckResult(
        passed=bool(max_abs <= atol_used + rtol_used * magnitude), method=method, max_abs_error=max_abs,
        max_rel_error=max_rel, worst_index=tuple(int(i) for i in worst), numerical=numerical,
        analytic=analytic, rtol=rtol_used, atol=atol_used, calls=ev.calls, note=note,
        direction_vectors=direction_vectors)


def _check_tolerance(rule: str, name: str, value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not math.isfinite(value) or value < 0:
        raise fail(rule, f"{name} must be a finite number >= 0 or None, got {value!r}")
    return float(value)


def check_gradient(f: FloatFunction, x: Any, analytic: Any, *, method: str = "auto",
                   rtol: float | None = None, atol: float | None = None,
                   directions: int | None = None, seed: int = 0) -> CheckResult:
    r"""Compare an analytic gradient of a scalar ``f`` at ``x`` with finite differences.

    Normwise test: with ``M = max(max|numerical|, max|analytic|)`` and ``F = max|f|`` over the calls,
    ``passed  <=>  max_j |numerical_j - analytic_j| <= atol + rtol * M``. Defaults (``eps = 2**-52``):

    ==========  =====  ==============================  =======================================
    method      rtol   atol                            measured error / M (smooth f, |x|<=1e3)
    ==========  =====  ==============================  =======================================
    complex     1e-9   64 eps F                        ~1e-15: nothing is subtracted
    richardson  1e-7   64 eps F / 2**-10 (~1.4e-11 F)  <= 2e-9 (adaptive step, see module doc)
    central     1e-4   64 eps F / eps**(1/3)           ~1e-10 typically; 6e-5 for x**4 at 1e-3
    ==========  =====  ==============================  =======================================

    ``atol`` is the rounding noise ``~eps F / h`` of a difference quotient, so a (near) zero
    gradient raises no false alarm and scaling f changes nothing. An entry wrong by more than
    ``1e-6 M`` fails complex and richardson, whose errors sit >= 50x below their rtol (0 false
    alarms and 0 misses in 3,875 random smooth cases, shapes up to 4x4x4, 1e-3 <= |x| <= 1e3).
    Plain central cannot meet that bar: its truncation ``h**2 |f'''| / 6`` has no estimate and
    exceeds 1e-6 M on smooth functions (x**3, x**4 at |x| ~ 1e-3), so its rtol is 1e-4 (10x
    stricter than torch's gradcheck, still ~0.2% false alarms in those tiny-|x| cases);
    ``"auto"`` never uses it.

    ``method="auto"`` (the default) -- the most accurate valid method, found like this:
    (1) complex step with every call guarded: if f raises, warns (ComplexWarning from ``float()``,
    ``astype``) or returns a real dtype (``abs``, ``np.linalg.norm``, ``np.real``) or nan/inf for
    complex input, use richardson; (2) otherwise compare ``J w`` along a seeded random direction
    with a two-level Richardson directional derivative (6 calls) and use richardson if they differ
    beyond its error estimate (non-holomorphic code that keeps a complex dtype: ``abs(x) * x``,
    ``x.conj()``); (3) if the complex-step check fails, re-check with richardson and report FAIL
    only if that fails too. So complex step cannot cause a false alarm, and a false pass would need
    the analytic gradient to repeat complex step's own mistake below what step (2) resolves
    (~1e-9 of ||gradient|| along the direction; the mistakes above are O(1)).

    ``directions=k`` is the fast mode for big x: for ``k`` seeded random unit directions ``w`` it
    compares the directional derivative ``J w`` estimated by 4 calls of f (richardson:
    ``(4 D(t/2) - D(t)) / 3`` with ``D(t) = (f(x + t w) - f(x - t w)) / 2t``; "auto" means richardson;
    central uses 2 calls, complex 1 without the holomorphy cross-check) with ``analytic . w``, whatever
    x.size. ``numerical``/``analytic`` are then the k directional derivatives and ``worst_index`` is
    ``(direction,)``. A single entry wrong by ``e`` moves each of them by ``~e / sqrt(x.size)``.
    ``seed`` seeds the numpy Generator of the random directions (results are reproducible).
    """
    rule = "check_gradient"
    method = _check_method(rule, method, CHECK_METHODS)
    x0 = _as_x(rule, x)
    grad = as_float_array(rule, "analytic", analytic)
    if grad.dtype.kind == "c":
        raise fail(rule, f"analytic of shape {grad.shape} is complex; a real gradient is expected")
    if grad.shape != x0.shape:
        raise fail(rule, f"analytic is {grad.shape} but x is {x0.shape}; the gradient must have x's shape")
    grad = np.array(grad, dtype=np.float64)
    rtol = _check_tolerance(rule, "rtol", rtol)
    atol = _check_tolerance(rule, "atol", atol)
    if directions is not None and (isinstance(directions, bool) or not isinstance(directions, (int, np.integer))
                                   or directions < 1):
        raise fail(rule, f"directions must be a positive int or None, got {directions!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise fail(rule, f"seed must be an int, got {seed!r}")
    ev = _Evaluator(rule, f, x0, scalar=True)

    if directions is not None:
        rng = np.random.default_rng(int(seed))
        used = "richardson" if method == "auto" else method
        units, numerical, predicted = [], [], []
        for _ in range(int(directions)):
            u, sigma = _random_direction(x0, rng)
            estimate, w = _directional(ev, u, sigma, used)
            units.append(u.reshape(x0.shape))
            numerical.append(estimate[0])
            predicted.append(float(grad.reshape(-1) @ w))
        return _verdict(ev, np.array(numerical), np.array(predicted), used, rtol, atol,
                        direction_vectors=np.array(units))

    if method != "auto":
        return _verdict(ev, _estimate(ev, method, int(seed)).reshape(x0.shape), grad, method, rtol, atol)
    try:
        jac = _estimate(ev, "complex", int(seed))
    except _ComplexStepInvalid as why:
        jac = _jacobian(ev, "richardson")
        reason = str(why).split("complex step unusable: ", 1)[-1].split("; use method", 1)[0]
        return _verdict(ev, jac.reshape(x0.shape), grad, "richardson", rtol, atol,
                        note=f"auto used richardson because complex step is unusable: {reason}")
    result = _verdict(ev, jac.reshape(x0.shape), grad, "complex", rtol, atol)
    if result.passed:
        return result
    jac = _jacobian(ev, "richardson")
    confirm = _verdict(ev, jac.reshape(x0.shape), grad, "richardson", rtol, atol)
    if confirm.passed:
        return replace(confirm, note=f"complex step disagreed (max rel error {result.max_rel_error:.3g}) "
                                     f"but richardson passes, so auto reports richardson")
    return replace(result, calls=ev.calls,
                   note=f"confirmed by richardson (max rel error {confirm.max_rel_error:.3g})")


# -- HTML view ---------------------------------------------------------------------------------

_WINDOW = 12  # at most this many rows and columns of each table
_TABLE = "border-collapse:collapse;font-family:monospace;font-size:0.85em;color:inherit;background:transparent"
_CELL = "padding:1px 5px;text-align:right;border:1px solid rgba(128,128,128,0.4)"
_HEAD = _CELL + ";opacity:0.7;font-weight:normal"
_MISMATCH = "font-weight:bold;outline:2px solid #d62728;outline-offset:-2px;background:rgba(214,39,40,0.2)"
_WORST = "outline:3px double currentColor;outline-offset:-3px"
_WORST_MISMATCH = "font-weight:bold;outline:3px double #d62728;outline-offset:-3px;background:rgba(214,39,40,0.2)"


def _window(shape: tuple[int, ...], worst: tuple[int, ...]) -> tuple[tuple[int, ...], range, range, str]:
    """The 2-D slice (leading indices) and row/column ranges shown around the worst entry."""
    if len(shape) == 0:
        return (), range(1), range(1), ""
    lead = worst[:-2]
    rows_total, cols_total = (1, shape[0]) if len(shape) == 1 else shape[-2:]
    row, col = (0, worst[0]) if len(shape) == 1 else worst[-2:]
    r0 = min(max(row - _WINDOW // 2, 0), max(rows_total - _WINDOW, 0))
    c0 = min(max(col - _WINDOW // 2, 0), max(cols_total - _WINDOW, 0))
    rows, cols = range(r0, min(r0 + _WINDOW, rows_total)), range(c0, min(c0 + _WINDOW, cols_total))
    parts = []
    if lead:
        parts.append(f"the slice [{', '.join(map(str, lead))}, :, :] of the {'x'.join(map(str, shape))} array")
    if len(rows) < rows_total:
        parts.append(f"rows {rows.start}-{rows.stop - 1} of {rows_total}")
    if len(cols) < cols_total:
        parts.append(f"{'entries' if len(shape) == 1 else 'columns'} {cols.start}-{cols.stop - 1} of {cols_total}")
    note = ("Showing " + ", ".join(parts) + ", around the worst entry.") if parts else ""
    return lead, rows, cols, note


def _table(title: str, values: np.ndarray, result: CheckResult, kind: str) -> str:
    shape, worst = values.shape, result.worst_index
    lead, rows, cols, _ = _window(shape, worst)
    grid = values.reshape(1, 1) if values.ndim == 0 else values[None, :] if values.ndim == 1 else values[lead]
    bad_all = result.mismatched
    bad = bad_all.reshape(1, 1) if bad_all.ndim == 0 else bad_all[None, :] if bad_all.ndim == 1 else bad_all[lead]
    worst_rc = (0, 0) if not worst else (0, worst[0]) if len(worst) == 1 else worst[-2:]
    head = "".join(f'<th style="{_HEAD}">{c}</th>' for c in cols)
    out = [f'<table class="gradlib-table gradlib-{kind}" style="{_TABLE}">',
           f'<caption style="caption-side:top;text-align:left;font-weight:bold">{html.escape(title)}</caption>',
           f'<tr><th style="{_HEAD}"></th>{head}</tr>']
    for r in rows:
        label = r if values.ndim >= 2 else ""
        cells = []
        for c in cols:
            value = float(grid[r, c])
            text = f"{value:+.2e}" if kind == "difference" else f"{value:.8g}"
            classes, style = ["gradlib-cell"], _CELL
            is_worst = (r, c) == tuple(worst_rc)
            if bad[r, c]:
                classes.append("gradlib-mismatch")
            if is_worst:
                classes.append("gradlib-worst")
                text = "\u25c6 " + text
            if bad[r, c] or is_worst:
                style += ";" + (_WORST_MISMATCH if bad[r, c] and is_worst else _WORST if is_worst else _MISMATCH)
            cells.append(f'<td class="{" ".join(classes)}" style="{style}" title="{value!r}">{html.escape(text)}</td>')
        out.append(f'<tr><th style="{_HEAD}">{label}</th>{"".join(cells)}</tr>')
    out.append("</table>")
    return "".join(out)


def _result_html(result: CheckResult) -> str:
    """Numerical, analytic and their difference side by side; mismatched entries bold and outlined."""
    what, mode = result._labels()
    verdict = "PASS" if result.passed else "FAIL"
    summary = (f"<strong>{verdict}</strong> &mdash; method <code>{html.escape(result.method)}</code>"
               f"{html.escape(mode)}, {result.calls} calls of f; max abs error {result.max_abs_error:.3g} "
               f"(tolerance {result.tolerance:.3g}), max rel error {result.max_rel_error:.3g}; "
               f"worst {what} {html.escape(str(result.worst_index))}: numerical "
               f"{float(result.numerical[result.worst_index])!r}, analytic "
               f"{float(result.analytic[result.worst_index])!r}")
    directional = result.direction_vectors is not None
    names = ("numerical J w", "analytic \u00b7 w") if directional else ("numerical", "analytic")
    tables = "".join(f'<div>{_table(title, values, result, kind)}</div>' for title, values, kind in [
        (names[0], result.numerical, "numerical"), (names[1], result.analytic, "analytic"),
        ("numerical \u2212 analytic", result.numerical - result.analytic, "difference")])
    window_note = _window(result.numerical.shape, result.worst_index)[3]
    legend = (f'Legend: <span class="gradlib-mismatch" style="{_CELL};{_MISMATCH}">bold, solid outline</span> '
              f'= outside the tolerance; <span class="gradlib-worst" style="{_CELL};{_WORST}">\u25c6 double '
              f'outline</span> = the worst {what}. Hover a value for all its digits.')
    parts = [f'<div class="gradlib-check" style="color:inherit;background:transparent;line-height:1.4">',
             f'<div class="gradlib-summary">{summary}</div>']
    if result.note:
        parts.append(f'<div class="gradlib-note">Note: {html.escape(result.note)}</div>')
    parts.append(f'<div style="display:flex;flex-wrap:wrap;gap:1em;margin:0.4em 0">{tables}</div>')
    if window_note:
        parts.append(f'<div class="gradlib-window">{html.escape(window_note)}</div>')
    parts.append(f'<div class="gradlib-legend">{legend}</div></div>')
    return "".join(parts)
