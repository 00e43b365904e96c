r"""Matrix product, $B = X Y$ (Yeh, *Gradient Notes*, section 5).

Shapes: $X \in \mathbb{R}^{n \times m}$, $Y \in \mathbb{R}^{m \times p}$,
$B \in \mathbb{R}^{n \times p}$; the upstream $\partial L / \partial B$ (L the scalar loss) is
(n, p), and each gradient has its matrix's shape.

Entry $B_{kl} = \sum_j X_{kj} Y_{jl}$ is row k of X dotted with column l of Y, so
$\partial B_{kl} / \partial X_{ij} = \mathbf 1[k = i]\, Y_{jl}$ and
$\partial B_{kl} / \partial Y_{ij} = \mathbf 1[l = j]\, X_{ki}$. Summing over every entry of B
(the multi-path chain rule), the indicator keeps one row or one column:

$$
\frac{\partial L}{\partial X_{ij}} = \sum_l \frac{\partial L}{\partial B_{il}} Y_{jl},\qquad
\frac{\partial L}{\partial Y_{ij}} = \sum_k \frac{\partial L}{\partial B_{kj}} X_{ki},
$$

which as matrices is $\partial L/\partial X = (\partial L/\partial B)\, Y^T$ and
$\partial L/\partial Y = X^T (\partial L/\partial B)$. Sections 3 and 4 are the cases p = 1 and n = 1.
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from gradlib._validate import Checked, as_matrix, as_upstream, mismatch, validated

RULE = "matmul"


def _matrices(X: ArrayLike, Y: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """(X, Y), checked: X is (n, m) and Y is (m, p)."""
    X, Y = as_matrix(RULE, "X", X), as_matrix(RULE, "Y", Y)
    if X.shape[1] != Y.shape[0]:
        raise mismatch(RULE, "X", X.shape, "Y", Y.shape, "inner dimensions must match")
    return X, Y


def _forward_inputs(X: ArrayLike, Y: ArrayLike) -> Checked:
    return _matrices(X, Y), None


def _backward_inputs(dB: ArrayLike, X: ArrayLike, Y: ArrayLike) -> Checked:
    X, Y = _matrices(X, Y)
    return (as_upstream(RULE, "dB", dB, (X.shape[0], Y.shape[1]), of="B = X Y"), X, Y), None


@validated(_forward_inputs)
def forward(X: ArrayLike, Y: ArrayLike) -> np.ndarray:
    """B = X Y, shape (n, p)."""
    return X @ Y


@validated(_backward_inputs)
def backward(dB: ArrayLike, X: ArrayLike, Y: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Given dB = dL/dB (n, p), return (dL/dX, dL/dY) = (dB Y^T, X^T dB), shapes (n, m) and (m, p)."""
    return dB @ Y.T, X.T @ dB
