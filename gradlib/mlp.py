r"""A two-layer classifier, differentiated with nothing but the book's rules (chapter 9).

Row convention of chapters 4-6 (one example per row): for a batch $X \in \mathbb{R}^{N \times D}$
and integer classes $t \in \{0, \dots, C-1\}^N$,

$$
Z_1 = X W_1 + b_1,\quad H = \mathrm{relu}(Z_1),\quad \Theta = H W_2 + b_2,\quad
L = \frac1N \sum_{i=1}^N \bigl(\log \textstyle\sum_c e^{\Theta_{ic}} - \Theta_{i t_i}\bigr),
$$

with $W_1 \in \mathbb{R}^{D \times H}$, $b_1 \in \mathbb{R}^{H}$, $W_2 \in \mathbb{R}^{H \times C}$,
$b_2 \in \mathbb{R}^{C}$. :func:`backward` runs the chain rule backwards, one chapter's rule per
line, each called through its module (so swapping a module for a wrong one changes the result):

$$
G_\Theta = \frac{\mathrm{softmax}(\Theta) - T}{N},\
\frac{\partial L}{\partial W_2} = H^T G_\Theta,\
G_H = G_\Theta W_2^T,\
G_{Z_1} = G_H \odot \mathbf 1[Z_1 > 0],\
\frac{\partial L}{\partial W_1} = X^T G_{Z_1},
$$

($T$ the one-hot rows of t) and each bias gradient is the column sum of its layer's upstream gradient (chapter 6).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from gradlib import broadcast_add, matmul, softmax_xent
from gradlib._validate import (
    Checked,
    as_class_index,
    as_float_array,
    as_matrix,
    is_int,
    mismatch,
    rule_error,
    validated,
)

RULE = "mlp"
PARAMS = ("W1", "b1", "W2", "b2")


def init(D: int, H: int, C: int, *, seed: int = 0) -> dict[str, np.ndarray]:
    """He initialisation: W1 ~ N(0, 2/D), W2 ~ N(0, 2/H), biases 0 (float64; same seed, same arrays).

    The variance 2/fan-in keeps the size of the activations roughly constant from layer to layer
    behind a ReLU, which zeroes about half of its inputs.
    """
    for name, size in (("D", D), ("H", H), ("C", C)):
        if not is_int(size) or size < 1:
            raise rule_error(RULE, f"{name} must be a positive int, got {size!r}")
    rng = np.random.default_rng(seed)
    return {"W1": rng.normal(0.0, np.sqrt(2.0 / D), size=(D, H)), "b1": np.zeros(H),
            "W2": rng.normal(0.0, np.sqrt(2.0 / H), size=(H, C)), "b2": np.zeros(C)}


def _params(params: Any) -> dict[str, np.ndarray]:
    """W1, b1, W2, b2, checked: present, float, finite, and shapes (D, H), (H,), (H, C), (C,); a bias
    may also be a (1, H) or (1, C) row, and its gradient then comes back as a row."""
    if not isinstance(params, dict):
        raise rule_error(RULE, f"params must be a dict with keys {', '.join(PARAMS)}, got {type(params).__name__}")
    missing = [name for name in PARAMS if name not in params]
    if missing:
        raise rule_error(RULE, f"params is missing {', '.join(missing)}; it needs {', '.join(PARAMS)} "
                         f"(got keys {', '.join(map(str, params)) or 'none'})")
    W1, W2 = as_matrix(RULE, "W1", params["W1"]), as_matrix(RULE, "W2", params["W2"])
    H, C = W1.shape[1], W2.shape[1]
    if W2.shape[0] != H:
        raise mismatch(RULE, "W2", W2.shape, "W1", W1.shape, "W2 needs one row per hidden unit (column of W1)")
    checked = {"W1": W1, "W2": W2}
    for name, weights, size in (("b1", W1, H), ("b2", W2, C)):
        bias = as_float_array(RULE, name, params[name], ndim=(1, 2))
        if bias.shape not in ((size,), (1, size)):
            raise mismatch(RULE, name, bias.shape, f"W{name[1]}", weights.shape,
                           f"{name} needs one entry per column of W{name[1]}, ({size},) or (1, {size})")
        checked[name] = bias
    return {name: checked[name] for name in PARAMS}


def _inputs(params: Any, X: Any) -> tuple[dict[str, np.ndarray], np.ndarray]:
    params = _params(params)
    X = as_matrix(RULE, "X", X)
    if X.shape[1] != params["W1"].shape[0]:
        raise mismatch(RULE, "X", X.shape, "W1", params["W1"].shape, "X needs one column per row of W1 (D)")
    return params, X


def _network(params: Any, X: Any, t: Any) -> Checked:
    """The checks of forward, backward and trace: (params, X) as above and t, N class indices below C."""
    params, X = _inputs(params, X)
    N, C = X.shape[0], params["W2"].shape[1]
    if np.shape(t) != (N,):
        raise rule_error(RULE, f"t is {np.shape(t)} but X has {N} rows; t needs one class per row, shape ({N},)")
    return (params, X, as_class_index(RULE, t, C, (N, C))), None


def _network_without_classes(params: Any, X: Any) -> Checked:
    return _inputs(params, X), None


def relu(Z: np.ndarray) -> np.ndarray:
    """max(0, Z), entry by entry (chapter 1's elementwise map); decided by the real part, so the
    checker's complex steps pass through."""
    return np.where(np.real(Z) > 0, Z, 0.0)


def _logits(p: dict[str, np.ndarray], X: np.ndarray) -> np.ndarray:
    """The logits Theta = relu(X W1 + b1) W2 + b2, shape (N, C)."""
    hidden = relu(broadcast_add.forward(matmul.forward(X, p["W1"]), p["b1"]))
    return broadcast_add.forward(matmul.forward(hidden, p["W2"]), p["b2"])


@validated(_network)
def trace(params: Any, X: Any, t: Any) -> dict[str, np.ndarray]:
    """Every array of one forward and one backward pass, by name (what chapter 9 and its explorer show)."""
    W1, b1, W2, b2 = (params[name] for name in PARAMS)
    # forward
    XW1 = matmul.forward(X, W1)                        # ch 5: X W1
    Z1 = broadcast_add.forward(XW1, b1)                # ch 6: Z1 = X W1 + b1 (b1 added to every row)
    H = relu(Z1)                                       # ch 1: elementwise map
    HW2 = matmul.forward(H, W2)                        # ch 5: H W2
    Theta = broadcast_add.forward(HW2, b2)             # ch 6: the logits
    # backward, node by node in reverse
    dTheta = softmax_xent.backward(Theta, t)           # ch 2, batch form: (softmax(Theta) - T) / N, the 1/N of the mean
    dHW2, db2 = broadcast_add.backward(dTheta, HW2, b2)  # ch 6: dHW2 = dTheta; db2 = sum of dTheta over the batch
    dH, dW2 = matmul.backward(dHW2, H, W2)             # ch 5: dH = dHW2 W2^T, dW2 = H^T dHW2
    dZ1 = dH * (Z1.real > 0)                           # ch 1: relu's Jacobian is diag(1[Z1 > 0]), so r J = r * mask
    dXW1, db1 = broadcast_add.backward(dZ1, XW1, b1)   # ch 6: dXW1 = dZ1; db1 = sum of dZ1 over the batch
    dX, dW1 = matmul.backward(dXW1, X, W1)             # ch 5: dX = dXW1 W1^T, dW1 = X^T dXW1
    return {"XW1": XW1, "Z1": Z1, "H": H, "HW2": HW2, "Theta": Theta, "dTheta": dTheta, "db2": db2, "dW2": dW2,
            "dH": dH, "dZ1": dZ1, "db1": db1, "dW1": dW1, "dX": dX}


@validated(_network)
def forward(params: Any, X: Any, t: Any) -> float:
    """The mean softmax cross-entropy L of the logits Theta = relu(X W1 + b1) W2 + b2 against classes t."""
    L = softmax_xent.forward(_logits(params, X), t)
    return float(L) if np.isrealobj(L) else L  # complex only under the checker's complex step


def backward(params: Any, X: Any, t: Any) -> dict[str, np.ndarray]:
    """dL/dW1 (D, H), dL/db1 (H,), dL/dW2 (H, C), dL/db2 (C,): the chain of :func:`trace`."""
    arrays = trace(params, X, t)
    return {name: arrays[f"d{name}"] for name in PARAMS}


@validated(_network_without_classes)
def predict(params: Any, X: Any) -> np.ndarray:
    """The class with the largest logit for each row of X, shape (N,)."""
    return np.argmax(_logits(params, X), axis=1)


class BackwardReport(dict):
    """``check_backward``'s answer: parameter name -> CheckResult, shown in a notebook as one table."""

    def _rows(self) -> list[list[str]]:
        return [[name, str(result.analytic.shape), "PASS" if result else "FAIL", f"{result.max_rel_error:.1e}",
                 result.diagnosis or ("" if result else "no pattern found: compare the tables of this check")]
                for name, result in self.items()]

    def __repr__(self) -> str:
        return "\n".join(f"{name} {shape}: {verdict} (max rel error {error}){'; ' + why if why else ''}"
                         for name, shape, verdict, error, why in self._rows())

    def _repr_html_(self) -> str:
        from gradlib.display import table_html
        return table_html(["parameter", "shape", "check", "max rel error", "diagnosis"], self._rows())


def check_backward(backward: Callable[..., Any], *, N: int = 6, D: int = 4, H: int = 5, C: int = 3,
                   seed: int = 0) -> BackwardReport:
    """Check a hand-written ``backward(params, X, t)`` of this network, one parameter at a time.

    Parameters from ``init(D, H, C, seed=seed)`` (biases made nonzero, so a forgotten bias shows),
    N examples X and classes t from the same seed. Returns {"W1", "b1", "W2", "b2"} -> the
    :func:`gradlib.check_gradient` of :func:`forward` w.r.t. that parameter against the gradient
    ``backward`` returned, each with check_gradient's own ``diagnosis`` of a slip. A gradient missing
    or of the wrong shape, or a ``backward`` that is not a function, is a GradlibError.
    """
    from gradlib.checker import check_gradient
    from gradlib.diagnosis import shape_hint

    who = "check_backward"
    if not callable(backward):
        raise rule_error(who, f"backward must be a function backward(params, X, t) -> dict of gradients, "
                         f"got {type(backward).__name__}")
    for name, size in (("N", N), ("seed", seed)):
        if not is_int(size) or size < (1 if name == "N" else 0):
            raise rule_error(who, f"{name} must be a {'positive' if name == 'N' else 'non-negative'} int, got {size!r}")
    params = init(D, H, C, seed=seed)
    rng = np.random.default_rng(seed)
    params["b1"], params["b2"] = rng.normal(0.0, 0.5, size=H), rng.normal(0.0, 0.5, size=C)
    X, t = rng.normal(size=(N, D)), rng.integers(0, C, size=N)
    grads = backward({k: v.copy() for k, v in params.items()}, X.copy(), t.copy())
    if not isinstance(grads, Mapping):
        raise rule_error(who, f"backward must return a dict with keys {', '.join(PARAMS)}, got {type(grads).__name__}")
    missing = [name for name in PARAMS if name not in grads]
    if missing:
        raise rule_error(who, f"backward returned no gradient for {', '.join(missing)}; it needs "
                         f"{', '.join(PARAMS)} (got keys {', '.join(map(str, grads)) or 'none'})")
    report = BackwardReport()
    for name in PARAMS:
        if grads[name] is Ellipsis or grads[name] is None:
            raise rule_error(who, f"d{name} is {grads[name]!r}: not computed yet (it needs shape {params[name].shape})")
        grad = as_float_array(who, f"d{name}", grads[name])
        if grad.shape != params[name].shape:
            raise rule_error(who, f"d{name} is {grad.shape} but {name} is {params[name].shape}; a gradient has its "
                             f"parameter's shape" + shape_hint(grad.shape, params[name].shape))
        report[name] = check_gradient(lambda value, name=name: forward({**params, name: value}, X, t),
                                      params[name], grad)
    return report
