"""Input checks shared by every gradlib rule.

Every error is a :class:`GradlibError` (a ``ValueError``) whose message starts with
the rule's name and names the argument and the shapes involved, e.g.
``matmul: X is (3, 4) but Y is (5, 2); inner dimensions must match``.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

Rule = TypeVar("Rule", bound=Callable[..., Any])
#: What a rule's input check returns: the arguments as its math needs them, and the function that
#: puts its result back in the caller's convention (None: as it is).
Checked = tuple[tuple[Any, ...], "Callable[[Any], Any] | None"]


class GradlibError(ValueError):
    """Bad input to a gradlib rule or to the checker."""


def rule_error(rule: str, message: str) -> GradlibError:
    """Return (for the caller to raise) an error whose message starts with ``rule: ``."""
    return GradlibError(f"{rule}: {message}")


def validated(check: Callable[..., Checked]) -> Callable[[Rule], Rule]:
    """Decorator: every call of the rule first goes through ``check`` (same parameters), which raises a
    GradlibError for bad input and returns ``(arguments, restore)``; the rule computes on those
    arguments and ``restore`` (if any) reshapes its result, e.g. a vector back into x's convention.
    So a rule's body is its math alone, and ``show_source`` shows a reader just that."""
    def decorate(rule: Rule) -> Rule:
        @functools.wraps(rule)
        def checked_rule(*args: Any, **kwargs: Any) -> Any:
            arguments, restore = check(*args, **kwargs)
            result = rule(*arguments)
            return result if restore is None else restore(result)
        return checked_rule  # type: ignore[return-value]
    return decorate


def as_float_array(rule: str, name: str, value: Any, *, ndim: tuple[int, ...] | None = None) -> np.ndarray:
    """``value`` as a float64 array, checked to be real, finite and of an allowed rank.

    Integer and boolean input is promoted to float64 (never differenced as integers);
    complex input is kept complex (the checker's complex-step method passes it through).
    """
    try:
        array = np.asarray(value)
    except Exception as exc:  # ragged lists and the like
        raise rule_error(rule, f"{name} is not an array ({exc})") from None
    if array.dtype.kind in "biuf":
        array = array.astype(np.float64, copy=False)
    elif array.dtype.kind != "c":
        raise rule_error(rule, f"{name} must be numeric, got dtype {array.dtype} (shape {array.shape})")
    if ndim is not None and array.ndim not in ndim:
        allowed = " or ".join(f"{d}-D" for d in ndim)
        raise rule_error(rule, f"{name} must be {allowed}, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise rule_error(rule, f"{name} of shape {array.shape} contains nan or inf")
    return array


# --- shapes shared by the rule modules -------------------------------------------------

#: How a vector of length m may be written: 1-D (m,), a row (1, m) as the notes write
#: r and y, or a column (m, 1) as the notes write x and z.
VECTOR_KINDS = ("flat", "row", "column")
_KIND_SHAPE = {"flat": lambda m: (m,), "row": lambda m: (1, m), "column": lambda m: (m, 1)}
_KIND_NAME = {"flat": "(m,)", "row": "(1, m)", "column": "(m, 1)"}


def _nonempty(rule: str, name: str, array: np.ndarray) -> np.ndarray:
    if array.size == 0:
        raise rule_error(rule, f"{name} is empty (shape {array.shape})")
    return array


def as_matrix(rule: str, name: str, value: Any) -> np.ndarray:
    """``value`` as a non-empty 2-D float64 array (checked by :func:`as_float_array`)."""
    return _nonempty(rule, name, as_float_array(rule, name, value, ndim=(2,)))


def as_vector(rule: str, name: str, value: Any, *, kinds: tuple[str, ...] = VECTOR_KINDS,
              size: int | None = None, of: str = "", hint: str = "") -> tuple[np.ndarray, str]:
    """``value`` as a 1-D float64 array plus the kind (``"flat"``, ``"row"``, ``"column"``) it came in.

    Only the ``kinds`` listed are accepted (a (1, 1) array is whichever is listed first);
    ``shaped(result, kind)`` puts a vector back in the caller's convention. With ``size``,
    the length must match the ``size`` entries of ``of`` (e.g. ``of="z = W x"``).
    """
    array = _nonempty(rule, name, as_float_array(rule, name, value, ndim=(1, 2)))
    m = array.size
    kind = next((k for k in kinds if array.shape == _KIND_SHAPE[k](m)), None)
    if kind is None:
        allowed = " or ".join(_KIND_NAME[k] for k in kinds)
        raise rule_error(rule, f"{name} is {array.shape} but must be a vector of shape {allowed}"
                         + (f"; {hint}" if hint else ""))
    if size is not None and m != size:
        raise rule_error(rule, f"{name} is {array.shape} but {of} has {size} entries; "
                         f"{name} must have {size} entries too")
    return array.reshape(m), kind


def shaped(vector: np.ndarray, kind: str) -> np.ndarray:
    """The 1-D ``vector`` written as ``kind``: (m,), (1, m) or (m, 1)."""
    return vector.reshape(_KIND_SHAPE[kind](vector.size))


def mismatch(rule: str, a_name: str, a_shape: tuple[int, ...], b_name: str, b_shape: tuple[int, ...],
             why: str) -> GradlibError:
    """``rule: X is (3, 4) but Y is (5, 2); why`` (for the caller to raise)."""
    return rule_error(rule, f"{a_name} is {a_shape} but {b_name} is {b_shape}; {why}")


def as_matrix_and_row(rule: str, X: Any, y: Any) -> tuple[np.ndarray, np.ndarray, str]:
    """(X, y as 1-D, y's kind) for a row y of m entries broadcast over the rows of an (n, m) X."""
    X = as_matrix(rule, "X", X)
    y, kind = as_vector(rule, "y", y, kinds=("flat", "row"), hint="y is a row, broadcast over the rows of X")
    if y.size != X.shape[1]:
        raise mismatch(rule, "X", X.shape, "y", shaped(y, kind).shape, "y needs one entry per column of X")
    return X, y, kind


def as_upstream(rule: str, name: str, value: Any, shape: tuple[int, ...], of: str) -> np.ndarray:
    """The upstream gradient ``name`` = dL/d(of), which must have exactly the output's ``shape``."""
    array = as_float_array(rule, name, value)
    if array.shape != shape:
        raise rule_error(rule, f"{name} is {array.shape} but {of} is {shape}")
    return array


def as_class_index(rule: str, value: Any, classes: int, theta_shape: tuple[int, ...]) -> np.ndarray:
    """The true class ``t`` (an int, or a 1-D array of ints for a batch) checked against ``classes``.

    Booleans and floats are rejected (``t=1.0`` or ``t=True`` is almost always a bug).
    """
    t = np.asarray(value)
    if t.dtype.kind not in "iu":
        raise rule_error(rule, f"t must be an integer class index, got {value!r} (dtype {t.dtype}) "
                         f"for theta of shape {theta_shape}")
    bad = np.flatnonzero((t < 0) | (t >= classes))
    if bad.size:
        where = f"t[{bad[0]}]={t.flat[bad[0]]}" if t.ndim else f"t={int(t)}"
        raise rule_error(rule, f"{where} is out of range for theta with {classes} classes (shape {theta_shape})")
    return t


def is_int(value: Any) -> bool:
    """An integer (Python or numpy) but not a bool: ``True`` as a size or an axis is almost always a bug."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def as_indices(rule: str, name: str, value: Any, size: int, of: str) -> np.ndarray:
    """``value`` as a non-empty 1-D array of integers in ``0 .. size - 1`` (the rows of ``of``).

    Floats and booleans are refused (``idx=[0.0, 2.0]`` or a mask is almost always a bug), and so are
    negative indices: numpy would count them from the end, silently.
    """
    array = np.asarray(value)
    if array.dtype.kind not in "iu":
        raise rule_error(rule, f"{name} must be integer indices, got dtype {array.dtype} (shape {array.shape})")
    if array.ndim != 1 or array.size == 0:
        raise rule_error(rule, f"{name} must be a non-empty 1-D array of indices (N,), got shape {array.shape}")
    bad = np.flatnonzero((array < 0) | (array >= size))
    if bad.size:
        raise rule_error(rule, f"{name}[{bad[0]}]={array[bad[0]]} is out of range 0..{size - 1} for {of}")
    return array
