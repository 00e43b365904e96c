"""The cheat sheet's formulas, executed as written.

The cheat sheet (appendix/cheatsheet.md) is one MyST list-table. Each gradient formula on it is
read from the page, parsed by the small evaluator of cheatsheet_tex.py and compared with the
gradient gradlib's checker measures for the forward map the row names (chapter 1's rows also give
the Jacobian); the shapes written after each formula must be its shape, and the gradlib call in the
last column is executed too. (The rest of the appendix: test_errata.py.)
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from booksite import ROOT
from cheatsheet_tex import Evaluator, formulas, sheet_rows, variable
from gradlib import (
    broadcast_add,
    broadcast_mul,
    jacobian,
    matmul,
    matvec,
    numerical_gradient,
    numerical_jacobian,
    softmax_xent,
    vecmat,
)

SHEET = ROOT / "appendix" / "cheatsheet.md"
TOL = dict(rtol=1e-6, atol=1e-8)


# --------------------------------------------------------------------------- each row, independently

@dataclass
class Case:
    """One rule: random inputs, the scalar whose gradient the sheet gives, the same for a batch."""

    single: dict[str, np.ndarray]
    scalar: Callable[[dict[str, np.ndarray]], float]
    batch: dict[str, np.ndarray]
    batch_scalar: Callable[[dict[str, np.ndarray]], float]
    jacobian: Callable[[dict[str, np.ndarray]], np.ndarray] | None = None


DIMS = dict(n=3, m=4, p=2, N=5, C=6)  # all different, so a transposed formula cannot pass


RNG = np.random.default_rng(2026)


def rand(*dims: str | int) -> np.ndarray:
    return RNG.standard_normal(tuple(DIMS[d] if isinstance(d, str) else d for d in dims))


def _tanh_prime(v: np.ndarray) -> np.ndarray:
    return 1.0 - np.tanh(v) ** 2


def _map_case(f: jacobian.Map, out: str) -> Case:
    """Chapter 1: L = r f(x) for a column x, and the batch L = sum(G * f(row) for each row)."""
    return Case(
        single=dict(x=rand("n", 1), r=rand(1, out)),
        scalar=lambda v: (v["r"] @ f(v["x"])).item(),
        batch=dict(X=rand("N", "n"), G=rand("N", out)),
        batch_scalar=lambda v: float(np.sum(v["G"] * np.stack([f(row) for row in v["X"]]))),
        jacobian=lambda v: numerical_jacobian(f, v["x"]),
    )


M_MAP = rand("m", "n")


CASES: dict[str, Case] = {
    "jacobian.linear": _map_case(jacobian.linear(M_MAP), "m"),
    "jacobian.tanh": _map_case(jacobian.tanh, "n"),
    "jacobian.softmax": _map_case(jacobian.softmax, "n"),
    "softmax_xent": Case(
        single=dict(theta=rand("C", 1), t=np.int64(4)),
        scalar=lambda v: softmax_xent.forward(v["theta"], v["t"]),
        batch=dict(Theta=rand("N", "C"), t=RNG.integers(0, DIMS["C"], DIMS["N"])),
        batch_scalar=lambda v: softmax_xent.forward(v["Theta"], v["t"]),
    ),
    "matvec": Case(
        single=dict(W=rand("n", "m"), x=rand("m", 1), r=rand(1, "n")),
        scalar=lambda v: (v["r"] @ v["W"] @ v["x"]).item(),
        batch=dict(X=rand("N", "m"), W=rand("n", "m"), G=rand("N", "n")),
        batch_scalar=lambda v: float(np.sum(v["G"] * (v["X"] @ v["W"].T))),
    ),
    "vecmat": Case(
        single=dict(x=rand(1, "m"), W=rand("m", "n"), r=rand(1, "n")),
        scalar=lambda v: (v["x"] @ v["W"] @ v["r"].T).item(),
        batch=dict(X=rand("N", "m"), W=rand("m", "n"), G=rand("N", "n")),
        batch_scalar=lambda v: float(np.sum(v["G"] * (v["X"] @ v["W"]))),
    ),
    "matmul": Case(
        single=dict(X=rand("n", "m"), Y=rand("m", "p"), G=rand("n", "p")),
        scalar=lambda v: float(np.sum(v["G"] * (v["X"] @ v["Y"]))),
        batch=dict(X=rand("N", "m"), W=rand("m", "p"), G=rand("N", "p")),
        batch_scalar=lambda v: float(np.sum(v["G"] * (v["X"] @ v["W"]))),
    ),
    "broadcast_add": Case(
        single=dict(X=rand("n", "m"), y=rand(1, "m"), G=rand("n", "m")),
        scalar=lambda v: float(np.sum(v["G"] * (v["X"] + v["y"]))),
        batch=dict(X=rand("N", "m"), W=rand("m", "p"), b=rand(1, "p"), G=rand("N", "p")),
        batch_scalar=lambda v: float(np.sum(v["G"] * (v["X"] @ v["W"] + v["b"]))),
    ),
    "broadcast_mul": Case(
        single=dict(y=rand(1, "m"), X=rand("n", "m"), G=rand("n", "m")),
        scalar=lambda v: float(np.sum(v["G"] * (v["y"] * v["X"]))),
        batch=dict(gamma=rand(1, "m"), hat_X=rand("N", "m"), beta=rand(1, "m"), G=rand("N", "m")),
        batch_scalar=lambda v: float(np.sum(v["G"] * (v["gamma"] * v["hat_X"] + v["beta"]))),
    ),
}


def environment(values: dict[str, Any]) -> dict[str, Any]:
    """What a formula may use: the inputs, the sizes, and the quantities the sheet names after them."""
    env: dict[str, Any] = {"M": M_MAP, **values, **DIMS, "dsigma": _tanh_prime, "softmax": softmax_xent.softmax,
                           "diag": lambda v: np.diag(np.ravel(v))}
    if "x" in values and values["x"].shape[1] == 1:
        env["p"] = softmax_xent.softmax(values["x"])  # chapter 1's p = softmax(x) (no size p in these rows)
    if "X" in values:
        env["P"] = softmax_xent.softmax(values["X"])
    if "theta" in values:
        env["p"] = softmax_xent.softmax(values["theta"])
        env["e_t"] = softmax_xent.onehot(values["t"], DIMS["C"])[:, None]  # a column, like theta
    if "Theta" in values:
        env["P"], env["T"] = softmax_xent.softmax(values["Theta"]), softmax_xent.onehot(values["t"], DIMS["C"])
    return env


def measured(case: Case, batch: bool, name: str) -> np.ndarray:
    """The gradient of the row's scalar with respect to ``name``, by gradlib's checker (no formula used)."""
    values, scalar = (case.batch, case.batch_scalar) if batch else (case.single, case.scalar)
    if name == "Jacobian":
        return case.jacobian(values)
    return numerical_gradient(lambda v: scalar({**values, name: v}), values[name], method="central")


ROW_RULES = ["jacobian.linear", "jacobian.tanh", "jacobian.softmax", "softmax_xent", "matvec", "vecmat",
             "matmul", "broadcast_add", "broadcast_mul"]


COLUMNS = ("rule", "forward", "book", "batch", "gradlib")


def the_sheet() -> dict[str, dict[str, str]]:
    header, *rows = sheet_rows(SHEET.read_text(encoding="utf-8"))
    assert len(header) == len(COLUMNS) and all(len(r) == len(COLUMNS) for r in rows)
    calls = [re.search(r"`([\w.]+)\(", r[-1]).group(1).removesuffix(".backward").removesuffix(".jacobian")
             for r in rows]
    assert calls == ROW_RULES, "one row per rule, in the book's order"
    return {rule: dict(zip(COLUMNS, row, strict=True)) for rule, row in zip(ROW_RULES, rows, strict=True)}


def check_cell(case: Case, cell: str, column: str) -> list[str]:
    """Evaluate every formula of a gradient cell; return the variables it covers (asserting each)."""
    batch = column == "batch"
    env = environment(case.batch if batch else case.single)
    covered = []
    for lhs, rhs, shape in formulas(cell):
        name = variable(lhs)
        got = Evaluator(env)(rhs)
        expected = measured(case, batch, name)
        want_shape = tuple(int(Evaluator(env)(d)) for d in shape.split("\\times"))
        assert got.shape == want_shape, f"${lhs} = {rhs}$ is {got.shape}, the sheet says ({shape})"
        np.testing.assert_allclose(got, expected, **TOL, err_msg=f"{column}: ${lhs} = {rhs}$")
        covered.append(name)
    return covered


@pytest.mark.parametrize("rule", ROW_RULES)
def test_each_formula_on_the_cheat_sheet_is_the_gradient(rule):
    row, case = the_sheet()[rule], CASES[rule]
    book = check_cell(case, row["book"], "book")
    batch = check_cell(case, row["batch"], "batch")
    inputs = [name for name in case.single if name not in ("r", "G", "t")]
    assert sorted(set(book) - {"Jacobian"}) == sorted(inputs), f"the gradient column must cover every input: {inputs}"
    assert ("Jacobian" in book) == rule.startswith("jacobian."), "the Jacobian is chapter 1's rule"
    assert batch, "no minibatch formula"


@pytest.mark.parametrize("rule", ROW_RULES)
def test_each_gradlib_call_on_the_cheat_sheet_runs_and_agrees(rule):
    row, case = the_sheet()[rule], CASES[rule]
    call, returns = re.search(r"`([^`]+)` → `([^`]+)`", row["gradlib"]).groups()
    names = [n.strip() for n in returns.strip("()").split(",")]
    env = {**case.single, "M": M_MAP}
    results = eval(call, {"jacobian": jacobian, "softmax_xent": softmax_xent, "matvec": matvec, "vecmat": vecmat,
                          "matmul": matmul, "broadcast_add": broadcast_add, "broadcast_mul": broadcast_mul}, env)
    results = results if len(names) > 1 else (results,)
    assert len(results) == len(names)
    for name, result in zip(names, results, strict=True):
        target = "Jacobian" if name == "J" else name.removeprefix("d")
        np.testing.assert_allclose(result, measured(case, False, target), **TOL, err_msg=f"{call}: {name}")


@pytest.mark.parametrize("rule", ROW_RULES)
def test_the_shapes_on_the_cheat_sheet_are_the_inputs_shapes(rule):
    """Every ``$V \\in \\R^{a \\times b}$`` of the forward column is the shape the row's input V has."""
    row, case = the_sheet()[rule], CASES[rule]
    declared = re.findall(r"\$([^$]*?)\\in \\R\^\{([^}]+)\}\$", row["forward"])
    assert declared
    env = environment({**case.single, **case.batch})
    inputs = [case.single, case.batch, {"M": M_MAP}]
    checked = 0
    for symbols, shape in declared:
        size = tuple(int(Evaluator(env)(d)) for d in shape.split("\\times"))
        symbols = re.sub(r"\\hat\s*\{?\s*([A-Za-z])\s*\}?", r"hat_\1", symbols)
        for symbol in re.split(r"[\s,]+", symbols.strip()):
            name = Evaluator.COMMANDS.get(symbol, symbol)
            shapes = [np.shape(values[name]) for values in inputs if name in values]
            if shapes:
                assert size in shapes, f"{symbol} is {shapes}, the sheet says ({shape})"
                checked += 1
    assert checked >= 2


@pytest.mark.parametrize("wrong", [("r\\T x\\T", "x r"), ("G Y\\T", "G Y"), ("\\ones\\T (G \\odot X)", "\\ones\\T G"),
                                   ("\\frac{1}{N} (P - T)", "(P - T)")])
def test_a_wrong_formula_on_the_sheet_would_fail(wrong):
    """The check above can fail: the classic mistakes of chapters 3, 5, 7 and 2, written on the sheet."""
    sheet = the_sheet()
    right, mistake = wrong
    rule, column = next((rule, col) for rule, row in sheet.items() for col in ("book", "batch") if right in row[col])
    cell = sheet[rule][column].replace(right, mistake, 1)
    with pytest.raises((AssertionError, ValueError)):  # a wrong value or shape, or shapes that do not multiply
        check_cell(CASES[rule], cell, column)


def test_the_evaluator_reads_the_notation():
    env = {"G": np.arange(6.0).reshape(2, 3), "y": np.array([[1.0, 2.0, 3.0]]), "N": 2}
    evaluate = Evaluator(env)
    np.testing.assert_array_equal(evaluate("\\ones\\T G"), [[3.0, 5.0, 7.0]])
    np.testing.assert_array_equal(evaluate("G \\ones"), [[3.0], [12.0]])
    np.testing.assert_array_equal(evaluate("y \\odot G"), env["y"] * env["G"])
    np.testing.assert_array_equal(evaluate("G\\T G"), env["G"].T @ env["G"])
    np.testing.assert_array_equal(evaluate("\\frac{1}{N} (G - G)"), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="does not define"):
        evaluate("G W")
    with pytest.raises(ValueError, match="unknown"):
        evaluate("\\oplus G")
