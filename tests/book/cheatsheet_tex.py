"""Reading the cheat sheet (appendix/cheatsheet.md) for tests/book/test_cheatsheet.py: its list-table's
cells, the ``$lhs = rhs$ $(shape)$`` formulas of a cell, and a small evaluator of the sheet's LaTeX
(juxtaposition is a matrix product, ``\\T`` a transpose, ``\\odot`` NumPy's broadcasting product,
``\\ones`` a column of ones of whatever length its neighbour needs).
"""
from __future__ import annotations

import re
from typing import Any

import numpy as np

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
