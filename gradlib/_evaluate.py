"""Calling ``f`` safely for the checker: private copies of ``x``, counted calls, clear errors.

:class:`Evaluator` holds a flat private copy of ``x`` and calls ``f`` with one entry (or the whole
point) changed at a time, checking every value ``f`` returns (dtype, shape, finite) and turning any
failure into a :class:`GradlibError` that names the checker function, x's shape and the cause.
Real calls run with numpy's floating-point warnings off (f's nan or inf is returned, and the
estimators step back from a domain edge); complex calls with every warning an error. An f that
caches its argument (it returns one value for every step of a stencil, but another for a fresh copy
of x) is from then on given a fresh copy per call. The estimators (:mod:`gradlib.estimators`)
decide *where* to call ``f`` and what the values mean.
"""
from __future__ import annotations

import cmath
import contextlib
import math
import warnings
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from ._validate import GradlibError, as_float_array, is_int, rule_error

FloatFunction = Callable[[np.ndarray], Any]
_UNSET = object()


class ComplexStepInvalid(GradlibError):
    """f cannot be differentiated by complex step as written; ``reason`` says why in a few words
    (it raised, warned, dropped the imaginary part, disagreed with real differences, ...)."""

    def __init__(self, rule: str, reason: str) -> None:
        super().__init__(f"{rule}: complex step unusable: {reason}; use method 'richardson' or 'auto'")
        self.reason = reason


def all_finite(values: np.ndarray) -> bool:
    """Whether every entry is finite, in one pass and without warnings: ``sum |v|**2`` (a BLAS dot
    product) is finite only if every entry is -- nan and inf propagate, and no ``inf - inf`` can
    arise; only if it overflowed does the exact test decide."""
    return cmath.isfinite(np.vdot(values, values)) or bool(np.isfinite(values).all())


def check_method(rule: str, method: Any, allowed: Sequence[str]) -> str:
    if not isinstance(method, str) or method not in allowed:
        raise rule_error(rule, f"method {method!r} is not one of {', '.join(repr(m) for m in allowed)}")
    return method


def real_copy(rule: str, name: str, value: Any, why: str) -> np.ndarray:
    """A private, C-contiguous float64 copy of a real, finite array (integers promoted)."""
    if type(value) is np.ndarray and value.dtype == np.float64 and all_finite(value):
        return value.copy()  # the common case, without the general checks below
    array = as_float_array(rule, name, value)
    if array.dtype.kind == "c":
        raise rule_error(rule, f"{name} of shape {array.shape} is complex; {why}")
    return np.array(array, dtype=np.float64, order="C", copy=True)


def _describe(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    return f"a {type(value).__name__}"


WHOLE = np.array([], dtype=np.intp)  # stencil(entries=WHOLE): the rows hold whole points, not entries
_SCALARS = (int, float, complex, np.generic)  # immutable: a value of a type already checked needs no check


class Evaluator:
    """Calls ``f`` at perturbed versions of its private copy of ``x``, counts the calls, and turns
    every failure into a :class:`GradlibError` naming the checker function, x's shape and the cause."""

    __slots__ = ("rule", "f", "scalar", "shape", "size", "x0", "x0_values", "out_shape", "calls", "fresh", "_given")

    def __init__(self, rule: str, f: FloatFunction, x: Any, *, scalar: bool, per_entry: bool = True) -> None:
        """``per_entry=False``: only whole points will be evaluated (directional mode), so the list of
        x's entries, which per-entry stencils restore x from, is not made up front."""
        if not callable(f):
            raise rule_error(rule, f"f must be callable, got {_describe(f)}")
        x0, values = None, None
        if per_entry and type(x) is np.ndarray and x.dtype == np.float64:
            # the common case: the entries the stencils need also show that x is finite, as their sum
            # is finite only if each is (nan and inf propagate; a sum that overflowed: the general path)
            values = x.ravel().tolist()
            if math.isfinite(sum(values)):
                x0 = x.copy()
        if x0 is None:
            x0, values = real_copy(rule, "x", x, "the checker differentiates real functions"), None
        if x0.size == 0:
            raise rule_error(rule, f"x is empty (shape {x0.shape}); there is nothing to differentiate")
        self.rule, self.f, self.scalar = rule, f, scalar
        self.shape, self.size = x0.shape, x0.size
        self.x0 = x0.reshape(-1)  # flat and private (never the caller's x): stencils perturb and restore it
        self.x0_values: list[float] | None = values  # x0.tolist(), else made by the first per-entry stencil
        self.out_shape: tuple[int, ...] | None = None
        self.calls = 0
        self.fresh = False  # True once f was seen to cache its argument: then every call gets a copy
        self._given: list[np.ndarray] = []  # the arrays f was given, kept alive so no two share an id

    def __call__(self, point: np.ndarray) -> np.ndarray:
        """f at one whole point (x's shape, a fresh array), checked, as a flat array of its values."""
        return self.evaluate(np.asarray(point).reshape(1, -1),
                             complex_step=np.iscomplexobj(point)).reshape(-1)

    def repeatable(self) -> str | None:
        """Two calls of f at x itself (fresh copies): None if they agree, else a sentence naming
        randomness (dropout, an unseeded generator) as the likely cause."""
        first, second = self(self.x0.copy()), self(self.x0.copy())
        if np.array_equal(first, second):
            return None
        return (f"f returned {float(first.ravel()[0])!r} and then {float(second.ravel()[0])!r} at the same x (shape "
                f"{self.shape}): f is random (dropout with a fresh mask per call, an unseeded "
                f"generator?); fix its seed and turn dropout off while checking")

    def _where(self, index: int | slice) -> str:
        if not is_int(index):
            return f"near x of shape {self.shape}"
        entry = tuple(int(i) for i in np.unravel_index(index, self.shape))
        return f"at x of shape {self.shape} with entry {entry} perturbed"

    def _failure(self, exc: Exception, out: Any, index: int | slice, complex_step: bool) -> GradlibError:
        where = self._where(index)
        if not complex_step:
            if out is _UNSET:
                return rule_error(self.rule, f"f raised {type(exc).__name__}: {exc} {where}")
            return rule_error(self.rule, f"f returned {_describe(out)} {where}, which does not fit its "
                                   f"output shape {self.out_shape} ({exc})")
        if isinstance(exc, Warning):
            why = f"f emitted {type(exc).__name__} ({exc}) for complex input {where}"
        elif out is _UNSET:
            why = f"f raised {type(exc).__name__}: {exc} for complex input {where}"
        else:
            why = f"f returned {_describe(out)} for complex input {where} ({exc})"
        return ComplexStepInvalid(self.rule, why)

    def not_finite(self, block: np.ndarray, entries: Any, complex_step: bool = False) -> GradlibError:
        """The error for a block of values with a nan or inf in it (the first one is named)."""
        indices = [slice(None)] if entries is WHOLE else range(self.size) if entries is None else list(entries)
        count = len(block) // len(indices)
        at, k = divmod(int(np.argmin(np.isfinite(block).reshape(len(block), -1).all(axis=1))), count)
        where = f"{self._where(indices[at])} (stencil point {k + 1} of {count})"
        if complex_step:
            return ComplexStepInvalid(self.rule, f"f returned nan or inf for complex input {where}")
        return rule_error(self.rule, f"f returned nan or inf {where}; the checker needs finite values near x")

    def _checked_output(self, out: Any, complex_step: bool, index: int | slice) -> Any:
        """``out`` checked for dtype, scalar-ness and a consistent shape; an array is copied (f
        may return a view of its argument), an immutable scalar returned as it is."""
        if type(out) is np.float64 and not complex_step and self.out_shape in (None, ()):
            self.out_shape = ()  # the usual case, settled without the general checks below
            return out
        array = np.asarray(out)
        kind = array.dtype.kind
        if complex_step and kind != "c":
            raise ComplexStepInvalid(
                self.rule, f"f returned {_describe(out)} for complex input {self._where(index)}, dropping "
                           f"the imaginary part (abs, np.real, norm, a real buffer)")
        if not complex_step and kind not in "biuf":
            what = "complex values" if kind == "c" else _describe(out)
            raise rule_error(self.rule, f"f returned {what} {self._where(index)}; f must return real numbers")
        if self.scalar and array.size != 1:
            raise rule_error(self.rule, f"f must return a scalar (size 1) but returned shape {array.shape}; "
                                  f"use numerical_jacobian for vector outputs")
        if self.out_shape is None:
            self.out_shape = array.shape
        elif array.shape != self.out_shape:
            raise rule_error(self.rule, f"f returned shape {array.shape} {self._where(index)} but shape "
                                  f"{self.out_shape} elsewhere")
        if isinstance(out, _SCALARS):
            return out
        return np.array(array, dtype=np.complex128 if complex_step else np.float64)

    def stencil(self, rows: Iterable[Sequence[Any]], entries: np.ndarray | None = None, *,
                complex_step: bool = False) -> np.ndarray:
        """Call f with flat entry ``j`` of a private working copy of x set to each value of its row
        in turn (then back), for the ``j`` in ``entries`` (default: all of x) and their rows of
        values; with ``entries=WHOLE`` the one row holds whole points. Returns f's values in call
        order (entry by entry), shape ``(calls,)`` for a scalar f, else ``(calls, out.size)``.

        f's first value, every array and every change of type is checked (arrays are copied: f
        may return a view of its argument); later values of a checked scalar type need no check.
        An in-place change of x is checked once, at the end. Real values may be nan or inf (the
        caller decides); a complex nan or inf makes complex step unusable.
        """
        rows = rows if isinstance(rows, list) else list(rows)
        block, work = self._run(rows, entries, complex_step)
        if not self.fresh and len(block) > 1 and np.all(block == block[0]):
            self._given.append(work)  # alive: the fresh copy below must not reuse its id
            self._check_for_a_cache(rows, entries, block, complex_step)
            if self.fresh:
                block = self._run(rows, entries, complex_step)[0]
        if complex_step and not all_finite(block):
            raise self.not_finite(block, entries, complex_step=True)
        return block if block.ndim < 3 else block.reshape(len(block), -1)

    def _check_for_a_cache(self, rows: list, entries: Any, block: np.ndarray, complex_step: bool) -> None:
        """f gave one value for every step: recompute the last point on a fresh array; a different
        value means f keeps (caches) its argument, so from now on every call gets a copy."""
        dtype = np.complex128 if complex_step else np.float64
        if entries is WHOLE:
            point = np.array(rows[0][-1], dtype=dtype)
        else:
            point = self.x0.astype(dtype)
            point[self.size - 1 if entries is None else int(entries[-1])] = rows[-1][-1]
        self.fresh = True
        try:
            again = self.evaluate(point.reshape(1, -1), complex_step=complex_step)
        finally:
            self.fresh = False
        if not np.array_equal(again.reshape(-1), block[-1].reshape(-1)):
            self.fresh = True

    def _run(self, rows: list, entries: Any, complex_step: bool) -> tuple[np.ndarray, np.ndarray]:
        """f's values for ``rows`` (see :meth:`stencil`) and the array f was given."""
        whole = entries is WHOLE
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
        # entry (also if f fails); complex values or whole points, a copy of it; a fresh copy per
        # call once f was seen to cache its argument (kept alive, so no two calls share an id)
        flat = self.x0.astype(dtype) if complex_step or whole else self.x0
        work = flat.reshape(self.shape)
        f, outputs = self.f, []
        if self.fresh:
            def f(w: np.ndarray, g: FloatFunction = self.f, given: list = self._given) -> Any:
                given.append(w.copy())
                return g(given[-1])
        append = outputs.append
        checked_type: type | None = None
        index, restore, out = indices[0], restores[0], _UNSET
        # complex step: every warning is an error (ComplexWarning from float(), astype & co.); real:
        # floating-point warnings off (nan and inf are returned), and a memoryview sets one float ~3x
        # faster than numpy's indexing (it has no complex format)
        with warnings.catch_warnings(), contextlib.nullcontext() if complex_step else np.errstate(all="ignore"), \
                (contextlib.nullcontext(flat) if complex_step else memoryview(flat)) as setter:
            warnings.simplefilter("error") if complex_step else warnings.simplefilter("ignore", RuntimeWarning)
            try:
                for index, row, restore in zip(indices, rows, restores, strict=True):
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
            raise rule_error(self.rule, f"f modified its argument (x of shape {self.shape}) in place; "
                                  f"it must leave its input unchanged")
        with np.errstate(all="ignore"):
            return np.array(outputs, dtype=dtype), work

    def evaluate(self, points: np.ndarray, *, complex_step: bool = False) -> np.ndarray:
        """``out[k] = f(points[k]).ravel()`` for whole points of shape ``(count, x.size)``."""
        return self.stencil([points], WHOLE, complex_step=complex_step).reshape(len(points), -1)
