r"""The largest entry along an axis, $m = \max_j X_{ij}$ (max-pooling, the shift of a stable softmax; chapter 8).

Shapes: $X$ of any shape (a matrix $(n, m)$ in the book), reduced along ``axis`` (default the last);
$m$ has X's shape without that axis, and so has the upstream $g = \partial L / \partial m$.

Where the row's maximum is unique, $m_i = X_{i j^*}$ near X, so $\partial m_i / \partial X_{ij} =
\mathbf 1[j = j^*]$: the gradient goes to the entry that won and nowhere else,

$$
\frac{\partial L}{\partial X_{ij}} = g_i\, \frac{\mathbf 1[X_{ij} = m_i]}{\#\{k : X_{ik} = m_i\}}.
$$

Where several entries tie, max has no derivative; the formula shares $g_i$ equally between them,
the subgradient PyTorch's ``amax`` uses (the entries still add up to $g_i$, the slope of moving
the whole row together).
"""
from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from gradlib._validate import Checked, as_float_array, as_upstream, is_int, rule_error, validated

RULE = "reduce_max"


def _array_and_axis(X: ArrayLike, axis: Any) -> tuple[np.ndarray, int]:
    X = as_float_array(RULE, "X", X)
    if X.ndim == 0 or X.size == 0:
        raise rule_error(RULE, f"X must be a non-empty array with at least one axis, got shape {X.shape}")
    if not is_int(axis):
        raise rule_error(RULE, f"axis must be an int, got {axis!r} for X of shape {X.shape}")
    if not -X.ndim <= axis < X.ndim:
        raise rule_error(RULE, f"axis={axis} is out of range for X of shape {X.shape} "
                         f"(it has {X.ndim} axes: {-X.ndim}..{X.ndim - 1})")
    return X, int(axis) % X.ndim


def _forward_inputs(X: ArrayLike, axis: Any = -1) -> Checked:
    return _array_and_axis(X, axis), None


def _backward_inputs(g: ArrayLike, X: ArrayLike, axis: Any = -1) -> Checked:
    X, axis = _array_and_axis(X, axis)
    shape = X.shape[:axis] + X.shape[axis + 1:]
    return (as_upstream(RULE, "g", g, shape, of=f"m = X.max(axis={axis}) for X of shape {X.shape}"), X, axis), None


def _winners(X: np.ndarray, axis: int) -> np.ndarray:
    """1 where an entry equals its line's maximum, else 0 (by the real part: complex steps pass through)."""
    return (X.real == X.real.max(axis=axis, keepdims=True)).astype(np.float64)


@validated(_forward_inputs)
def forward(X: ArrayLike, axis: int = -1) -> np.ndarray:
    """m = X.max(axis): the largest entry of each line along ``axis``."""
    first = np.argmax(X.real, axis=axis)  # the winner's own value, so a complex step passes through
    return np.take_along_axis(X, np.expand_dims(first, axis), axis=axis).squeeze(axis)


@validated(_backward_inputs)
def backward(g: ArrayLike, X: ArrayLike, axis: int = -1) -> np.ndarray:
    """Given g = dL/dm, return dL/dX (X's shape): g where X is its line's maximum, shared equally by ties."""
    winners = _winners(X, axis)
    return winners / winners.sum(axis=axis, keepdims=True) * np.expand_dims(g, axis)
