r"""Matrix times column vector, $z = W x$ (Yeh, *Gradient Notes*, section 3).

Shapes: $W \in \mathbb{R}^{n \times m}$, $x \in \mathbb{R}^m$ (given as (m,) or as a column
(m, 1)), $z \in \mathbb{R}^n$ in x's convention. The upstream gradient $r = \partial L / \partial z$
is the notes' row (1, n), or z's own shape.

Each output is a dot product, $z_k = \sum_l W_{kl} x_l$, so $\partial z_k / \partial W_{ij} =
\mathbf 1[k = i]\, x_j$: entry $W_{ij}$ reaches L only through $z_i$. Summing over the
paths (the chain rule) leaves one term,

$$
\frac{\partial L}{\partial W_{ij}} = \sum_k r_k \mathbf 1[k = i]\, x_j = r_i x_j
\quad\Longrightarrow\quad \frac{\partial L}{\partial W} = r^T x^T \ (n \times m),
$$

an outer product. Likewise $\partial z_k / \partial x_j = W_{kj}$, so
$\partial L / \partial x_j = \sum_k r_k W_{kj}$, i.e. $\partial L / \partial x = W^T r^T$ (m entries).
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from gradlib._validate import Checked, as_matrix, as_vector, mismatch, shaped, validated

RULE = "matvec"


def _matrix_and_column(W: ArrayLike, x: ArrayLike) -> tuple[np.ndarray, np.ndarray, str]:
    """(W, x as 1-D, how x was written), checked: W is (n, m) and x has m entries, as (m,) or (m, 1)."""
    W = as_matrix(RULE, "W", W)
    x_flat, kind = as_vector(RULE, "x", x, kinds=("flat", "column"),
                             hint="matvec takes a column x; for a row vector times a matrix, x W, use vecmat")
    if W.shape[1] != x_flat.size:
        raise mismatch(RULE, "W", W.shape, "x", shaped(x_flat, kind).shape, "W needs one column per entry of x")
    return W, x_flat, kind


def _forward_inputs(W: ArrayLike, x: ArrayLike) -> Checked:
    W, x, kind = _matrix_and_column(W, x)
    return (W, x), lambda z: shaped(z, kind)


def _backward_inputs(r: ArrayLike, W: ArrayLike, x: ArrayLike) -> Checked:
    W, x, kind = _matrix_and_column(W, x)
    r, _ = as_vector(RULE, "r", r, size=W.shape[0], of="z = W x")
    return (r, W, x), lambda grads: (grads[0], shaped(grads[1], kind))


@validated(_forward_inputs)
def forward(W: ArrayLike, x: ArrayLike) -> np.ndarray:
    """z = W x, shape (n,) or (n, 1) to match x."""
    return W @ x


@validated(_backward_inputs)
def backward(r: ArrayLike, W: ArrayLike, x: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Given r = dL/dz, return (dL/dW, dL/dx) = (r^T x^T, W^T r^T), shapes (n, m) and x's."""
    return np.outer(r, x), W.T @ r
