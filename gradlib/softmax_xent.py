r"""Softmax cross-entropy loss and its gradient w.r.t. the logits (Yeh, *Gradient Notes*, section 2).

For logits $\theta \in \mathbb{R}^C$ and a true class $t$, the predicted
probabilities are $p = \mathrm{softmax}(\theta)$, $p_c = e^{\theta_c} / \sum_{c'} e^{\theta_{c'}}$,
and the loss is the negative log-probability of the true class,

$$
L(\theta) = -\log p_t = \log \textstyle\sum_c e^{\theta_c} - \theta_t .
$$

Differentiating the log-sum-exp gives $p_c$, differentiating $-\theta_t$ gives
$-\mathbf 1[c = t]$, so $\nabla_\theta L = p - e_t$ with $e_t$ the one-hot vector of
$t$ (shape of $\theta$: (C,), a row (1, C) or a column (C, 1)).

A batch is a matrix $\Theta \in \mathbb{R}^{N \times C}$ (one example per row) with `t` of shape
(N,): the loss is the mean $\frac1N \sum_i L(\Theta_{i,:})$ for true classes $t_i$, and its gradient
is $(P - T) / N$, with $P$ the softmax of each row and row i of $T$ the one-hot $e_{t_i}$. Without a
t, `softmax` and `logsumexp` treat an (N, C) matrix with N, C > 1 row by row and a (1, C) or (C, 1)
array as one vector.

Both exponentials are taken after subtracting the largest logit, so logits of size 1e4 neither
overflow nor lose the loss to cancellation. `backward` takes no upstream gradient: the loss is
the end of the chain (if L feeds a larger loss, multiply by that loss's derivative in L yourself).
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from gradlib._validate import Checked, as_class_index, as_float_array, as_matrix, as_vector, rule_error, validated

RULE = "softmax_xent"


def _rows(theta: ArrayLike, t: ArrayLike | None = None) -> tuple[np.ndarray, tuple[int, ...], bool]:
    """(theta as an (N, C) matrix of logit rows, theta's own shape, whether it is a batch).

    A vector (C,), (1, C) or (C, 1) is one row. A matrix is a batch when t is an array
    (`forward`/`backward`) or, for `softmax`/`logsumexp` (no t), when both sides exceed 1.
    """
    array = as_float_array(RULE, "theta", theta, ndim=(1, 2))
    batch = (np.ndim(t) > 0) if t is not None else (array.ndim == 2 and min(array.shape) > 1)
    if not batch:
        hint = "a batch (N, C) needs t of shape (N,)" if t is not None else ""
        return as_vector(RULE, "theta", array, hint=hint)[0][None, :], array.shape, False
    if t is not None and (array.ndim != 2 or np.shape(t) != array.shape[:1]):
        raise rule_error(RULE, f"t is {np.shape(t)} but theta is {array.shape}; a batch needs theta (N, C) "
                         "and t (N,), a single example an int t")
    return as_matrix(RULE, "theta", array), array.shape, True


def _logit_rows(theta: ArrayLike) -> Checked:
    rows, shape, batch = _rows(theta)
    # back to theta's shape: a matrix of probabilities, or one log-sum-exp per row (a number for one row)
    return (rows,), lambda out: out.reshape(shape) if out.ndim == 2 else out if batch else out[0]


def _logits_and_classes(theta: ArrayLike, t: ArrayLike) -> Checked:
    rows, shape, _ = _rows(theta, t)
    t = as_class_index(RULE, t, rows.shape[1], shape).reshape(-1)
    return (rows, t), lambda out: out.reshape(shape) if np.ndim(out) == 2 else out


def _shifted(rows: np.ndarray) -> np.ndarray:
    """Each row minus its largest logit, so exp can't overflow (real part: complex steps pass through)."""
    return rows - np.max(rows.real, axis=1, keepdims=True)


def _softmax_rows(rows: np.ndarray) -> np.ndarray:
    e = np.exp(_shifted(rows))
    return e / e.sum(axis=1, keepdims=True)


@validated(_logit_rows)
def softmax(theta: ArrayLike) -> np.ndarray:
    """p_c = exp(theta_c) / sum_c' exp(theta_c'), in theta's shape (row by row for an (N, C) batch)."""
    return _softmax_rows(theta)


@validated(_logit_rows)
def logsumexp(theta: ArrayLike) -> np.floating | np.ndarray:
    """log sum_c exp(theta_c), computed as m + log sum_c exp(theta_c - m) with m = max theta; (N,) for a batch."""
    return np.max(theta.real, axis=1) + np.log(np.exp(_shifted(theta)).sum(axis=1))


def onehot(t: ArrayLike, C: int) -> np.ndarray:
    """The one-hot e_t (entry t is 1, the rest 0), shape (C,); for t of shape (N,) the (N, C) matrix T of them."""
    t = as_class_index(RULE, t, C, (C,))
    return (np.arange(C) == t[..., None]).astype(np.float64)


@validated(_logits_and_classes)
def forward(theta: ArrayLike, t: ArrayLike) -> np.floating:
    """L = log sum_c exp(theta_c) - theta_t; for a batch (one example per row) the mean of the rows' losses."""
    z = _shifted(theta)  # L is unchanged by the shift, and exact even for logits of size 1e4
    return (np.log(np.exp(z).sum(axis=1)) - z[np.arange(len(t)), t]).mean()


@validated(_logits_and_classes)
def backward(theta: ArrayLike, t: ArrayLike) -> np.ndarray:
    """dL/dtheta = p - e_t = softmax(theta) - onehot(t) in theta's shape; for a batch each row divided by N."""
    return (_softmax_rows(theta) - onehot(t, theta.shape[1])) / len(t)
