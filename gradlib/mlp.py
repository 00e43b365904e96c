r"""A two-layer classifier, differentiated with nothing but the book's rules (chapter 8).

Row convention of chapters 4-6 (one example per row): for a batch $X \in \mathbb{R}^{N \times D}$
and integer classes $t \in \{0, \dots, C-1\}^N$,

$$
A = X W_1 + b_1,\quad H = \mathrm{relu}(A),\quad L = H W_2 + b_2,\quad
J = \frac1N \sum_{i=1}^N \bigl(\log \textstyle\sum_c e^{L_{ic}} - L_{i t_i}\bigr),
$$

with $W_1 \in \mathbb{R}^{D \times H}$, $b_1 \in \mathbb{R}^{H}$, $W_2 \in \mathbb{R}^{H \times C}$,
$b_2 \in \mathbb{R}^{C}$. :func:`backward` runs the chain rule backwards, one chapter's rule per
line, each called through its module (so swapping a module for a wrong one changes the result):

$$
\frac{\partial J}{\partial L} = \frac{\mathrm{softmax}(L) - Y}{N},\
\frac{\partial J}{\partial W_2} = H^T \frac{\partial J}{\partial L},\
\frac{\partial J}{\partial H} = \frac{\partial J}{\partial L} W_2^T,\
\frac{\partial J}{\partial A} = \frac{\partial J}{\partial H} \odot \mathbf 1[A > 0],\
\frac{\partial J}{\partial W_1} = X^T \frac{\partial J}{\partial A},
$$

and each bias gradient is the column sum of its layer's upstream gradient (chapter 6).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from gradlib import broadcast_add, matmul, softmax_xent
from gradlib._validate import as_float_array, mismatch, rule_error

RULE = "mlp"
PARAMS = ("W1", "b1", "W2", "b2")


def init(D: int, H: int, C: int, *, seed: int = 0) -> dict[str, np.ndarray]:
    """He initialisation: W1 ~ N(0, 2/D), W2 ~ N(0, 2/H), biases 0 (float64; same seed, same arrays).

    The variance 2/fan-in keeps the size of the activations roughly constant from layer to layer
    behind a ReLU, which zeroes about half of its inputs.
    """
    for name, size in (("D", D), ("H", H), ("C", C)):
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
            raise rule_error(RULE, f"{name} must be a positive int, got {size!r}")
    rng = np.random.default_rng(seed)
    return {"W1": rng.normal(0.0, np.sqrt(2.0 / D), size=(D, H)), "b1": np.zeros(H),
            "W2": rng.normal(0.0, np.sqrt(2.0 / H), size=(H, C)), "b2": np.zeros(C)}


def _params(params: Any) -> tuple[np.ndarray, ...]:
    """(W1, b1, W2, b2), checked: present, float, finite, and shapes (D, H), (H,), (H, C), (C,); a bias
    may also be a (1, H) or (1, C) row, and its gradient then comes back as a row."""
    if not isinstance(params, dict):
        raise rule_error(RULE, f"params must be a dict with keys {', '.join(PARAMS)}, got {type(params).__name__}")
    missing = [name for name in PARAMS if name not in params]
    if missing:
        raise rule_error(RULE, f"params is missing {', '.join(missing)}; it needs {', '.join(PARAMS)} "
                         f"(got keys {', '.join(map(str, params)) or 'none'})")
    W1 = as_float_array(RULE, "W1", params["W1"], ndim=(2,))
    b1 = as_float_array(RULE, "b1", params["b1"], ndim=(1, 2))
    W2 = as_float_array(RULE, "W2", params["W2"], ndim=(2,))
    b2 = as_float_array(RULE, "b2", params["b2"], ndim=(1, 2))
    for name, array in (("W1", W1), ("b1", b1), ("W2", W2), ("b2", b2)):
        if array.size == 0:
            raise rule_error(RULE, f"{name} is empty (shape {array.shape})")
    H, C = W1.shape[1], W2.shape[1]
    if b1.shape not in ((H,), (1, H)):
        raise mismatch(RULE, "b1", b1.shape, "W1", W1.shape, f"b1 needs one entry per column of W1, ({H},) or (1, {H})")
    if W2.shape[0] != W1.shape[1]:
        raise mismatch(RULE, "W2", W2.shape, "W1", W1.shape, "W2 needs one row per hidden unit (column of W1)")
    if b2.shape not in ((C,), (1, C)):
        raise mismatch(RULE, "b2", b2.shape, "W2", W2.shape, f"b2 needs one entry per column of W2, ({C},) or (1, {C})")
    return W1, b1, W2, b2


def _inputs(params: Any, X: Any) -> tuple[np.ndarray, ...]:
    W1, b1, W2, b2 = _params(params)
    X = as_float_array(RULE, "X", X, ndim=(2,))
    if X.size == 0:
        raise rule_error(RULE, f"X is empty (shape {X.shape}); it needs at least one example (row)")
    if X.shape[1] != W1.shape[0]:
        raise mismatch(RULE, "X", X.shape, "W1", W1.shape, "X needs one column per row of W1 (D)")
    return X, W1, b1, W2, b2


def _classes(t: Any, N: int, C: int) -> np.ndarray:
    """t as an (N,) integer array of classes 0..C-1 (floats and booleans are refused)."""
    array = np.asarray(t)
    if array.dtype.kind not in "iu":
        raise rule_error(RULE, f"t must be integer class indices of shape ({N},), got dtype {array.dtype} "
                         f"shape {array.shape}")
    if array.shape != (N,):
        raise rule_error(RULE, f"t is {array.shape} but X has {N} rows; t needs one class per row, shape ({N},)")
    bad = np.flatnonzero((array < 0) | (array >= C))
    if bad.size:
        raise rule_error(RULE, f"t[{bad[0]}]={array[bad[0]]} is out of range 0..{C - 1} for W2 with {C} classes")
    return array


def relu(A: np.ndarray) -> np.ndarray:
    """max(0, A), entry by entry (chapter 1's elementwise map); decided by the real part, so the
    checker's complex steps pass through."""
    return np.where(np.real(A) > 0, A, 0.0)


def _logits(X: np.ndarray, W1: np.ndarray, b1: np.ndarray, W2: np.ndarray, b2: np.ndarray) -> np.ndarray:
    """L = relu(X W1 + b1) W2 + b2, shape (N, C)."""
    return broadcast_add.forward(matmul.forward(relu(broadcast_add.forward(matmul.forward(X, W1), b1)), W2), b2)


def trace(params: Any, X: Any, t: Any) -> dict[str, np.ndarray]:
    """Every array of one forward and one backward pass, by name (what chapter 8 and its explorer show)."""
    X, W1, b1, W2, b2 = _inputs(params, X)
    t = _classes(t, X.shape[0], W2.shape[1])
    # forward
    Z1 = matmul.forward(X, W1)                       # ch 5: Z1 = X W1
    A = broadcast_add.forward(Z1, b1)                # ch 6: A = Z1 + b1 (b1 added to every row)
    H = relu(A)                                      # ch 1: elementwise map
    Z2 = matmul.forward(H, W2)                       # ch 5: Z2 = H W2
    L = broadcast_add.forward(Z2, b2)                # ch 6: the logits
    # backward, node by node in reverse
    dL = softmax_xent.backward(L, t)                 # ch 2, batch form: (softmax(L) - Y) / N, the 1/N of the mean
    dZ2, db2 = broadcast_add.backward(dL, Z2, b2)    # ch 6: dZ2 = dL; db2 = sum of dL over the batch
    dH, dW2 = matmul.backward(dZ2, H, W2)            # ch 5: dH = dZ2 W2^T, dW2 = H^T dZ2
    dA = dH * (A.real > 0)                           # ch 1: relu's Jacobian is diag(1[A > 0]), so r J = r * mask
    dZ1, db1 = broadcast_add.backward(dA, Z1, b1)    # ch 6: dZ1 = dA; db1 = sum of dA over the batch
    dX, dW1 = matmul.backward(dZ1, X, W1)            # ch 5: dX = dZ1 W1^T, dW1 = X^T dZ1
    return {"Z1": Z1, "A": A, "H": H, "Z2": Z2, "L": L, "dL": dL, "db2": db2, "dW2": dW2, "dH": dH,
            "dA": dA, "db1": db1, "dW1": dW1, "dX": dX}


def forward(params: Any, X: Any, t: Any) -> float:
    """The mean softmax cross-entropy J of the logits L = relu(X W1 + b1) W2 + b2 against classes t."""
    X, W1, b1, W2, b2 = _inputs(params, X)
    t = _classes(t, X.shape[0], W2.shape[1])
    J = softmax_xent.forward(_logits(X, W1, b1, W2, b2), t)
    return float(J) if np.isrealobj(J) else J  # complex only under the checker's complex step


def backward(params: Any, X: Any, t: Any) -> dict[str, np.ndarray]:
    """dJ/dW1 (D, H), dJ/db1 (H,), dJ/dW2 (H, C), dJ/db2 (C,): the chain of :func:`trace`."""
    arrays = trace(params, X, t)
    return {name: arrays[f"d{name}"] for name in PARAMS}


def predict(params: Any, X: Any) -> np.ndarray:
    """The class with the largest logit for each row of X, shape (N,)."""
    return np.argmax(_logits(*_inputs(params, X)), axis=1)
