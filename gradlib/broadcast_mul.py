r"""Broadcast Hadamard product, $B = y \odot X$ row by row (Yeh, *Gradient Notes*, section 7).

Shapes: $y \in \mathbb{R}^{1 \times m}$ (given as a row (1, m) or as (m,)),
$X, B \in \mathbb{R}^{n \times m}$; row i of B is $B_{i,:} = y \odot X_{i,:}$, i.e.
$B_{ij} = y_j X_{ij}$. The upstream $\partial L / \partial B$ is (n, m).

Entry $y_j$ scales all of column j, so a change in it reaches L through every row, each time
weighted by that row's $X_{ij}$; entry $X_{ij}$ reaches L only through $B_{ij}$,
weighted by $y_j$:

$$
\frac{\partial L}{\partial y} = \sum_i \frac{\partial L}{\partial B_{i,:}} \odot X_{i,:}
\ \text{(in y's shape)},\qquad
\frac{\partial L}{\partial X_{ij}} = y_j \frac{\partial L}{\partial B_{ij}},
\ \text{i.e.}\ \frac{\partial L}{\partial X} = y \odot \frac{\partial L}{\partial B}
\ \text{(y broadcast over the rows again)}.
$$
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from gradlib._validate import Checked, as_matrix_and_row, as_upstream, shaped, validated

RULE = "broadcast_mul"


def _forward_inputs(y: ArrayLike, X: ArrayLike) -> Checked:
    X, y, _ = as_matrix_and_row(RULE, X, y)
    return (y, X), None


def _backward_inputs(dB: ArrayLike, y: ArrayLike, X: ArrayLike) -> Checked:
    X, y, kind = as_matrix_and_row(RULE, X, y)
    dB = as_upstream(RULE, "dB", dB, X.shape, of="B = y * X")
    return (dB, y, X), lambda grads: (shaped(grads[0], kind), grads[1])


@validated(_forward_inputs)
def forward(y: ArrayLike, X: ArrayLike) -> np.ndarray:
    """B_ij = y_j X_ij, shape (n, m)."""
    return y * X


@validated(_backward_inputs)
def backward(dB: ArrayLike, y: ArrayLike, X: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Given dB = dL/dB (n, m), return (dL/dy, dL/dX) = (sum_i dB[i, :] * X[i, :], y * dB), dL/dy in y's shape."""
    return (dB * X).sum(axis=0), y * dB
