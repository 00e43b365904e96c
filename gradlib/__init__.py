"""gradlib: the gradient rules of matrix calculus used in machine learning.

One small module per rule of Christopher Yeh's *Gradient Notes* (2024), each with
``forward`` and ``backward``, and a finite-difference checker to verify them:

>>> import numpy as np, gradlib
>>> W, x = np.ones((2, 3)), np.arange(3.0)
>>> r = np.array([1.0, -1.0])                      # dL/dz for some scalar L of z = W x
>>> dW, dx = gradlib.matvec.backward(r, W, x)      # dW = r^T x^T, the outer product
>>> bool(gradlib.check_gradient(lambda W: r @ (W @ x), W, dW))
True

Importing gradlib loads no notebook or view code (IPython, widgets, HTML): the chapters' source
listings ``gradlib.show_source`` and ``gradlib.show_lines`` load :mod:`gradlib.display` on first use.
"""
from __future__ import annotations

from typing import Any

from gradlib import (
    broadcast_add,
    broadcast_mul,
    gather,
    jacobian,
    matmul,
    matvec,
    mlp,
    reduce_max,
    softmax_xent,
    vecmat,
)
from gradlib._validate import GradlibError
from gradlib.checker import CheckResult, check_gradient, numerical_gradient, numerical_jacobian

__all__ = [
    "CheckResult", "GradlibError", "broadcast_add", "broadcast_mul", "check_gradient", "gather", "jacobian",
    "matmul", "matvec", "mlp", "numerical_gradient", "numerical_jacobian", "reduce_max", "show_lines",
    "show_source", "softmax_xent", "vecmat",
]


_DISPLAYED = ("show_lines", "show_source")  # from gradlib.display, which a notebook imports on first use


def __getattr__(name: str) -> Any:
    """``show_source`` and ``show_lines`` from :mod:`gradlib.display`, imported when first asked for."""
    if name in _DISPLAYED:
        from gradlib import display

        return getattr(display, name)
    raise AttributeError(f"module 'gradlib' has no attribute {name!r}")


def __dir__() -> list[str]:
    """The module's names and the two listed lazily, so a notebook completes ``gradlib.show_<tab>``."""
    return sorted({*globals(), *_DISPLAYED})
