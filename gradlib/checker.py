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

import cmath
import functools
import html
import math
import re
import warnings
from dataclasses import dataclass, replace
from typing import Any, Callable, Iterable, Sequence

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
    """Per-entry step scale ``max(1, sqrt|x|)`` (a new array)."""
    scale = np.abs(x)
    np.maximum(scale, 1.0, out=scale)
    return np.sqrt(scale, out=scale)


def _all_finite(values: np.ndarray) -> bool:
    """Whether every entry is finite, in one pass and without warnings: ``sum |v|**2`` (a BLAS dot
    product) is finite only if every entry is -- nan and inf propagate, and no ``inf - inf`` can
    arise; only if it overflowed does the exact test decide."""
    return cmath.isfinite(np.vdot(values, values)) or bool(np.isfinite(values).all())


def _check_method(rule: str, method: Any, allowed: Sequence[str]) -> str:
    if not isinstance(method, str) or method not in allowed:
        raise fail(rule, f"method {method!r} is not one of {', '.join(repr(m) for m in allowed)}")
    return method


def _real_copy(rule: str, name: str, value: Any, why: str) -> np.ndarray:
    """A private, C-contiguous float64 copy of a real, finite array (integers promoted)."""
    if type(value) is np.ndarray and value.dtype == np.float64 and _all_finite(value):
        return value.copy()  # the common case, without the general checks below
    array = as_float_array(rule, name, value)
    if array.dtype.kind == "c":
        raise fail(rule, f"{name} of shape {array.shape} is complex; {why}")
    return np.array(array, dtype=np.float64, order="C", copy=True)


def _describe(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    return f"a {type(value).__name__}"


_WHOLE = np.array([], dtype=np.intp)  # stencil(entries=_WHOLE): the rows hold whole points, not entries
_SCALARS = (int, float, complex, np.generic)  # immutable: a value of a type already checked needs no check


class _Evaluator:
    """Calls ``f`` at perturbed versions of its private copy of ``x``, counts the calls, and turns
    every failure into a :class:`GradlibError` naming the checker function, x's shape and the cause."""

    __slots__ = ("rule", "f", "scalar", "shape", "size", "x0", "x0_values", "out_shape", "calls", "_outputs")

    def __init__(self, rule: str, f: FloatFunction, x: Any, *, scalar: bool, per_entry: bool = True) -> None:
        """``per_entry=False``: only whole points will be evaluated (directional mode), so the list of
        x's entries, which per-entry stencils restore x from, is not made up front."""
        if not callable(f):
            raise fail(rule, f"f must be callable, got {_describe(f)}")
        x0, values = None, None
        if per_entry and type(x) is np.ndarray and x.dtype == np.float64:
            # the common case: the entries the stencils need also show that x is finite, as their sum
            # is finite only if each is (nan and inf propagate; a sum that overflowed: the general path)
            values = x.ravel().tolist()
            if math.isfinite(sum(values)):
                x0 = x.copy()
        if x0 is None:
            x0, values = _real_copy(rule, "x", x, "the checker differentiates real functions"), None
        if x0.size == 0:
            raise fail(rule, f"x is empty (shape {x0.shape}); there is nothing to differentiate")
        self.rule, self.f, self.scalar = rule, f, scalar
        self.shape, self.size = x0.shape, x0.size
        self.x0 = x0.reshape(-1)  # flat and private (never the caller's x): stencils perturb and restore it
        self.x0_values: list[float] | None = values  # x0.tolist(), else made by the first per-entry stencil
        self.out_shape: tuple[int, ...] | None = None
        self.calls = 0
        self._outputs: list[np.ndarray] = []  # every value f returned, for largest_output()

    def largest_output(self) -> float:
        """``max|f|`` over every call so far (the real part, for complex step)."""
        largest = max((float(np.abs(values.real).max(initial=0.0)) for values in self._outputs), default=0.0)
        self._outputs = [np.array([largest])]  # all that later calls need
        return largest

    def _where(self, index: int | slice) -> str:
        if not isinstance(index, int):
            return f"near x of shape {self.shape}"
        entry = tuple(int(i) for i in np.unravel_index(index, self.shape))
        return f"at x of shape {self.shape} with entry {entry} perturbed"

    def _failure(self, exc: Exception, out: Any, index: int | slice, complex_step: bool) -> GradlibError:
        where = self._where(index)
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

    def _checked_output(self, out: Any, complex_step: bool, index: int | slice) -> Any:
        """``out`` checked for dtype, scalar-ness and a consistent shape; an array is copied (f
        may return a view of its argument), an immutable scalar returned as it is."""
        if type(out) is np.float64 and not complex_step and self.out_shape in (None, ()):
            self.out_shape = ()  # the usual case, settled without the general checks below
            return out
        array = np.asarray(out)
        kind = array.dtype.kind
        if complex_step and kind != "c":
            raise _ComplexStepInvalid(
                f"{self.rule}: complex step unusable: f returned {_describe(out)} for complex input "
                f"{self._where(index)}, dropping the imaginary part (abs, np.real, norm, a real buffer)")
        if not complex_step and kind not in "biuf":
            what = "complex values" if kind == "c" else _describe(out)
            raise fail(self.rule, f"f returned {what} {self._where(index)}; f must return real numbers")
        if self.scalar and array.size != 1:
            raise fail(self.rule, f"f must return a scalar (size 1) but returned shape {array.shape}; "
                                  f"use numerical_jacobian for vector outputs")
        if self.out_shape is None:
            self.out_shape = array.shape
        elif array.shape != self.out_shape:
            raise fail(self.rule, f"f returned shape {array.shape} {self._where(index)} but shape "
                                  f"{self.out_shape} elsewhere")
        if isinstance(out, _SCALARS):
            return out
        return np.array(array, dtype=np.complex128 if complex_step else np.float64)

    def stencil(self, rows: Iterable[Sequence[Any]], entries: np.ndarray | None = None, *,
                complex_step: bool = False) -> np.ndarray:
        """Call f with flat entry ``j`` of a private working copy of x set to each value of its row
        in turn (then back), for the ``j`` in ``entries`` (default: all of x) and their rows of
        values; with ``entries=_WHOLE`` the one row holds whole points. Returns f's values in call
        order (entry by entry), shape ``(calls,)`` for a scalar f, else ``(calls, out.size)``.

        f's first value, every array and every change of type is checked (arrays are copied: f
        may return a view of its argument); later values of a checked scalar type need no check.
        Finiteness and (per entry) an in-place change of x are checked once, at the end.
        """
        whole = entries is _WHOLE
        if whole:
            indices, restores = [slice(None)], [self.x0]
        else:
            if self.x0_values is None:
                self.x0_values = self.x0.tolist()
            if entries is None:
                indices, restores = range(self.size), self.x0_values
            else:
                indices, restores = entries.tolist(), self.x0[entries].tolist()
        dtype = np.complex128 if complex_step else np.float64
        # what f is given: per entry (real), x's private copy itself, perturbed and restored entry by
        # entry (also if f fails); complex values or whole points, a copy of it
        flat = self.x0.astype(dtype) if complex_step or whole else self.x0
        work = flat.reshape(self.shape)
        f, outputs = self.f, []
        append = outputs.append
        checked_type: type | None = None
        index, restore, out = indices[0], restores[0], _UNSET
        # complex step: every warning is an error (ComplexWarning from float(), astype & co.);
        # real: a memoryview sets one float ~3x faster than numpy's indexing (it has no complex format)
        with warnings.catch_warnings() if complex_step else memoryview(flat) as view:
            if complex_step:
                warnings.simplefilter("error")
            setter = flat if complex_step else view
            try:
                for index, row, restore in zip(indices, rows, restores):
                    for value in row:
                        setter[index] = value
                        try:
                            out = f(work)
                        except Exception as exc:
                            raise self._failure(exc, _UNSET, index, complex_step) from exc
                        if type(out) is not checked_type:  # the first value, arrays, a change of type
                            checked_type = type(out) if isinstance(out, _SCALARS) else None
                            out = self._checked_output(out, complex_step, index)
                        append(out)
                    setter[index] = restore
            except Exception as exc:
                setter[index] = restore
                if isinstance(exc, GradlibError):
                    raise
                raise self._failure(exc, out, index, complex_step) from exc  # f returned something unreadable
        self.calls += len(outputs)
        if not whole and flat.tolist() != self.x0_values:  # (whole points overwrite all of x anyway)
            flat[:] = self.x0_values
            raise fail(self.rule, f"f modified its argument (x of shape {self.shape}) in place; "
                                  f"it must leave its input unchanged")
        block = np.array(outputs, dtype=dtype)
        if not _all_finite(block):
            count = len(block) // len(indices)
            at, k = divmod(int(np.argmin(np.isfinite(block).reshape(len(block), -1).all(axis=1))), count)
            raise self._not_finite(f"{self._where(indices[at])} (stencil point {k + 1} of {count})", complex_step)
        self._outputs.append(block)  # only finite values: they set the tolerance floor
        return block if block.ndim < 3 else block.reshape(len(block), -1)

    def evaluate(self, points: np.ndarray, *, complex_step: bool = False) -> np.ndarray:
        """``out[k] = f(points[k]).ravel()`` for whole points of shape ``(count, x.size)``."""
        return self.stencil([points], _WHOLE, complex_step=complex_step).reshape(len(points), -1)


# -- per-entry estimates ----------------------------------------------------------------------

def _richardson_columns(ev: _Evaluator, h: np.ndarray, entries: np.ndarray | None = None) -> np.ndarray:
    """Columns ``entries`` (default: all) of the change ``D(h/2) - D(h)`` (its size estimates the
    truncation error) and of ``R = (4 D(h/2) - D(h)) / 3 = D(h/2) + change / 3``, stacked: shape
    ``(2, out.size, entries)``. 4 calls per column, at ``x + h, x - h, x + h/2, x - h/2``."""
    x0 = ev.x0 if entries is None else ev.x0[entries]
    if entries is not None:
        h = h[entries]
    half = h * 0.5
    a, b, c, d = x0 + h, x0 - h, x0 + half, x0 - half
    values = ev.stencil(zip(a.tolist(), b.tolist(), c.tolist(), d.tolist()), entries)
    differences = values[0::2] - values[1::2]  # f(x + h) - f(x - h), f(x + h/2) - f(x - h/2), entry by entry
    wide, narrow = differences[0::2].T / (a - b), differences[1::2].T / (c - d)  # D(h), D(h/2)
    both = np.empty((2, narrow.size // len(x0), len(x0)))
    change, jac = both[0], both[1]
    np.subtract(narrow, wide, out=change)
    np.divide(change, 3, out=jac)
    jac += narrow
    return both


def _jacobian(ev: _Evaluator, method: str) -> np.ndarray:
    """Numerical Jacobian ``(out.size, x.size)`` by ``method``; each difference quotient is divided
    by the step actually taken, ``(x_j + h) - (x_j - h)``, which makes it exact for a linear f.

    richardson refines an entry when its truncation estimate ``|D(h) - D(h/2)|`` exceeds both
    ``REFINE_TOL * max|R|`` (over its output row) and the rounding noise ``64 eps max|f| / h``:
    it is redone with ``h / 16`` (4 more calls), up to ``MAX_REFINE`` times, while that helps.
    """
    x0, n = ev.x0, ev.size
    if method == "complex":
        h = COMPLEX_STEP * np.maximum(1.0, np.abs(x0))
        values = ev.stencil(zip((x0 + 1j * h).tolist()), complex_step=True)
        return (values.T.imag / h).reshape(-1, n)
    h = _step_scale(x0)
    if method == "central":
        h *= CENTRAL_STEP
        plus, minus = x0 + h, x0 - h
        values = ev.stencil(zip(plus.tolist(), minus.tolist()))
        return ((values[0::2] - values[1::2]).T / (plus - minus)).reshape(-1, n)
    h *= RICHARDSON_STEP
    both = _richardson_columns(ev, h)  # the change D(h/2) - D(h) and R
    settled = None  # entries a finer step did not improve, once there is a refinement
    for _ in range(MAX_REFINE if both.size else 0):
        row_change, row_magnitude = np.maximum.reduce(np.abs(both), axis=2).tolist()  # per output row
        if max(row_change) <= REFINE_TOL * min(row_magnitude):
            break  # the common case: every entry is in the asymptotic regime
        settled = np.zeros(n, dtype=bool) if settled is None else settled
        change, jac = both[0], both[1]  # views: refining an entry updates both
        estimate = np.abs(change)
        rough = estimate > REFINE_TOL * np.array(row_magnitude)[:, None]
        rough &= estimate > 64 * EPS * ev.largest_output() / h
        rows = np.flatnonzero(rough.any(axis=0) & ~settled)
        if rows.size == 0:
            break
        h[rows] /= REFINE_FACTOR
        finer_change, finer = _richardson_columns(ev, h, rows)
        better = np.abs(finer_change).max(axis=0) < estimate[:, rows].max(axis=0)
        jac[:, rows[better]] = finer[:, better]
        change[:, rows[better]] = finer_change[:, better]
        h[rows[~better]] *= REFINE_FACTOR
        settled[rows[~better]] = True
    return both[1]


# -- directional estimates --------------------------------------------------------------------

def _random_direction(x0: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, float]:
    """The unit direction ``u = s*g / ||s*g||`` for a draw ``g ~ N(0, I)`` (``s`` the step scale) and
    ``sigma = ||s*g|| / ||g||``: a step ``c sigma u`` moves entry j by ``c s_j g_j / ||g|| <= c s_j``."""
    v = _step_scale(x0.reshape(-1)) * g
    norm_v = float(np.linalg.norm(v))
    return v / norm_v, norm_v / float(np.linalg.norm(g))


def _differences(ev: _Evaluator, u: np.ndarray, steps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``f(x + t u) - f(x - t u)`` for each ``t`` in ``steps`` (2 calls each), shape ``(steps, out.size)``,
    and the steps actually taken, ``(x + t u) - (x - t u)``, shape ``(steps, x.size)``."""
    x0 = ev.x0
    p = np.multiply.outer(steps, u)
    plus, minus = x0 + p, x0 - p
    values = ev.evaluate(np.stack((plus, minus), axis=1).reshape(-1, ev.size))
    return values[0::2] - values[1::2], plus - minus


def _directional(ev: _Evaluator, u: np.ndarray, sigma: float, method: str) -> tuple[np.ndarray, np.ndarray]:
    """Estimate of ``J w`` along ``u`` with 1 (complex), 2 (central) or 4 (richardson) calls, and
    the direction ``w`` (= ``u`` up to rounding) it measures exactly for linear f.

    The estimate is ``sum_l c_l (f(x + p_l) - f(x - p_l))`` and ``w = sum_l c_l ((x + p_l) - (x - p_l))``.
    """
    if method == "complex":
        t = COMPLEX_STEP * sigma
        values = ev.evaluate((ev.x0 + 1j * t * u)[None, :], complex_step=True)
        return values[0].imag / t, u
    if method == "central":
        t = CENTRAL_STEP * sigma
        df, dx = _differences(ev, u, np.array([t]))
        return df[0] / (2 * t), dx[0] / (2 * t)
    t = RICHARDSON_STEP * sigma
    (df1, df2), (dx1, dx2) = _differences(ev, u, np.array([t, t / 2]))
    return (4 * df2 / t - df1 / (2 * t)) / 3, (4 * dx2 / t - dx1 / (2 * t)) / 3


def _validated_complex_jacobian(ev: _Evaluator, seed: int) -> np.ndarray:
    """Complex-step Jacobian, cross-checked against real finite differences (n + 6 calls).

    Raises :class:`_ComplexStepInvalid` if f raised, warned, returned a real dtype or a non-finite
    value for complex input, or if ``J w`` along a seeded random direction disagrees with a
    two-level Richardson estimate ``R2`` beyond its error. With central differences
    ``D(t), D(t/2), D(t/4)``: ``R1 = (4 D(t/2) - D(t)) / 3``, ``R2 = (4 D(t/4) - D(t/2)) / 3``, and the
    bound is ``10 |R1 - R2| + 64 eps max|f| / (t/4) + 1e-9 ||J_i||``. Non-holomorphic code
    (``abs(x) * x``, ``x.conj()``, ``np.real`` mixed back in) errs by O(1) in the entries it touches.
    """
    jac = _jacobian(ev, "complex")
    u, sigma = _random_direction(ev.x0, _gaussian(seed, ev.size))
    t = 2 * RICHARDSON_STEP * sigma
    steps = np.array([t, t / 2, t / 4])
    df, dx = _differences(ev, u, steps)
    d, w = df / steps[:, None] / 2, dx / steps[:, None] / 2  # D(t), D(t/2), D(t/4) and their directions
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


@functools.lru_cache(maxsize=4)
def _gaussian(seed: int, size: int) -> np.ndarray:
    """``default_rng(seed).standard_normal(size)``, drawn once per (seed, size): seeding a Generator
    costs more (~8 us) than a small check."""
    g = np.random.default_rng(seed).standard_normal(size)
    g.flags.writeable = False
    return g


def _estimate(ev: _Evaluator, method: str, seed: int) -> np.ndarray:
    """The ``(out.size, x.size)`` Jacobian by ``method``; complex step is always cross-checked
    along the random direction drawn from ``default_rng(seed)``."""
    if method == "complex":
        return _validated_complex_jacobian(ev, seed)
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
    return _estimate(_Evaluator(rule, f, x, scalar=False), method, 0)


def numerical_gradient(f: FloatFunction, x: Any, *, method: str = "central") -> np.ndarray:
    r"""Finite-difference gradient ``(d f / d x)`` of a scalar-valued ``f``, in x's shape.

    ``f`` must return a scalar (anything of size 1); methods as in :func:`numerical_jacobian`.
    """
    rule = "numerical_gradient"
    method = _check_method(rule, method, METHODS)
    ev = _Evaluator(rule, f, x, scalar=True)
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
    ev = _Evaluator(rule, f, x, scalar=True, per_entry=directions is None)
    grad = _real_copy(rule, "analytic", analytic, "a real gradient is expected")
    if grad.shape != ev.shape:
        raise fail(rule, f"analytic is {grad.shape} but x is {ev.shape}; the gradient must have x's shape")
    rtol = _check_tolerance(rule, "rtol", rtol)
    atol = _check_tolerance(rule, "atol", atol)
    if directions is not None and (isinstance(directions, bool) or not isinstance(directions, (int, np.integer))
                                   or directions < 1):
        raise fail(rule, f"directions must be a positive int or None, got {directions!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise fail(rule, f"seed must be an int, got {seed!r}")

    if directions is not None:
        rng = np.random.default_rng(int(seed))
        used = "richardson" if method == "auto" else method
        units, numerical, predicted = [], [], []
        for _ in range(int(directions)):
            u, sigma = _random_direction(ev.x0, rng.standard_normal(ev.size))
            estimate, w = _directional(ev, u, sigma, used)
            units.append(u.reshape(ev.shape))
            numerical.append(estimate[0])
            predicted.append(float(grad.reshape(-1) @ w))
        return _verdict(ev, np.array(numerical), np.array(predicted), used, rtol, atol,
                        direction_vectors=np.array(units))

    if method != "auto":
        return _verdict(ev, _estimate(ev, method, int(seed)).reshape(ev.shape), grad, method, rtol, atol)
    try:
        jac = _estimate(ev, "complex", int(seed))
    except _ComplexStepInvalid as why:
        jac = _jacobian(ev, "richardson")
        reason = str(why).split("complex step unusable: ", 1)[-1].split("; use method", 1)[0]
        return _verdict(ev, jac.reshape(ev.shape), grad, "richardson", rtol, atol,
                        note=f"auto used richardson because complex step is unusable: {reason}")
    result = _verdict(ev, jac.reshape(ev.shape), grad, "complex", rtol, atol)
    if result.passed:
        return result
    jac = _jacobian(ev, "richardson")
    confirm = _verdict(ev, jac.reshape(ev.shape), grad, "richardson", rtol, atol)
    if confirm.passed:
        return replace(confirm, note=f"complex step disagreed (max rel error {result.max_rel_error:.3g}) "
                                     f"but richardson passes, so auto reports richardson")
    return replace(result, calls=ev.calls,
                   note=f"confirmed by richardson (max rel error {confirm.max_rel_error:.3g})")


# -- HTML view ---------------------------------------------------------------------------------
# Colours: every element inherits the page's text colour and background (light or dark, book or
# JupyterLab), also where a theme styles captions, code or table cells; the only colours set are a
# translucent red tint under mismatched cells (the inherited text keeps >= 7:1 contrast on light and
# dark pages) and red outlines. A mismatch is also bold and outlined, the worst entry marked with a
# diamond, so nothing depends on colour alone. Layout: compact cells, and the three tables wrap.

_ROWS, _COLUMNS = 12, 8  # at most this many rows and columns per table (6-8 columns fit a 700 px page)
_INHERIT = "color:inherit;background:transparent"
_TABLE = f"border-collapse:collapse;font-family:monospace;font-size:0.8em;margin:0;{_INHERIT}"
_CAPTION = f"caption-side:top;text-align:left;font-weight:bold;white-space:nowrap;padding:0 0 0.2em;{_INHERIT}"
_CELL = f"padding:1px 4px;text-align:right;white-space:nowrap;border:1px solid rgba(128,128,128,0.5);{_INHERIT}"
_HEAD = _CELL + ";font-weight:normal;font-style:italic"
_TINT = "background:rgba(214,39,40,0.2)"
_MISMATCH = f"font-weight:bold;outline:2px solid #d62728;outline-offset:-2px;{_TINT}"
_WORST = "outline:3px double currentColor;outline-offset:-3px"
_WORST_MISMATCH = f"font-weight:bold;outline:3px double #d62728;outline-offset:-3px;{_TINT}"


def _window(shape: tuple[int, ...], worst: tuple[int, ...]) -> tuple[tuple[int, ...], range, range, str]:
    """The 2-D slice (leading indices) and row/column ranges shown around the worst entry; a 1-D
    array is shown as a column (its entries are the rows)."""
    if len(shape) == 0:
        return (), range(1), range(1), ""
    lead = worst[:-2]
    rows_total, cols_total = (shape[0], 1) if len(shape) == 1 else shape[-2:]
    row, col = (worst[0], 0) if len(shape) == 1 else worst[-2:]
    r0 = min(max(row - _ROWS // 2, 0), max(rows_total - _ROWS, 0))
    c0 = min(max(col - _COLUMNS // 2, 0), max(cols_total - _COLUMNS, 0))
    rows, cols = range(r0, min(r0 + _ROWS, rows_total)), range(c0, min(c0 + _COLUMNS, cols_total))
    parts = []
    if lead:
        parts.append(f"the slice [{', '.join(map(str, lead))}, :, :] of the {'x'.join(map(str, shape))} array")
    if len(rows) < rows_total:
        parts.append(f"{'entries' if len(shape) == 1 else 'rows'} {rows.start}-{rows.stop - 1} of {rows_total}")
    if len(cols) < cols_total:
        parts.append(f"columns {cols.start}-{cols.stop - 1} of {cols_total}")
    note = ("Showing " + ", ".join(parts) + ", around the worst entry.") if parts else ""
    return lead, rows, cols, note


def _short(value: float, kind: str) -> str:
    """A value in few characters (hover shows all its digits): 6 significant digits, a difference
    with 2 and a sign, exponents without padding zeros (``1.5e-5``, not ``1.5e-05``)."""
    return re.sub(r"e([+-])0+(?=\d)", r"e\1", f"{value:+.2g}" if kind == "difference" else f"{value:.6g}")


def _grid(values: np.ndarray, lead: tuple[int, ...]) -> np.ndarray:
    """``values`` as the 2-D grid a table shows: a scalar as 1 x 1, a vector as a column."""
    return values.reshape(1, 1) if values.ndim == 0 else values[:, None] if values.ndim == 1 else values[lead]


def _table(title: str, values: np.ndarray, result: CheckResult, kind: str) -> str:
    shape, worst = values.shape, result.worst_index
    lead, rows, cols, _ = _window(shape, worst)
    grid, bad = _grid(values, lead), _grid(result.mismatched, lead)
    worst_rc = (0, 0) if not worst else (worst[0], 0) if len(worst) == 1 else tuple(worst[-2:])
    out = [f'<table class="gradlib-table gradlib-{kind}" style="{_TABLE}">',
           f'<caption style="{_CAPTION}">{html.escape(title)}</caption>']
    if values.ndim >= 2:
        head = "".join(f'<th style="{_HEAD}">{c}</th>' for c in cols)
        out.append(f'<tr><th style="{_HEAD}"></th>{head}</tr>')
    for r in rows:
        cells = []
        for c in cols:
            value = float(grid[r, c])
            text = _short(value, kind)
            classes, style = ["gradlib-cell"], _CELL
            is_worst = (r, c) == worst_rc
            if bad[r, c]:
                classes.append("gradlib-mismatch")
            if is_worst:
                classes.append("gradlib-worst")
                text = "\u25c6\u00a0" + text
            if bad[r, c] or is_worst:
                style += ";" + (_WORST_MISMATCH if bad[r, c] and is_worst else _WORST if is_worst else _MISMATCH)
            cells.append(f'<td class="{" ".join(classes)}" style="{style}" title="{value!r}">{html.escape(text)}</td>')
        label = r if values.ndim >= 1 else ""
        out.append(f'<tr><th style="{_HEAD}">{label}</th>{"".join(cells)}</tr>')
    out.append("</table>")
    return "".join(out)


def _result_html(result: CheckResult) -> str:
    """Numerical, analytic and their difference side by side; mismatched entries bold and outlined."""
    what, mode = result._labels()
    verdict = "PASS" if result.passed else "FAIL"
    summary = (f"<strong>{verdict}</strong> &mdash; method <code style=\"{_INHERIT};font-size:inherit\">"
               f"{html.escape(result.method)}</code>{html.escape(mode)}, {result.calls} calls of f; max abs "
               f"error {result.max_abs_error:.3g} (tolerance {result.tolerance:.3g}), max rel error "
               f"{result.max_rel_error:.3g}; worst {what} {html.escape(str(result.worst_index))}: numerical "
               f"{float(result.numerical[result.worst_index])!r}, analytic "
               f"{float(result.analytic[result.worst_index])!r}")
    directional = result.direction_vectors is not None
    names = ("numerical J w", "analytic \u00b7 w") if directional else ("numerical", "analytic")
    tables = "".join(f'<div style="max-width:100%;overflow-x:auto">{_table(title, values, result, kind)}</div>'
                     for title, values, kind in [
                         (names[0], result.numerical, "numerical"), (names[1], result.analytic, "analytic"),
                         ("numerical \u2212 analytic", result.numerical - result.analytic, "difference")])
    window_note = _window(result.numerical.shape, result.worst_index)[3]
    legend = (f'Legend: <span class="gradlib-mismatch" style="{_CELL};{_MISMATCH}">bold, solid outline</span> '
              f'= outside the tolerance; <span class="gradlib-worst" style="{_CELL};{_WORST}">\u25c6 double '
              f'outline</span> = the worst {what}. Hover a value for all its digits.')
    parts = [f'<div class="gradlib-check" style="{_INHERIT};line-height:1.4">',
             f'<div class="gradlib-summary">{summary}</div>']
    if result.note:
        parts.append(f'<div class="gradlib-note">Note: {html.escape(result.note)}</div>')
    parts.append(f'<div class="gradlib-tables" style="display:flex;flex-wrap:wrap;align-items:flex-start;'
                 f'gap:0.6em 1.2em;margin:0.4em 0">{tables}</div>')
    if window_note:
        parts.append(f'<div class="gradlib-window">{html.escape(window_note)}</div>')
    parts.append(f'<div class="gradlib-legend">{legend}</div></div>')
    return "".join(parts)
