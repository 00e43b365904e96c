"""gradlib: the gradient rules of matrix calculus used in machine learning.

One small module per rule of Christopher Yeh's *Gradient Notes* (2024), each with
``forward`` and ``backward``, and a finite-difference checker to verify them:

>>> import numpy as np, gradlib
>>> W, x = np.ones((2, 3)), np.arange(3.0)
>>> r = np.array([1.0, -1.0])                      # dL/dz for some scalar L of z = W x
>>> dW, dx = gradlib.matvec.backward(r, W, x)      # dW = r^T x^T, the outer product
>>> bool(gradlib.check_gradient(lambda W: r @ (W @ x), W, dW))
True
"""
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
from gradlib.display import show_lines, show_source

__all__ = [
    "CheckResult", "GradlibError", "broadcast_add", "broadcast_mul", "check_gradient", "gather", "jacobian",
    "matmul", "matvec", "mlp", "numerical_gradient", "numerical_jacobian", "reduce_max", "show_lines",
    "show_source", "softmax_xent", "vecmat",
]
