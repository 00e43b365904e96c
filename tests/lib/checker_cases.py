"""What the checker's tests share: a smooth test function of any shape with its gradient, a call
counter, the normwise error, and the methods."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

METHODS = ["central", "richardson", "complex"]


class Counter:
    """Wraps f and counts its calls."""

    def __init__(self, f: Callable) -> None:
        self.f, self.calls = f, 0

    def __call__(self, x: np.ndarray) -> object:
        self.calls += 1
        return self.f(x)


def smooth(x: np.ndarray) -> object:
    """A smooth, holomorphic-as-written test function of any shape."""
    return np.sum(np.sin(x) * x ** 2) + 0.5 * np.sum(x) ** 2


def smooth_grad(x: np.ndarray) -> np.ndarray:
    """The gradient of :func:`smooth`."""
    return np.cos(x) * x ** 2 + 2 * x * np.sin(x) + np.sum(x)


def normwise(numerical: np.ndarray, exact: np.ndarray) -> float:
    """``max|numerical - exact| / max|exact|``."""
    return np.abs(numerical - exact).max() / np.abs(exact).max()
