"""The book's notation, held in every chapter (the table is on chapters/00_conventions.ipynb).

The true class is ``t`` and never a running index; ``k`` is never the true class; the example
index is ``i`` and row ``i`` of a matrix is written ``X_{i,:}``; code and figure indices say they
count from 0; one set of sizes per chapter across text, figure and explorer; every exercise
solution with code checks its answer with ``check_gradient`` and asserts it, so a wrong solution
fails the build. One letter per role: the loss is L everywhere, M is chapter 1's matrix,
p/P and e_t/T are softmax cross-entropy's probabilities and targets, y/Y are never a target, 𝒯 is
chapter 3's array, N the batch size, and ε's roles are split. The notes' own letters are quoted only
on the errata page (appendix/errata.md), where no chapter-page rule applies.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import pytest

from booksite import ROOT
from gradlib import structure

NOTEBOOKS = sorted((ROOT / "chapters").glob("*.ipynb"))
CHAPTERS = [p for p in NOTEBOOKS if re.match(r"0[1-7]_", p.name)]
RULE = {"01_jacobian": "jacobian", "02_softmax_xent": "softmax_xent", "03_matvec": "matvec",
        "04_vecmat": "vecmat", "05_matmul": "matmul", "06_broadcast_add": "broadcast_add",
        "07_broadcast_mul": "broadcast_mul"}


def ids(path: Path) -> str:
    return path.stem


def cells(path: Path) -> list:
    return nbformat.read(path, as_version=4).cells


def prose(path: Path) -> str:
    """The markdown of a notebook."""
    return "\n\n".join(c.source for c in cells(path) if c.cell_type == "markdown")


def math(text: str) -> list[str]:
    """Every $$...$$ and $...$ formula of a markdown text, figure captions included."""
    display = re.findall(r"\$\$(.+?)\$\$", text, re.S)
    inline = re.findall(r"(?<!\\)\$(.+?)(?<!\\)\$", re.sub(r"\$\$.+?\$\$", " ", text, flags=re.S), re.S)
    return display + inline


def captions(path: Path) -> list[str]:
    return [c.metadata["mystnb"]["figure"]["caption"] for c in cells(path)
            if c.cell_type == "code" and "figure" in c.metadata.get("mystnb", {})]


def code(path: Path) -> str:
    return "\n".join(c.source for c in cells(path) if c.cell_type == "code")


def section(text: str, heading: str) -> str:
    start = text.index(heading)
    end = text.find("\n## ", start + len(heading))
    return text[start:end if end >= 0 else None]


# --- the true class: t, never k, and never a running index ------------------------------------

RUNNING_T = [r"\\sum_\{?t\b", r"\\prod_\{?t\b", r"\bt\s*=\s*1\s*(,|\.\.|\\dots)", r"\\indic\{t\s*=",
             r"_\{t\s*=", r"\bt\s*=\s*1\s*\}"]
K_AS_CLASS = [r"\\theta_\{?k\b", r"\\hat y_\{?k\b", r"(?<![\\\w])y_\{?k\b", r"\\Theta_\{[^}]*k",
              r"\\indic\{i\s*=\s*k\}"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_the_true_class_t_is_never_a_running_index(path):
    formulas = math(prose(path)) + [m for c in captions(path) for m in math(c)]
    found = [(p, f) for f in formulas for p in RUNNING_T if re.search(p, f)]
    assert found == [], f"{path.name}: t (the true class) used as a running index: {found[:3]}"
    assert not re.search(r"\bfor t in\b|lambda t\b|def \w+\(t\)", code(path)), \
        f"{path.name}: t is the true class in code too, not a loop or argument name"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_k_is_never_the_true_class(path):
    text = prose(path)
    formulas = math(text)
    found = [(p, f) for f in formulas for p in K_AS_CLASS if re.search(p, f)]
    assert found == [], f"{path.name}: k written as the true class: {found[:3]}"
    assert not re.search(r"(true )?class \$k\b|class `k", text), f"{path.name}: 'class k' in prose"
    source = code(path)
    calls = re.findall(r"softmax_xent\.(?:forward|backward|onehot)\(([^()]*(?:\([^()]*\)[^()]*)*)\)", source)
    with_k = [c for c in calls if re.search(r"(?:^|,)\s*k\w*\s*(?:,|$)", c)]
    assert with_k == [], f"{path.name}: the true class passed as k: {with_k}"
    assert not re.search(r"^\s*k\w*\s*=.*true class", source, re.M), f"{path.name}: a k variable holds the true class"


def test_the_notation_rules_can_fail():
    """The patterns above do catch the old notation (so a regression would fail the tests)."""
    old = r"$J = \operatorname{lse}(\theta) - \theta_k$ and $\sum_{t=1}^n x_t$ and $B_i = X_i + y$"
    assert any(re.search(p, f) for f in math(old) for p in K_AS_CLASS)
    assert any(re.search(p, f) for f in math(old) for p in RUNNING_T)
    assert any(ROW_WITHOUT_COLON.search(f) for f in math(old))


# --- the example index i and rows X_{i,:} -------------------------------------------------------

ROW_WITHOUT_COLON = re.compile(r"(?<![\\A-Za-z])[A-Z]_(?:\{[a-z]\}|[a-z](?![A-Za-z0-9]))")  # X_i, X_{i}
OLD_EXAMPLE_INDEX = [r"\^\{\((s|a)\)", r"\\sum_\{?(s|a)\b", r"\\sum_\{(s|a)\s*=", r"_\{?a\}?\s*=\s*\\softmax"]
# chapters 5-7 once wrote the rows of a batch as x_i and g_i, which elsewhere are entries of a vector
OLD_ROWS = [r"\\hat x_i", r"(?<!\w)g_i\b", r"x_i\s*\\T", r"x_i W"]


@pytest.mark.parametrize("path", CHAPTERS, ids=ids)
def test_the_example_index_is_i_and_a_row_is_X_i_colon(path):
    text = prose(path)
    batch = section(text, "## From one example to a minibatch")
    assert re.search(r"_\{i,:\}", batch), f"{path.name}: the minibatch section names no row X_{{i,:}} of example i"
    formulas = math(text)
    patterns = OLD_EXAMPLE_INDEX + (OLD_ROWS if path.stem >= "05" else [])
    old = [(p, f) for f in formulas for p in patterns if re.search(p, f)]
    assert old == [], f"{path.name}: an old example index or a row written as an entry: {old[:3]}"
    rows = [f for f in formulas if ROW_WITHOUT_COLON.search(f)]
    assert rows == [], f"{path.name}: a row written X_i instead of X_{{i,:}}: {rows[:3]}"


def test_the_symbol_table_lists_every_symbol():
    table = section(prose(ROOT / "chapters" / "00_conventions.ipynb"), "## Symbols")
    rows = re.findall(r"^\| (.+?) \| (.+?) \|", table, re.M)
    first_column = " ".join(symbol for symbol, _ in rows)
    for symbol in ["$L$", r"$\mathbf{J}$", "$M$", "$t$", "$i$", "$N$", "$C$", "$G = ", "$R = ", "$r = ",
                   r"$X_{i,:}$", r"$\theta, p, e_t$", r"$\Theta, P, T$", r"$\mathcal{T}$", r"$\odot$",
                   r"$\mathrm{d}X$", r"\langle U, V \rangle", r"$\gamma, \beta, \hat X$", r"$\eta$",
                   r"$\delta$", "$h$", r"$\epsilon$", r"$\varepsilon_{\text{mach}}$", r"$\alpha$"]:
        assert symbol in first_column, f"the conventions page's symbol table lacks {symbol}"
    symbols = [re.findall(r"\$([^$]+)\$", symbol) for symbol, _ in rows]
    single = [s[0] for s in symbols if len(s) == 1]
    assert len(single) == len(set(single)), "a symbol has two rows of the table"
    for old in ("$J$", "$A$", "$T$", r"$\hat y$", "$s = "):
        assert old not in first_column, f"{old} has no role of its own any more"


# --- indices of code and figures; one set of sizes per chapter ----------------------------------

@pytest.mark.parametrize("path", CHAPTERS, ids=ids)
def test_figure_captions_say_their_indices_count_from_0(path):
    for caption in captions(path):
        assert re.search(r"code ind|counted from 0", caption), f"{path.name}: {caption[:80]}..."


def _rule_call_shapes(tree: ast.AST, name: str, rule: str) -> list[dict[str, int]]:
    defaults = structure.spec(rule).default_shapes
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == name and node.args \
                and getattr(node.args[0], "value", None) == rule:
            given = {k.arg: ast.literal_eval(k.value) for k in node.keywords if k.arg in defaults}
            shapes_kw = [ast.literal_eval(k.value) for k in node.keywords if k.arg == "shapes"]
            found.append({**defaults, **(shapes_kw[0] if shapes_kw else {}), **given})
    return found


@pytest.mark.parametrize("path", [p for p in CHAPTERS if p.stem in
                                  ("03_matvec", "04_vecmat", "05_matmul", "06_broadcast_add", "07_broadcast_mul")],
                         ids=ids)
def test_text_figure_and_explorer_use_one_set_of_sizes(path):
    rule = RULE[path.stem]
    dims = list(structure.spec(rule).default_shapes)
    tree = ast.parse("\n".join(line for line in code(path).splitlines() if not line.startswith("%")))
    running = None
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Tuple) and \
                sorted(getattr(e, "id", "") for e in node.targets[0].elts) == sorted(dims):
            running = dict(zip([e.id for e in node.targets[0].elts], ast.literal_eval(node.value), strict=True))
            break
    assert running, f"{path.name}: no running example assigning {dims}"
    shown = _rule_call_shapes(tree, "figure", rule) + _rule_call_shapes(tree, "Explorer", rule)
    assert len(shown) >= 2 and all(s == running for s in shown), f"{path.name}: text {running}, shown {shown}"


# --- exercises: solutions with code are checked and asserted ------------------------------------

def _solution_blocks(path: Path) -> dict[str, list]:
    blocks: dict[str, list] = {}
    current = None
    for cell in cells(path):
        if cell.cell_type == "markdown":  # a cell may end one solution and start the next
            for marker in re.finditer(r":::\{solution-start\} (\S+)|:::\{solution-end\}", cell.source):
                current = marker.group(1)
                if current:
                    blocks[current] = []
        elif current:
            blocks[current].append(cell.source)
    return blocks


@pytest.mark.parametrize("path", CHAPTERS, ids=ids)
def test_every_code_solution_checks_and_asserts_its_answer(path):
    blocks = _solution_blocks(path)
    for label, sources in blocks.items():
        assert sources, f"{path.name}: solution {label} has no code"
        joined = "\n".join(sources)
        assert "check_gradient" in joined and re.search(r"^assert ", joined, re.M), f"{path.name}: {label}"


@pytest.mark.parametrize("chapter,label", [("03_matvec", "ex-matvec-weight-decay"),
                                           ("05_matmul", "ex-matmul-attention"),
                                           ("05_matmul", "ex-matmul-sum-of-squares"),
                                           ("07_broadcast_mul", "ex-broadcast_mul-layernorm")])
def test_the_new_exercises_have_checked_dropdown_solutions(chapter, label):
    path = ROOT / "chapters" / f"{chapter}.ipynb"
    text = "\n".join(c.source for c in cells(path) if c.cell_type == "markdown")
    assert f":::{{exercise}}\n:label: {label}\n" in text
    assert f":::{{solution-start}} {label}\n:class: dropdown" in text
    assert label in _solution_blocks(path)


# --- one letter per role: the loss L, M, p/P and e_t/T, the batch size N, ε's roles ----------------

RULE_PAGES = [p for p in NOTEBOOKS if re.match(r"0[0-7]_", p.name)]
STANDALONE = r"(?<![\\\w{])%s(?![\w}])"  # the letter alone, not \mathbf{J}, not J_f, not part of a word
ROLE_RULES = {  # role: (pages it applies to, patterns over the page's formulas)
    "the loss is L, never J or A": (
        RULE_PAGES, [r"\\pd\{[JA]\}", r"\\partial [JA]\b", r"\\nabla_\{?\\theta\}?\s*[JA]\b", r"\\mathrm\{d\}[JA]\b",
                     STANDALONE % "J", STANDALONE % "A", r"[JA]_\\lambda"]),
    "A is no letter at all (it was the loss, and chapter 1's matrix, now M)": (
        RULE_PAGES, [r"(?<![\\\w{])A"]),
    "y/Y is never the target and there is no \\hat y": (
        RULE_PAGES, [r"\\hat\s*\{?\s*[yY]"]),
    "no y or Y at all before chapter 5 (the target is e_t, the batch target T)": (
        [p for p in RULE_PAGES if p.stem[:2] in ("01", "02", "03", "04")], [STANDALONE % "y", STANDALONE % "Y"]),
    "chapter 1's softmax output is p, not s": (
        [p for p in RULE_PAGES if p.stem.startswith("01")],
        [r"\bs\s*=\s*\\softmax", r"\\operatorname\{diag\}\(s\)", r"s s\\T"]),
    "chapter 3's three-index array is \\mathcal{T}": (
        [p for p in RULE_PAGES if p.stem.startswith("03")], [r"(?<![\\\w{])T_\{?k", r"(?<![\\\w{])T\s*\\in"]),
    "varepsilon is machine epsilon only (a nudge is \\delta, label smoothing \\alpha, layer norm's \\epsilon)": (
        RULE_PAGES, [r"\\varepsilon(?!_\{\\text\{mach\}\})"]),
}
BATCH_AS_N = [r"(?<![\w\\])n\s*=\s*(16|32|64|128|256|512|1024)\b", r"batch of \$n\$", r"batch size \$n\$"]


def role_violations(text: str, patterns: list[str]) -> list[tuple[str, str]]:
    return [(p, f) for f in math(text) for p in patterns if re.search(p, f)]


@pytest.mark.parametrize("role", ROLE_RULES)
def test_each_role_has_its_own_letter(role):
    pages, patterns = ROLE_RULES[role]
    found = {p.stem: role_violations(prose(p) + "\n".join(captions(p)), patterns)[:2] for p in pages}
    assert {stem: v for stem, v in found.items() if v} == {}, role
    if "loss" in role:  # figure captions write the math in plain text too
        plain = {p.stem: c for p in pages for c in captions(p) if re.search(r"∂[JA]\b", c)}
        assert plain == {}, role


@pytest.mark.parametrize("path", RULE_PAGES, ids=ids)
def test_the_batch_size_is_N_and_code_says_L_p_and_e_t(path):
    text = prose(path)
    assert [p for p in BATCH_AS_N if re.search(p, text)] == [], f"{path.name}: a batch size written n"
    source = code(path)
    old = [p for p in (r"\by_hat\b", r"\bY_hat\b", r"^\s*[yY]\w*\s*=\s*softmax_xent\.onehot", r"\bdef A\w*\(",
                       r"\bdJ_", r"\bdA/") if re.search(p, source, re.M)]
    assert old == [], f"{path.name}: code still uses the old letters: {old}"


def test_chapter_1s_linear_map_is_M():
    text = prose(ROOT / "chapters" / "01_jacobian.ipynb")
    assert "f(x) = Mx" in text and r"\mathbf{J}_f = M" in text


OLD_TEXT = {  # what chapters 1-7 said before the one notation: each must trip its rule
    "the loss is L, never J or A": r"$\pd{J}{W} = r\T x\T$ and $\pd{A}{X} = G Y\T$ and $J_\lambda = J + 1$",
    "A is no letter at all (it was the loss, and chapter 1's matrix, now M)": r"$f(x) = Ax$, $\mathbf{J}_f = A$",
    "y/Y is never the target and there is no \\hat y": r"$\nabla_\theta J = \hat y - y$",
    "no y or Y at all before chapter 5 (the target is e_t, the batch target T)": r"$(\hat Y - Y)/N$",
    "chapter 1's softmax output is p, not s": r"$s = \softmax(x)$, $\operatorname{diag}(s) - s s\T$",
    "chapter 3's three-index array is \\mathcal{T}":
        r"$T_{kij} = \pd{z_k}{W_{ij}}, \qquad T \in \R^{n \times n \times m}$",
    "varepsilon is machine epsilon only (a nudge is \\delta, label smoothing \\alpha, layer norm's \\epsilon)":
        r"Nudge $W_{ij}$ by a small $\varepsilon$",
}


@pytest.mark.parametrize("role", ROLE_RULES)
def test_the_role_rules_catch_the_old_notation(role):
    assert role_violations(OLD_TEXT[role], ROLE_RULES[role][1]), role
    assert any(re.search(p, "a batch of 256 examples, $n = 256$") for p in BATCH_AS_N)
    assert role_violations(r"$\mathbf{J}_f = M$, $p - e_t$, $\pd{L}{W}$", ROLE_RULES[role][1]) == []
