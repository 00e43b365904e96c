"""The expressions the answer box's evaluator is held to (tests/lib/test_answer.py): every construct
of the supported numpy subset, broadcasting cases, numpy's errors, what is not supported, and hostile text."""
from __future__ import annotations

import numpy as np


def scope() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(21)
    values = {name: rng.normal(size=shape) for name, shape in
              {"r": (3,), "x": (4,), "W": (3, 4), "X": (4, 3), "Y": (3, 2), "G": (4, 2), "y": (3,),
               "T3": (2, 3, 4), "s": ()}.items()}
    values["t"] = rng.integers(3, size=4)  # classes 0..2: index rows of W, X[:3], np.eye(3)
    return values


# numpy evaluates each of these; the page must give the same shape and values.
VALID = [
    # numbers, names, arithmetic, unary minus, powers
    "2", "-3.5", "1e-3 * x", ".5 * x", "3. + x", "2.5E+1", "x", "W", "s", "s * W",
    "x + 1", "W - 2", "W * W", "W / 2", "1 / x", "x ** 2", "2 ** x", "-x ** 2", "(-x) ** 2", "x ** -1",
    "-W", "+x", "-(-x)", "--x", "x - -x", "2 * -x", "(x + 1) * (x - 1)", "W / W.sum()",
    # @, np.dot, np.matmul: every rank combination
    "W @ x", "r @ W", "x @ x", "X @ Y", "G @ Y.T", "X.T @ G", "W.T @ r", "W @ W.T", "T3 @ x", "T3 @ W.T",
    "x @ T3.transpose(0, 2, 1)", "np.ones((2, 1, 3, 4)) @ X", "np.matmul(X, Y)", "np.matmul(W, x)",
    "np.dot(r, W)", "np.dot(W, x)", "np.dot(2, x)", "np.dot(X, Y)", "np.dot(x, x)", "np.dot(s, W)",
    # broadcasting
    "W + x", "W * x", "r[:, None] * x", "r[:, None] + x[None, :]", "X + y", "X * y", "G @ Y.T * X - y",
    "W + W.sum(axis=1, keepdims=True)", "x[:, None, None] * W", "np.ones((2, 1, 4)) * W", "T3 + x", "T3 * r[:, None]",
    "W - W.mean(axis=0)", "np.ones((3, 1)) * np.ones((1, 4))",
    # comparisons (0/1 arrays) and np.where / np.maximum
    "W > 0", "x <= 0.5", "W == W", "x != x", "x >= 0", "x < 0", "r * (r > 0)", "np.where(W > 0, W, 0)",
    "np.where(x > 0, 1, -1)", "np.where(W > 0, x, -x)", "np.maximum(x, 0)", "np.maximum(W, x)", "np.maximum(0, W) * 2",
    # outer, sums and means
    "np.outer(r, x)", "np.outer(x, r)", "np.outer(W, r)", "np.outer(r, 2)", "np.sum(W)", "np.sum(W, axis=0)",
    "np.sum(W, 1)", "np.sum(W, axis=-1, keepdims=True)", "np.sum(W, axis=(0, 1))", "np.sum(T3, axis=(0, 2))",
    "np.sum(T3, (0, -1), keepdims=True)", "W.sum()", "W.sum(0)", "W.sum(axis=1)", "W.sum(axis=None)",
    "W.sum(keepdims=True)", "W.mean()", "W.mean(axis=0)", "np.mean(X, axis=0, keepdims=True)", "T3.mean(1)",
    "np.sum(s)", "np.sum(3)",
    # shapes: reshape, transpose, .T, .shape
    "W.reshape(4, 3)", "W.reshape((2, -1))", "W.reshape(-1)", "np.reshape(W, (12,))", "np.reshape(W, -1)",
    "x.reshape(1, -1)", "x.reshape(-1, 1) * r", "T3.reshape(6, 4)", "np.transpose(W)", "np.transpose(T3, (1, 0, 2))",
    "np.transpose(T3, axes=(2, 0, 1))", "W.transpose()", "W.transpose(1, 0)", "T3.transpose((1, 2, 0))", "T3.T",
    "x.T", "s.T", "W.T.T", "W.shape[0] * x", "W.shape[-1] + 0", "x / X.shape[0]",
    # exp, log, ones, zeros, eye, diag
    "np.exp(x)", "np.log(np.exp(x))", "np.log(x * x)", "np.exp(W).sum(axis=1)", "np.ones((3, 4))", "np.ones(3)",
    "np.ones((2,)) + 1", "np.zeros((2, 3))", "np.zeros(0)", "np.ones((0, 3))", "np.eye(3)", "np.eye(3, 4)",
    "np.eye(1)", "np.diag(r)", "np.diag(W)", "np.diag(np.diag(r))", "np.diag(r) - np.outer(r, r)",
    # indexing: integers, slices, None, one integer array
    "W[0]", "W[-1]", "W[1, 2]", "W[1][2]", "W[:, 1]", "W[1:]", "W[:2, ::2]", "W[::-1]", "W[None]", "W[:, None, :]",
    "W[np.newaxis]", "x[np.newaxis, :]", "x[1:3]", "x[-2:]", "x[::-2]", "x[10:]", "x[-10:2]", "x[3:0:-1]",
    "W[0, :][None]", "W[1:, 1:3]", "T3[1]", "T3[:, 0, ::-1]", "T3[0, 1:, 1]",
    "W[t]", "X[t]", "np.eye(3)[t]", "np.eye(3)[2]", "W[:, t]", "W[t, 1]", "T3[:, t]", "W[None, t]", "x[t[0]]",
    "r[:, None][t]", "(x + 1)[1:]", "W[1, -1]",
    # the helpers and the chapters' answers
    "softmax(x)", "softmax(W)", "softmax(1000 * x)", "onehot(t, 3)", "onehot(t[0], 3)", "softmax(X) - onehot(t, 3)",
    "(softmax(X) - onehot(t, 3)) / 4", "np.diag(softmax(x)) - np.outer(softmax(x), softmax(x))",
    "softmax(X) * (G @ Y.T - (G @ Y.T * softmax(X)).sum(axis=1, keepdims=True))",
    # tuples, constants, keywords
    "np.ones((2, 3,))", "np.sum(W, axis=1, keepdims=False)", "np.sum(W, axis=1, keepdims=True)",
    "np.where(True, x, 0)", "x * True", "np.eye(N=2, M=3)",
    # long flat chains (no deep recursion problem), spaces and tabs
    "x" + " + x" * 120, "x" + "*1" * 200, "W  @\t x ",
]

# numpy raises on each of these; the page gives an error (the message checked for some).
NUMPY_ERRORS = {
    "x @ r": "x @ r: (4,) and (3,) do not match",
    "W @ r": "W @ r: (3, 4) and (3,) do not match",
    "X @ X": "X @ X: (4, 3) and (4, 3) do not match",
    "np.matmul(W, W)": "np.matmul(W, W): (3, 4) and (3, 4) do not match",
    "np.dot(X, X)": "np.dot(X, X): (4, 3) and (4, 3) do not match",
    "x + r": "x + r: shapes (4,) and (3,) do not broadcast together",
    "W * X": "W * X: shapes (3, 4) and (4, 3) do not broadcast together",
    "np.where(W > 0, X, 0)": "np.where(W > 0, X, 0): shapes (3, 4) and (4, 3) and () do not broadcast together",
    "W.reshape(5, 2)": "W.reshape(5, 2): cannot reshape an array of shape (3, 4) (12 entries) into (5, 2)",
    "W.reshape(-1, 5)": "W.reshape(-1, 5): cannot reshape an array of shape (3, 4) (12 entries) into (-1, 5)",
    "W.sum(axis=2)": "W.sum(axis=2): axis 2 is out of range for an array with 2 axes",
    "W[3]": "W[3]: index 3 is out of range for axis 0 of size 3",
    "W[0, 0, 0]": "W[0, 0, 0]: too many indices (3) for an array of shape (3, 4)",
    "x[1.5]": "x[1.5]: an index must be an integer, not 1.5",
    "np.outer(r)": "np.outer(r): np.outer needs its argument b",
    "np.sum(W, axis=0, keep=True)":
        "np.sum(W, axis=0, keep=True): np.sum has no argument keep= (it takes a, axis, keepdims)",
    "np.transpose(W, (0,))": None, "np.sum(W, axis=(0, 0))": None, "np.ones((-1,))": None, "x[::0]": None,
    "np.diag(T3)": None, "onehot(t, 2)": None, "s @ x": None, "x[0][0]": None, "W.shape[2]": None, "W(1)": None,
    "x.reshape(3, 3)": None, "np.eye(2.5)": None, "x[t, t]": None,
}

# numpy would take these, the page does not: an error saying what is not supported.
UNSUPPORTED = {
    "np.linalg.norm(x)": "np.linalg is not supported here", "np.tanh(x)": "np.tanh is not supported here",
    "x.max()": ".max is not supported here", "abs(x)": "unknown name 'abs'", "len(x)": "unknown name 'len'",
    "x // 2": None, "x % 2": "cannot read the character '%'", "[1, 2] * x": "unexpected '['",
    "x if True else x": "unexpected 'if'", "lambda: 1": "unexpected ':'", "x.dtype": ".dtype is not supported here",
    "0 < x < 1": "chained comparisons are not supported", "np.dot(T3, W.T)": "not supported here; use @",
    "W[t, t]": "indexing with more than one array is not supported here", "x[...]": None, "'x'": None, "x;": None,
    "W[]": "an index is missing", "np": "the answer is the module np, not an array", "np.sum": "not an array",
    "x.shape": "the answer is a tuple, not an array", "f(x)": "unknown name 'f'",
}

# what a hostile reader might type: always a clean error (and the page unchanged: the browser test).
HOSTILE = [
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "constructor", "x.constructor",
    "x.constructor.constructor('alert(1)')()", "__proto__", "x.__proto__", "np.__proto__", "np.constructor",
    "np.constructor('return 1')()", "np.hasOwnProperty", "toString", "valueOf()", "np.ones((10**9,))",
    "np.ones((10**5, 10**5))", "np.zeros(10**20)", "np.eye(10**6)", "np.outer(np.ones(200), np.ones(200))",
    "np.ones((100, 101))", "x[:, None] * np.ones((4, 10000))", "globalThis", "this", "window.alert(1)",
    "document.cookie", "import('data:,1')", "eval('1')", "Function('return 1')()", "require('fs')",
    "x" * 501, "(" * 60 + "x" + ")" * 60, "-" * 60 + "x", "x" + "[0]" * 60, "np.exp(" * 51 + "x" + ")" * 51,
    "${x}", "`x`", "\u202ex", "1" * 400, "x" + "+x" * 300, "\\u0061",
]
