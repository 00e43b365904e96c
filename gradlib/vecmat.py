r"""Row vector times matrix, $z = x W$ (Yeh, *Gradient Notes*, section 4).

Shapes: $x \in \mathbb{R}^{1 \times m}$ (given as a row (1, m) or as (m,)),
$W \in \mathbb{R}^{m \times n}$, $z \in \mathbb{R}^{1 \times n}$ in x's convention. The upstream
gradient $r = \partial J / \partial z$ is a row (1, n), or (n,) or (n, 1).

This is section 3 turned on its side: $z_l = \sum_k x_k W_{kl}$, so
$\partial z_l / \partial W_{ij} = \mathbf 1[j = l]\, x_i$ (entry $W_{ij}$ only feeds column j), and

$$
\frac{\partial J}{\partial W_{ij}} = \sum_l r_l \mathbf 1[j = l]\, x_i = x_i r_j
\quad\Longrightarrow\quad \frac{\partial J}{\partial W} = x^T r \ (m \times n).
$$

With $\partial z_l / \partial x_i = W_{il}$, $\partial J / \partial x_i = \sum_l r_l W_{il}$,
i.e. $\partial J / \partial x = r W^T$ (a row of m entries).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from gradlib._validate import as_matrix, as_vector, mismatch, shaped

RULE = "vecmat"


def _checked(x: Any, W: Any) -> tuple[np.ndarray, str, np.ndarray]:
    x_flat, kind = as_vector(RULE, "x", x, kinds=("flat", "row"),
                             hint="vecmat takes a row x; for a matrix times a column vector, W x, use matvec")
    W = as_matrix(RULE, "W", W)
    if x_flat.size != W.shape[0]:
        raise mismatch(RULE, "x", shaped(x_flat, kind).shape, "W", W.shape, "W needs one row per entry of x")
    return x_flat, kind, W


def forward(x: Any, W: Any) -> np.ndarray:
    """z = x W, shape (1, n) or (n,) to match x."""
    x, kind, W = _checked(x, W)
    return shaped(x @ W, kind)


def backward(r: Any, x: Any, W: Any) -> tuple[np.ndarray, np.ndarray]:
    """Given r = dJ/dz, return (dJ/dx, dJ/dW) = (r W^T, x^T r), shapes x's and (m, n)."""
    x, kind, W = _checked(x, W)
    r, _ = as_vector(RULE, "r", r, size=W.shape[1], of="z = x W")
    return shaped(W @ r, kind), np.outer(x, r)
