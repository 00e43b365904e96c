"""The answer box: the reader types a gradient in numpy syntax and the page checks it, with no kernel.

>>> import gradlib
>>> from gradlib.answer import Answer
>>> box = Answer("dL/dW", {"r": (3,), "x": (4,), "W": (3, 4)}, "np.outer(r, x)",
...              truth=lambda r, x, W: gradlib.matvec.backward(r, W, x)[0])
>>> box.prompt
'r (3,), x (4,), W (3, 4) — type dL/dW'

The reference answer is written once, as a numpy expression. Here, when the notebook runs (so when the
book is built), it is evaluated with numpy on several random draws of the scope and compared with
``truth`` (the gradlib rule): a wrong reference raises a :class:`~gradlib.GradlibError` and fails
the build. On the page the view (``answer.js``, bundled by ``make js`` from ``answer_src/``) parses
what the reader types with its own parser, evaluates it and the reference on fresh random draws,
and names the slip in :mod:`gradlib.diagnosis`'s words.
"""
from __future__ import annotations

import ast
import hashlib
import json
import pathlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import anywidget
import numpy as np
import traitlets

from gradlib import softmax_xent
from gradlib._validate import is_int, rule_error

RULE = "answer"
_HERE = pathlib.Path(__file__).parent

#: What a reader (and a reference) may write: the subset answer_src/evaluate.js evaluates.
NUMPY_FUNCTIONS = ("outer", "dot", "matmul", "sum", "mean", "reshape", "exp", "log", "maximum", "where",
                   "ones", "zeros", "eye", "diag", "transpose", "newaxis")
ARRAY_ATTRIBUTES = ("T", "shape", "sum", "mean", "reshape", "transpose")
HELPERS = ("softmax", "onehot")
_OPERATORS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.MatMult, ast.Pow, ast.UAdd, ast.USub,
              ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Eq, ast.NotEq)
_NODES = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Compare, ast.Call, ast.keyword, ast.Attribute,
          ast.Subscript, ast.Slice, ast.Tuple, ast.Constant, ast.Name, ast.Load, *_OPERATORS)


@dataclass(frozen=True)
class Classes:
    """True classes drawn from ``0 .. C-1``: one (``shape=()``) or one per example (``shape=(N,)``)."""

    C: int
    shape: tuple[int, ...] = ()


def softmax(theta: np.ndarray) -> np.ndarray:
    """softmax along the last axis (row by row for a batch), the largest logit subtracted first."""
    e = np.exp(theta - np.max(theta, axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def onehot(t: Any, C: int) -> np.ndarray:
    """e_t, shape (C,); one row per class for t of shape (N,) (:func:`gradlib.softmax_xent.onehot`)."""
    return softmax_xent.onehot(t, C)


_HELPER_FUNCTIONS = {"softmax": softmax, "onehot": onehot}


def _entry(name: str, value: Any) -> dict[str, Any]:
    """The view's description of one name of the scope."""
    if isinstance(value, Classes):
        return {"shape": list(value.shape), "kind": "class", "classes": int(value.C)}
    if is_int(value):
        return {"shape": [], "kind": "constant", "value": int(value)}
    if isinstance(value, np.ndarray):
        shape = np.shape(value)
    else:
        shape = tuple(value) if isinstance(value, (tuple, list)) else None
    if shape is None or not all(is_int(d) and d >= 1 for d in shape):
        raise rule_error(RULE, f"scope entry {name!r} must be a shape such as (3, 4), an array, Classes(C) or an "
                               f"int constant, not {value!r}")
    return {"shape": [int(d) for d in shape], "kind": "normal"}


def check_syntax(expression: str, names: set[str]) -> set[str]:
    """Raise unless ``expression`` uses only what the page's evaluator reads; return the helpers it uses."""
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError as error:
        raise rule_error(RULE, f"the reference {expression!r} is not an expression: {error.msg}") from None
    used = set()
    for node in ast.walk(tree):
        problem = None
        if not isinstance(node, _NODES):
            problem = f"{type(node).__name__} is not supported on the page"
        elif isinstance(node, ast.Compare) and len(node.ops) > 1:
            problem = "a chained comparison is not supported on the page"
        elif isinstance(node, ast.Constant) and not (node.value is None or isinstance(node.value, (int, float))):
            problem = f"the constant {node.value!r} is not supported on the page"
        elif isinstance(node, ast.Attribute):
            on_numpy = isinstance(node.value, ast.Name) and node.value.id == "np"
            if node.attr not in (NUMPY_FUNCTIONS if on_numpy else ARRAY_ATTRIBUTES):
                problem = f"{'np' if on_numpy else ''}.{node.attr} is not supported on the page"
        elif isinstance(node, ast.Name):
            if node.id in HELPERS:
                used.add(node.id)
            elif node.id not in names | {"np", "None", "True", "False"}:
                problem = f"the name {node.id!r} is not in the scope ({', '.join(sorted(names))})"
        if problem:
            raise rule_error(RULE, f"the reference {expression!r}: {problem}")
    return used


def _draw(entries: Mapping[str, dict], given: Mapping[str, Any], rng: np.random.Generator) -> dict[str, Any]:
    values = {}
    for name, e in entries.items():
        if e["kind"] == "class":
            values[name] = rng.integers(e["classes"], size=tuple(e["shape"]))
        elif e["kind"] == "constant":
            values[name] = e["value"]
        else:
            values[name] = np.array(given[name], dtype=float) if isinstance(given.get(name), np.ndarray) \
                else rng.normal(size=tuple(e["shape"]))
    return values


def evaluate(expression: str, values: Mapping[str, Any]) -> np.ndarray:
    """``expression`` evaluated with numpy on ``values`` (the page's evaluator does the same in JavaScript)."""
    namespace = {"np": np, **_HELPER_FUNCTIONS, **values}
    return np.asarray(eval(compile(expression, "<reference>", "eval"), {}, namespace), dtype=float)  # noqa: S307 - the book's own text


class Answer(anywidget.AnyWidget):
    """A box asking for ``question`` (e.g. ``"dL/dW"``) with ``scope`` (name -> shape, array, Classes or
    int) in view; ``reference`` (a numpy expression) is checked against ``truth(**values)`` on ``draws``
    random draws here, and is what the page compares the reader's answer with."""

    _esm = _HERE / "answer.js"
    _css = _HERE / "answer.css"

    question = traitlets.Unicode().tag(sync=True)
    scope = traitlets.Dict().tag(sync=True)        # name -> {"shape", "kind", "classes" | "value"}
    reference = traitlets.Unicode().tag(sync=True)
    helpers = traitlets.List().tag(sync=True)      # softmax, onehot: offered when the reference uses them
    key = traitlets.Unicode().tag(sync=True)       # where the page keeps the typed answer (localStorage)

    def __init__(self, question: str, scope: Mapping[str, Any], reference: str, *,
                 truth: Callable[..., Any], draws: int = 5, seed: int = 0) -> None:
        entries = {name: _entry(name, value) for name, value in scope.items()}
        used = check_syntax(reference, set(entries))
        rng = np.random.default_rng(seed)
        for d in range(draws):
            values = _draw(entries, scope if d == 0 else {}, rng)
            expected = np.asarray(truth(**values), dtype=float)
            try:
                got = evaluate(reference, values)
            except Exception as error:  # numpy's own message, with the box named
                raise rule_error(RULE, f"the reference {reference!r} for {question} fails: {error}") from None
            if got.shape != expected.shape or not np.allclose(got, expected, rtol=1e-9, atol=1e-12):
                raise rule_error(RULE, f"the reference {reference!r} for {question} is not the rule's gradient: it "
                                       f"gives shape {got.shape}, the rule {expected.shape}"
                                       + ("" if got.shape != expected.shape else
                                          f", largest difference {np.abs(got - expected).max():.3g}"))
        digest = hashlib.sha1(json.dumps([question, reference, entries], sort_keys=True).encode()).hexdigest()[:12]
        super().__init__(question=question, scope=entries, reference=reference,
                         helpers=[h for h in HELPERS if h in used], key=digest)

    @property
    def prompt(self) -> str:
        """The prompt the page shows: the names in scope with their shapes, and the question."""
        def one(name: str, e: dict) -> str:
            shape = f"({e['shape'][0]},)" if len(e["shape"]) == 1 else f"({', '.join(map(str, e['shape']))})"
            if e["kind"] == "constant":
                return f"{name} = {e['value']}"
            if e["kind"] == "class":
                return (f"{name} {shape} of classes in 0..{e['classes'] - 1}" if e["shape"]
                        else f"{name} (a class in 0..{e['classes'] - 1})")
            return f"{name} {shape}"
        return f"{', '.join(one(n, e) for n, e in self.scope.items())} — type {self.question}"
