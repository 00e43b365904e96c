r"""Analytic Jacobians of the maps chapter 1 uses (Yeh, *Gradient Notes*, section 1).

For $f : \mathbb{R}^n \to \mathbb{R}^m$ the Jacobian is the m x n matrix of all first partial
derivatives, one row per output and one column per input (the layout `numerical_jacobian` uses too):

$$
\mathbf J_{ij} = \frac{\partial f_i}{\partial x_j}.
$$

A scalar map (m = 1) has a 1 x n Jacobian: its gradient written as a row.

Each map below is a `Map`: `f.forward(x)` (or just `f(x)`) and `f.jacobian(x)`. x is a vector given
as (n,), a row (1, n) or a column (n, 1); `forward` answers in the same convention.

- `linear(M)`: $f(x) = M x$, $\mathbf J = M$ (x a column or 1-D).
- `elementwise(name, f, df)`: $f(x)_i = f(x_i)$, so output i depends on input i only and
  $\mathbf J = \mathrm{diag}(f'(x))$; `tanh` is one, with $\tanh' = 1 - \tanh^2$.
- `softmax`: $p = \mathrm{softmax}(x)$, $\mathbf J_{ij} = p_i(\mathbf 1[i = j] - p_j)$, i.e.
  $\mathbf J = \mathrm{diag}(p) - p p^T$.
- `scalar(name, f, grad)`: a scalar map with its gradient as the 1 x n Jacobian; `sum_of_squares`
  ($\sum_i x_i^2$, $\mathbf J = 2 x^T$) and `softmax_xent(t)` ($\mathbf J = (\mathrm{softmax}(x) - e_t)^T$ for the
  true class t, $e_t$ its one-hot vector; section 2) are two.

>>> import numpy as np; from gradlib import jacobian, numerical_jacobian
>>> x = np.array([0.5, -1.0, 2.0])
>>> bool(np.allclose(jacobian.softmax.jacobian(x), numerical_jacobian(jacobian.softmax, x)))
True
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from gradlib import softmax_xent as _xent
from gradlib._validate import VECTOR_KINDS, as_matrix, as_vector, rule_error, shaped


@dataclass(frozen=True)
class Map:
    """A map f: R^n -> R^m with its analytic Jacobian J; both are handed x as a checked 1-D array."""

    name: str
    f: Callable[[np.ndarray], Any]
    J: Callable[[np.ndarray], np.ndarray]
    kinds: tuple[str, ...] = VECTOR_KINDS
    size: int | None = None
    size_of: str = ""

    def _x(self, x: Any) -> tuple[np.ndarray, str]:
        return as_vector(f"jacobian.{self.name}", "x", x, kinds=self.kinds, size=self.size, of=self.size_of)

    def forward(self, x: Any) -> Any:
        """f(x): a vector in x's convention, or a scalar."""
        x, kind = self._x(x)
        out = self.f(x)
        return shaped(out, kind) if np.ndim(out) == 1 else out

    __call__ = forward

    def jacobian(self, x: Any) -> np.ndarray:
        """The (m, n) matrix J_ij = df_i/dx_j at x."""
        return self.J(self._x(x)[0])


def linear(M: Any) -> Map:
    """f(x) = M x for an (m, n) matrix M; its Jacobian is M itself, wherever x is."""
    M = as_matrix("jacobian.linear", "M", M)
    return Map("linear", lambda x: M @ x, lambda x: M.copy(), kinds=("flat", "column"),
               size=M.shape[1], size_of=f"each row of M {M.shape}")


def elementwise(name: str, f: Callable[[np.ndarray], np.ndarray], df: Callable[[np.ndarray], np.ndarray]) -> Map:
    """f applied entry by entry; df is its derivative. The Jacobian is diag(df(x))."""
    def J(x: np.ndarray) -> np.ndarray:
        d = np.asarray(df(x))
        if d.shape != x.shape:
            raise rule_error(f"jacobian.{name}", f"df(x) is {d.shape} but x is {x.shape}; df must act entry by entry")
        return np.diag(d)
    return Map(name, f, J)


def scalar(name: str, f: Callable[[np.ndarray], Any], grad: Callable[[np.ndarray], np.ndarray]) -> Map:
    """A scalar map f: R^n -> R with its gradient grad(x) (n entries), returned as the 1 x n Jacobian."""
    return Map(name, f, lambda x: np.asarray(grad(x)).reshape(1, x.size))


def _softmax_jacobian(x: np.ndarray) -> np.ndarray:
    p = _xent.softmax(x)
    return np.diag(p) - np.outer(p, p)


tanh = elementwise("tanh", np.tanh, lambda x: 1.0 - np.tanh(x) ** 2)
softmax = Map("softmax", _xent.softmax, _softmax_jacobian)
sum_of_squares = scalar("sum_of_squares", lambda x: np.sum(x**2), lambda x: 2.0 * x)


def softmax_xent(t: int) -> Map:
    """The softmax cross-entropy loss for true class t as a map of the logits; J = (softmax(x) - onehot(t))^T."""
    return scalar(f"softmax_xent(t={t})", lambda x: _xent.forward(x, t), lambda x: _xent.backward(x, t))
