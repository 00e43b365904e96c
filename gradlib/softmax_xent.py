r"""Softmax cross-entropy loss and its gradient w.r.t. the logits (Yeh, *Gradient Notes*, section 2).

For logits $\theta \in \mathbb{R}^C$ and a true class $k$, the predicted
probabilities are $\hat y = \mathrm{softmax}(\theta)$, $\hat y_c = e^{\theta_c} / \sum_{c'} e^{\theta_{c'}}$,
and the loss is the negative log-probability of the true class,

$$
J(\theta) = -\log \hat y_k = \log \textstyle\sum_c e^{\theta_c} - \theta_k .
$$

Differentiating the log-sum-exp gives $\hat y_i$, differentiating $-\theta_k$ gives
$-\mathbf 1[i = k]$, so $\nabla_\theta J = \hat y - y$ with $y$ the one-hot vector of
$k$ (shape of $\theta$: (C,), a row (1, C) or a column (C, 1)).

A batch is a matrix $\Theta \in \mathbb{R}^{N \times C}$ (one example per row) with `k` of shape
(N,): the loss is the mean $\frac1N \sum_n J(\Theta_n)$ and its gradient is
$(\mathrm{softmax}(\Theta_n) - y_n) / N$ row by row. Without a k, `softmax` and `logsumexp` treat
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


def _rows(theta: Any, k: Any = None) -> tuple[np.ndarray, tuple[int, ...], bool]:
    """(theta as an (N, C) matrix of logit rows, theta's own shape, whether it is a batch).

    A vector (C,), (1, C) or (C, 1) is one row. A matrix is a batch when k is an array
    (`forward`/`backward`) or, for `softmax`/`logsumexp` (no k), when both sides exceed 1.
    """
    array = as_float_array(RULE, "theta", theta, ndim=(1, 2))
    batch = (np.ndim(k) > 0) if k is not None else (array.ndim == 2 and min(array.shape) > 1)
    if not batch:
        hint = "a batch (N, C) needs k of shape (N,)" if k is not None else ""
        return as_vector(RULE, "theta", array, hint=hint)[0][None, :], array.shape, False
    if k is not None and (array.ndim != 2 or np.shape(k) != array.shape[:1]):
        raise fail(RULE, f"k is {np.shape(k)} but theta is {array.shape}; a batch needs theta (N, C) "
                         "and k (N,), a single example an int k")
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


def onehot(k: Any, C: int) -> np.ndarray:
    """The one-hot y (y_k = 1, else 0), shape (C,); for k of shape (N,) an (N, C) matrix of them."""
    k = as_class_index(RULE, k, C, (C,))
    return (np.arange(C) == k[..., None]).astype(np.float64)


def forward(theta: Any, k: Any) -> np.floating:
    """J = log sum_c exp(theta_c) - theta_k; for a batch the mean of the rows' losses."""
    rows, shape, _ = _rows(theta, k)
    k = as_class_index(RULE, k, rows.shape[1], shape).reshape(-1)
    z = _shifted(rows)  # J is unchanged by the shift, and exact even for logits of size 1e4
    return (np.log(np.exp(z).sum(axis=1)) - z[np.arange(len(k)), k]).mean()


def backward(theta: Any, k: Any) -> np.ndarray:
    """dJ/dtheta = softmax(theta) - onehot(k) in theta's shape; for a batch each row divided by N."""
    rows, shape, _ = _rows(theta, k)
    k = as_class_index(RULE, k, rows.shape[1], shape).reshape(-1)
    return ((_softmax_rows(rows) - onehot(k, rows.shape[1])) / len(k)).reshape(shape)
