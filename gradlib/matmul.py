r"""Matrix product, $B = X Y$ (Yeh, *Gradient Notes*, section 5).

Shapes: $X \in \mathbb{R}^{n \times m}$, $Y \in \mathbb{R}^{m \times p}$,
$B \in \mathbb{R}^{n \times p}$; the upstream $\partial A / \partial B$ (A a scalar of B) is
(n, p), and each gradient has its matrix's shape.

Entry $B_{kl} = \sum_j X_{kj} Y_{jl}$ is row k of X dotted with column l of Y, so
$\partial B_{kl} / \partial X_{ij} = \mathbf 1[k = i]\, Y_{jl}$ and
$\partial B_{kl} / \partial Y_{ij} = \mathbf 1[l = j]\, X_{ki}$. Summing over every entry of B
(the multi-path chain rule), the indicator keeps one row or one column:

$$
\frac{\partial A}{\partial X_{ij}} = \sum_l \frac{\partial A}{\partial B_{il}} Y_{jl},\qquad
\frac{\partial A}{\partial Y_{ij}} = \sum_k \frac{\partial A}{\partial B_{kj}} X_{ki},
$$

which as matrices is $\partial A/\partial X = (\partial A/\partial B)\, Y^T$ and
$\partial A/\partial Y = X^T (\partial A/\partial B)$. Sections 3 and 4 are the cases p = 1 and n = 1.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from gradlib._validate import as_matrix, as_upstream, mismatch

RULE = "matmul"


def _checked(X: Any, Y: Any) -> tuple[np.ndarray, np.ndarray]:
    X, Y = as_matrix(RULE, "X", X), as_matrix(RULE, "Y", Y)
    if X.shape[1] != Y.shape[0]:
        raise mismatch(RULE, "X", X.shape, "Y", Y.shape, "inner dimensions must match")
    return X, Y


def forward(X: Any, Y: Any) -> np.ndarray:
    """B = X Y, shape (n, p)."""
    X, Y = _checked(X, Y)
    return X @ Y


def backward(dB: Any, X: Any, Y: Any) -> tuple[np.ndarray, np.ndarray]:
    """Given dB = dA/dB (n, p), return (dA/dX, dA/dY) = (dB Y^T, X^T dB), shapes (n, m) and (m, p)."""
    X, Y = _checked(X, Y)
    dB = as_upstream(RULE, "dB", dB, (X.shape[0], Y.shape[1]), of="B = X Y")
    return dB @ Y.T, X.T @ dB
