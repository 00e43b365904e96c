r"""Row vector times matrix, $z = x W$ (Yeh, *Gradient Notes*, section 4).

Shapes: $x \in \mathbb{R}^{1 \times m}$ (given as a row (1, m) or as (m,)),
$W \in \mathbb{R}^{m \times n}$, $z \in \mathbb{R}^{1 \times n}$ in x's convention. The upstream
gradient $r = \partial L / \partial z$ is a row (1, n), or (n,) or (n, 1).

This is section 3 turned on its side: $z_l = \sum_k x_k W_{kl}$, so
$\partial z_l / \partial W_{ij} = \mathbf 1[j = l]\, x_i$ (entry $W_{ij}$ only feeds column j), and

$$
\frac{\partial L}{\partial W_{ij}} = \sum_l r_l \mathbf 1[j = l]\, x_i = x_i r_j
\quad\Longrightarrow\quad \frac{\partial L}{\partial W} = x^T r \ (m \times n).
$$

With $\partial z_l / \partial x_i = W_{il}$, $\partial L / \partial x_i = \sum_l r_l W_{il}$,
i.e. $\partial L / \partial x = r W^T$ (a row of m entries).
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from gradlib._validate import Checked, as_matrix, as_vector, mismatch, shaped, validated

RULE = "vecmat"


def _row_and_matrix(x: ArrayLike, W: ArrayLike) -> tuple[np.ndarray, np.ndarray, str]:
    """(x as 1-D, W, how x was written), checked: x has m entries, as (m,) or (1, m), and W is (m, n)."""
    x_flat, kind = as_vector(RULE, "x", x, kinds=("flat", "row"),
                             hint="vecmat takes a row x; for a matrix times a column vector, W x, use matvec")
    W = as_matrix(RULE, "W", W)
    if x_flat.size != W.shape[0]:
        raise mismatch(RULE, "x", shaped(x_flat, kind).shape, "W", W.shape, "W needs one row per entry of x")
    return x_flat, W, kind


def _forward_inputs(x: ArrayLike, W: ArrayLike) -> Checked:
    x, W, kind = _row_and_matrix(x, W)
    return (x, W), lambda z: shaped(z, kind)


def _backward_inputs(r: ArrayLike, x: ArrayLike, W: ArrayLike) -> Checked:
    x, W, kind = _row_and_matrix(x, W)
    r, _ = as_vector(RULE, "r", r, size=W.shape[1], of="z = x W")
    return (r, x, W), lambda grads: (shaped(grads[0], kind), grads[1])


@validated(_forward_inputs)
def forward(x: ArrayLike, W: ArrayLike) -> np.ndarray:
    """z = x W, shape (1, n) or (n,) to match x."""
    return x @ W


@validated(_backward_inputs)
def backward(r: ArrayLike, x: ArrayLike, W: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Given r = dL/dz, return (dL/dx, dL/dW) = (r W^T, x^T r), shapes x's and (m, n)."""
    return W @ r, np.outer(x, r)
