"""The appendix: the cheat sheet's formulas, executed as written; the errata page (printing: tests/site).

The cheat sheet (appendix/cheatsheet.md) is one MyST list-table. Each gradient formula on it is
read from the page, parsed by the small evaluator below (juxtaposition is a matrix product, ``\\T``
a transpose, ``\\odot`` NumPy's broadcasting product, ``\\ones`` a column of ones of whatever length
its neighbour needs) and compared with the gradient gradlib's checker measures for the forward map
the row names (chapter 1's rows also give the Jacobian); the shapes written after each formula must
be its shape, and the gradlib call in the last column is executed too.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import yaml

from booksite import ROOT
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
ERRATA = ROOT / "appendix" / "errata.md"
TOL = dict(rtol=1e-6, atol=1e-8)


# --------------------------------------------------------------------------- reading the sheet

def sheet_rows(text: str) -> list[list[str]]:
    """The cells of the page's list-table, row by row (the header row included)."""
    block = re.search(r"```\{list-table\}\n(.*?)\n```", text, re.S)
    assert block, "no list-table on the cheat sheet"
    rows: list[list[str]] = []
    for line in block.group(1).splitlines():
        if line.startswith("* - "):
            rows.append([line[4:]])
        elif line.startswith("  - "):
            rows[-1].append(line[4:])
        elif rows and line.strip():
            rows[-1][-1] += "\n" + line.strip()
        elif rows:
            rows[-1][-1] += "\n"
    return rows


MATH = re.compile(r"\$([^$]+)\$")
SHAPE = re.compile(r"^\$\(([^$]+)\)\$")


def formulas(cell: str) -> list[tuple[str, str, str]]:
    """[(lhs, rhs, shape)] of a gradient cell: each ``$lhs = rhs$`` must be followed by ``$(a \\times b)$``."""
    found = []
    for match in MATH.finditer(cell):
        lhs, _, rhs = match.group(1).partition("=")
        if not rhs:
            continue  # the shape of the formula before it
        shape = SHAPE.match(cell[match.end():].lstrip())
        assert shape, f"no shape after ${match.group(1)}$"
        found.append((lhs.strip(), rhs.strip(), shape.group(1)))
    return found


# --------------------------------------------------------------------------- the evaluator

class Ones:
    """A column of ones (``transposed``: a row) whose length comes from what it multiplies."""

    def __init__(self, transposed: bool = False) -> None:
        self.transposed = transposed


TOKEN = re.compile(r"""
    (?P<skip>\s+|\\[,;!]|\\left|\\right|\\big|\\Big)
  | (?P<hat>\\hat\s*\{?\s*(?P<hatted>[A-Za-z])\s*\}?)
  | (?P<frac>\\frac\{(?P<num>[^{}]+)\}\{(?P<den>[^{}]+)\})
  | (?P<op>\\operatorname\{(?P<opname>\w+)\})
  | (?P<cmd>\\[A-Za-z]+'?)
  | (?P<sub>[A-Za-z]_\{?[a-z]\}?)
  | (?P<sym>[A-Za-z]'?)
  | (?P<number>\d+(?:\.\d+)?)
  | (?P<punct>[()+\-])
""", re.X)


def tokens(tex: str) -> list[tuple[str, str]]:
    """(kind, text) pairs; kinds: sym, cmd, func, frac, number, punct. Anything else is an error."""
    out, at = [], 0
    while at < len(tex):
        match = TOKEN.match(tex, at)
        if not match:
            raise ValueError(f"cannot read {tex[at:]!r} in {tex!r}")
        at = match.end()
        if match["hat"]:
            out.append(("sym", "hat " + match["hatted"]))
        elif match["frac"]:
            out.append(("frac", f"{match['num']}/{match['den']}"))
        elif match["op"]:
            out.append(("func", match["opname"]))
        elif match["sub"]:
            out.append(("sym", re.sub(r"[{}]", "", match["sub"])))
        elif not match["skip"]:
            kind = next(k for k in ("cmd", "sym", "number", "punct") if match[k])
            out.append((kind, match[kind]))
    return out


def product(a: Any, b: Any) -> Any:
    """Juxtaposition: a number scales, a ones vector sums, two arrays multiply as matrices."""
    if isinstance(a, Ones) and a.transposed and not isinstance(b, Ones):
        return np.sum(b, axis=0, keepdims=True)
    if isinstance(b, Ones) and not b.transposed and not isinstance(a, Ones):
        return np.sum(a, axis=1, keepdims=True)
    if isinstance(a, Ones) or isinstance(b, Ones):
        raise ValueError("a ones vector is only summed with here")
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return a * b
    return a @ b


class Evaluator:
    """Recursive descent over expr := ['-'] prod (('+' | '-') prod)*, prod := post ([\\odot] post)*,
    post := atom \\T*, atom := number | symbol | \\frac{}{} | function(expr) | (expr)."""

    COMMANDS = {"\\theta": "theta", "\\Theta": "Theta", "\\gamma": "gamma", "\\beta": "beta"}
    FUNCTIONS = {"\\sigma'": "dsigma", "\\softmax": "softmax", "diag": "diag"}

    def __init__(self, env: dict[str, Any]) -> None:
        self.env = env

    def __call__(self, tex: str) -> np.ndarray:
        self.toks, self.at = tokens(tex), 0
        value = self.expr()
        if self.at != len(self.toks):
            raise ValueError(f"unread {self.toks[self.at:]} in {tex!r}")
        return np.asarray(value)

    def peek(self) -> tuple[str, str] | None:
        return self.toks[self.at] if self.at < len(self.toks) else None

    def take(self, kind: str, text: str | None = None) -> str:
        tok = self.peek()
        if tok is None or tok[0] != kind or (text is not None and tok[1] != text):
            raise ValueError(f"expected {text or kind}, got {tok}")
        self.at += 1
        return tok[1]

    def expr(self) -> Any:
        negative = self.peek() == ("punct", "-")
        if negative:
            self.at += 1
        value = self.prod()
        value = -value if negative else value
        while self.peek() in (("punct", "+"), ("punct", "-")):
            sign = self.take("punct")
            right = self.prod()
            value = value + right if sign == "+" else value - right
        return value

    def prod(self) -> Any:
        value = self.post()
        while (tok := self.peek()) is not None and tok not in (("punct", "+"), ("punct", "-"), ("punct", ")")):
            if tok == ("cmd", "\\odot"):
                self.at += 1
                value = np.multiply(value, self.post())
            else:
                value = product(value, self.post())
        return value

    def post(self) -> Any:
        value = self.atom()
        while self.peek() == ("cmd", "\\T"):
            self.at += 1
            value = Ones(not value.transposed) if isinstance(value, Ones) else np.swapaxes(value, -1, -2)
        return value

    def atom(self) -> Any:
        kind, text = self.peek() or ("end", "")
        if kind == "punct" and text == "(":
            self.at += 1
            value = self.expr()
            self.take("punct", ")")
            return value
        self.at += 1
        if kind == "number":
            return float(text)
        if kind == "frac":
            num, den = (self.env[p] if p in self.env else float(p) for p in text.split("/"))
            return num / den
        if kind == "cmd" and text == "\\ones":
            return Ones()
        if kind == "sym" or (kind == "cmd" and text in self.COMMANDS):
            name = self.COMMANDS.get(text, text).replace("hat ", "hat_")
            if name not in self.env:
                raise ValueError(f"the sheet uses {text}, which this row does not define")
            return self.env[name]
        function = self.FUNCTIONS.get(text) if kind in ("cmd", "func") else None
        if function:
            self.take("punct", "(")
            argument = self.expr()
            self.take("punct", ")")
            return self.env[function](argument)
        raise ValueError(f"unknown {kind} {text!r}")


def variable(lhs: str) -> str:
    """``\\pd{L}{W}`` -> ``"W"``, ``\\pd{L}{\\hat X}`` -> ``"hat_X"``, ``\\mathbf{J}_f`` -> ``"Jacobian"``."""
    if lhs.replace(" ", "") == "\\mathbf{J}_f":
        return "Jacobian"
    match = re.fullmatch(r"\\pd\{L\}\{(.+)\}", lhs.strip())
    assert match, f"unexpected left-hand side {lhs!r}"
    name = match.group(1).strip()
    name = Evaluator.COMMANDS.get(name, name)
    hat = re.fullmatch(r"\\hat\s*\{?\s*([A-Za-z])\s*\}?", name)
    return f"hat_{hat.group(1)}" if hat else name


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


# --------------------------------------------------------------------------- errata and the TOC

def test_appendix_is_the_last_part_of_the_toc_and_unnumbered():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    last = toc["parts"][-1]
    assert last["caption"] == "Appendix" and not last.get("numbered", False)
    assert [c["file"] for c in last["chapters"]] == ["appendix/errata", "appendix/cheatsheet",
                                                     "appendix/how_auto_decides"]
    for entry in last["chapters"]:
        assert (ROOT / f"{entry['file']}.md").is_file()


def _errata_entries() -> list[str]:
    text = ERRATA.read_text(encoding="utf-8")
    return re.split(r"\n\(e-[\w-]+\)=\n", text)[1:]


def test_every_erratum_says_what_the_notes_say_what_is_right_why_and_where():
    entries = _errata_entries()
    assert len(entries) >= 10
    for entry in entries:
        title = entry.splitlines()[0]
        assert re.search(r"\*\*The notes (write|give|assume)", entry), title
        assert re.search(r"\*\*The book (writes|adds|keeps)", entry), title
        assert "**Why.**" in entry and "**Where.**" in entry, title
        where = entry.split("**Where.**")[1].split("\n\n")[0]
        for doc in re.findall(r"\{doc\}`(?:[^`<]*<)?/?([\w/]+)>?`", where):
            assert (ROOT / f"{doc}.ipynb").is_file(), f"{title}: no chapter {doc}"
        assert re.search(r"\{doc\}`[^`]*chapters/0\d_\w+", where), title


def test_the_errata_table_lists_every_entry_once():
    text = ERRATA.read_text(encoding="utf-8")
    labels = re.findall(r"\n\((e-[\w-]+)\)=\n", text)
    table = re.findall(r"\{ref\}`\d+ <(e-[\w-]+)>`", text)
    assert table == labels and len(set(labels)) == len(labels)


def test_the_notes_on_the_notes_live_in_the_errata_and_each_chapter_links_to_its_entries():
    """No chapter keeps a "note on the notes" box; every rule chapter links to its errata entries,
    every link names an entry that exists, and that entry's "Where" names the chapter back."""
    import nbformat
    text = ERRATA.read_text(encoding="utf-8")
    labels = set(re.findall(r"\n\((e-[\w-]+)\)=\n", text))
    wheres = dict(zip(re.findall(r"\n\((e-[\w-]+)\)=\n", text),
                      (e.split("**Where.**")[1].split("\n\n")[0] for e in _errata_entries()), strict=True))
    for path in sorted((ROOT / "chapters").glob("0[1-7]_*.ipynb")):
        markdown = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown")
        assert "note on the notes" not in markdown.lower(), f"{path.stem}: a note box; it belongs on the errata page"
        linked = re.findall(r"\{ref\}`[^`<]*<(e-[\w-]+)>`", markdown)
        assert linked, f"{path.stem}: no link to its errata entries"
        for label in linked:
            assert label in labels, f"{path.stem}: no erratum {label}"
        assert any(f"chapters/{path.stem}" in wheres[label] for label in linked), \
            f"{path.stem}: none of the entries it links to names it under Where"


def test_appendix_pages_credit_the_notes():
    for page in (SHEET, ERRATA):
        assert re.search(r"Christopher Yeh.{0,10}\s*\*?Gradient Notes", page.read_text(encoding="utf-8"))
