r"""Softmax cross-entropy loss and its gradient w.r.t. the logits (Yeh, *Gradient Notes*, section 2).

For logits $\theta \in \mathbb{R}^C$ and a true class $t$, the predicted
probabilities are $\hat y = \mathrm{softmax}(\theta)$, $\hat y_c = e^{\theta_c} / \sum_{c'} e^{\theta_{c'}}$,
and the loss is the negative log-probability of the true class,

$$
J(\theta) = -\log \hat y_t = \log \textstyle\sum_c e^{\theta_c} - \theta_t .
$$

Differentiating the log-sum-exp gives $\hat y_c$, differentiating $-\theta_t$ gives
$-\mathbf 1[c = t]$, so $\nabla_\theta J = \hat y - y$ with $y$ the one-hot vector of
$t$ (shape of $\theta$: (C,), a row (1, C) or a column (C, 1)).

A batch is a matrix $\Theta \in \mathbb{R}^{N \times C}$ (one example per row) with `t` of shape
(N,): the loss is the mean $\frac1N \sum_i J(\Theta_{i,:})$ for true classes $t_i$, and its gradient
is $(\mathrm{softmax}(\Theta_{i,:}) - y_i) / N$ row by row. Without a t, `softmax` and `logsumexp` treat
an (N, C) matrix with N, C > 1 row by row and a (1, C) or (C, 1) array as one vector.

Both exponentials are taken after subtracting the largest logit, so logits of size 1e4 neither
overflow nor lose the loss to cancellation. `backward` takes no upstream gradient: the loss is
the end of the chain (multiply by dA/dJ yourself if it is not).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from gradlib._validate import as_class_index, as_float_array, as_matrix, as_vector, fail

RULE = "softmax_xent"


def _rows(theta: Any, t: Any = None) -> tuple[np.ndarray, tuple[int, ...], bool]:
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
        raise fail(RULE, f"t is {np.shape(t)} but theta is {array.shape}; a batch needs theta (N, C) "
                         "and t (N,), a single example an int t")
    return as_matrix(RULE, "theta", array), array.shape, True


def _shifted(rows: np.ndarray) -> np.ndarray:
    """Each row minus its largest logit, so exp can't overflow (real part: complex steps pass through)."""
    return rows - np.max(rows.real, axis=1, keepdims=True)


def _softmax_rows(rows: np.ndarray) -> np.ndarray:
    e = np.exp(_shifted(rows))
    return e / e.sum(axis=1, keepdims=True)


def softmax(theta: Any) -> np.ndarray:
    """y_hat_c = exp(theta_c) / sum_c' exp(theta_c'), in theta's shape (row by row for an (N, C) batch)."""
    rows, shape, _ = _rows(theta)
    return _softmax_rows(rows).reshape(shape)


def logsumexp(theta: Any) -> np.floating | np.ndarray:
    """log sum_c exp(theta_c), computed as m + log sum_c exp(theta_c - m) with m = max theta; (N,) for a batch."""
    rows, _, batch = _rows(theta)
    out = np.max(rows.real, axis=1) + np.log(np.exp(_shifted(rows)).sum(axis=1))
    return out if batch else out[0]


def onehot(t: Any, C: int) -> np.ndarray:
    """The one-hot y (y_t = 1, else 0), shape (C,); for t of shape (N,) an (N, C) matrix of them."""
    t = as_class_index(RULE, t, C, (C,))
    return (np.arange(C) == t[..., None]).astype(np.float64)


def forward(theta: Any, t: Any) -> np.floating:
    """J = log sum_c exp(theta_c) - theta_t; for a batch the mean of the rows' losses."""
    rows, shape, _ = _rows(theta, t)
    t = as_class_index(RULE, t, rows.shape[1], shape).reshape(-1)
    z = _shifted(rows)  # J is unchanged by the shift, and exact even for logits of size 1e4
    return (np.log(np.exp(z).sum(axis=1)) - z[np.arange(len(t)), t]).mean()


def backward(theta: Any, t: Any) -> np.ndarray:
    """dJ/dtheta = softmax(theta) - onehot(t) in theta's shape; for a batch each row divided by N."""
    rows, shape, _ = _rows(theta, t)
    t = as_class_index(RULE, t, rows.shape[1], shape).reshape(-1)
    return ((_softmax_rows(rows) - onehot(t, rows.shape[1])) / len(t)).reshape(shape)
