r"""Matrix plus a broadcast row, $B = X + y$ (Yeh, *Gradient Notes*, section 6).

Shapes: $X, B \in \mathbb{R}^{n \times m}$, $y \in \mathbb{R}^{1 \times m}$ (given as a row
(1, m) or as (m,)), added to every row of X; the upstream $\partial L / \partial B$ is (n, m).

Written without broadcasting, $B = X + \mathbf 1 y$ with $\mathbf 1$ the column of n ones, so
y is used once per row: $B_{ij} = X_{ij} + y_j$. The gradient for X passes straight through;
for y the chain rule adds up the contributions of all n rows (the matmul rule with
$\mathbf 1$ in place of X gives the same):

$$
\frac{\partial L}{\partial X} = \frac{\partial L}{\partial B},\qquad
\frac{\partial L}{\partial y_j} = \sum_i \frac{\partial L}{\partial B_{ij}},
\ \text{i.e.}\ \frac{\partial L}{\partial y} = \mathbf 1^T \frac{\partial L}{\partial B}
\ \text{(the column sums, in y's shape).}
$$
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from gradlib._validate import Checked, as_matrix_and_row, as_upstream, shaped, validated

RULE = "broadcast_add"


def _forward_inputs(X: ArrayLike, y: ArrayLike) -> Checked:
    X, y, _ = as_matrix_and_row(RULE, X, y)
    return (X, y), None


def _backward_inputs(dB: ArrayLike, X: ArrayLike, y: ArrayLike) -> Checked:
    X, y, kind = as_matrix_and_row(RULE, X, y)
    dB = as_upstream(RULE, "dB", dB, X.shape, of="B = X + y")
    return (dB, X, y), lambda grads: (grads[0], shaped(grads[1], kind))


@validated(_forward_inputs)
def forward(X: ArrayLike, y: ArrayLike) -> np.ndarray:
    """B_ij = X_ij + y_j, shape (n, m)."""
    return X + y


@validated(_backward_inputs)
def backward(dB: ArrayLike, X: ArrayLike, y: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Given dB = dL/dB (n, m), return (dL/dX, dL/dy) = (dB, sum_i dB[i, :]), dL/dy in y's shape."""
    return dB.copy(), dB.sum(axis=0)
