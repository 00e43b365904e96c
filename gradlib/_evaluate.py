"""Calling ``f`` safely for the checker: private copies of ``x``, counted calls, clear errors.

:class:`Evaluator` holds a flat private copy of ``x`` and calls ``f`` with one entry (or the whole
point) changed at a time, checking every value ``f`` returns (dtype, shape, finite) and turning any
failure into a :class:`GradlibError` that names the checker function, x's shape and the cause.
The estimators (:mod:`gradlib.estimators`) only decide *where* to call ``f``.
"""
from __future__ import annotations

import cmath
import math
import warnings
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from ._validate import GradlibError, as_float_array, rule_error

FloatFunction = Callable[[np.ndarray], Any]
_UNSET = object()


class ComplexStepInvalid(GradlibError):
    """f cannot be differentiated by complex step as written (it raised, warned or lost Im)."""


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

    __slots__ = ("rule", "f", "scalar", "shape", "size", "x0", "x0_values", "out_shape", "calls", "_outputs",
                 "finest_step", "first_richardson")

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
        self.finest_step: float | None = None  # the least step / scale a refining estimator took
        self.first_richardson: tuple[np.ndarray, np.ndarray] | None = None  # richardson's values and h
        self._outputs: list[np.ndarray] = []  # every value f returned, for largest_output()

    def largest_output(self, complex_step: bool = False) -> float:
        """``max|f|`` over every real call so far, or (``complex_step``) over the real parts of the
        complex-step calls only: those are all at x, ``Re f(x + i h e_j) = f(x) + O(h**2)``."""
        kind = "c" if complex_step else "f"
        blocks = [values for values in self._outputs if values.dtype.kind == kind]
        largest = max((float(np.abs(values.real).max(initial=0.0)) for values in blocks), default=0.0)
        self._outputs = [values for values in self._outputs if values.dtype.kind != kind]
        self._outputs.append(np.array([largest], dtype=blocks[0].dtype if blocks else float))  # all later calls need
        return largest

    def last_outputs(self) -> np.ndarray:
        """The values of the last stencil (or batch of whole points), in call order."""
        return self._outputs[-1]

    def last_output_scale(self) -> float:
        """``max|f|`` over the values of the last stencil (or batch of whole points)."""
        return float(np.abs(self._outputs[-1].real).max(initial=0.0)) if self._outputs else 0.0

    def _where(self, index: int | slice) -> str:
        if not isinstance(index, int):
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
        return ComplexStepInvalid(f"{self.rule}: complex step unusable: {why}")

    def _not_finite(self, where: str, complex_step: bool) -> GradlibError:
        if complex_step:
            return ComplexStepInvalid(f"{self.rule}: complex step unusable: f returned nan or inf for "
                                       f"complex input {where}")
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
                f"{self.rule}: complex step unusable: f returned {_describe(out)} for complex input "
                f"{self._where(index)}, dropping the imaginary part (abs, np.real, norm, a real buffer)")
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
        Finiteness and (per entry) an in-place change of x are checked once, at the end.
        """
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
            raise rule_error(self.rule, f"f modified its argument (x of shape {self.shape}) in place; "
                                  f"it must leave its input unchanged")
        block = np.array(outputs, dtype=dtype)
        if not all_finite(block):
            count = len(block) // len(indices)
            at, k = divmod(int(np.argmin(np.isfinite(block).reshape(len(block), -1).all(axis=1))), count)
            raise self._not_finite(f"{self._where(indices[at])} (stencil point {k + 1} of {count})", complex_step)
        self._outputs.append(block)  # only finite values: they set the tolerance floor
        return block if block.ndim < 3 else block.reshape(len(block), -1)

    def evaluate(self, points: np.ndarray, *, complex_step: bool = False) -> np.ndarray:
        """``out[k] = f(points[k]).ravel()`` for whole points of shape ``(count, x.size)``."""
        return self.stencil([points], WHOLE, complex_step=complex_step).reshape(len(points), -1)
