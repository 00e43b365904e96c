"""gradlib.answer: the box's Python side, and its JavaScript evaluator held to numpy under Node.

The page evaluates what the reader types with its own parser and evaluator (gradlib/answer_src/,
bundled into gradlib/answer.js). Here that bundle runs under Node on the corpus of answer_corpus.py and
must agree with numpy: same shapes and values where numpy evaluates, a clean error where numpy raises
or the box does not support the construct, and a clean error, never a crash, for hostile text. Its
slip diagnosis must say what gradlib.diagnosis says on the same arrays. The browser test
(tests/site/test_answer_browser.py) checks the rendered boxes.
"""
from __future__ import annotations

import gzip
import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import gradlib
from answer_corpus import HOSTILE, NUMPY_ERRORS, UNSUPPORTED, VALID, scope
from gradlib import GradlibError, answer, diagnosis
from gradlib.answer import Answer, Classes

JS = Path(gradlib.__file__).with_name("answer.js")
CSS = JS.with_suffix(".css")
NODE = shutil.which("node")

RUNNER = """
const source = require("fs").readFileSync(process.argv[1], "utf8");
import("data:text/javascript;base64," + Buffer.from(source).toString("base64")).then((js) => {
  const job = JSON.parse(require("fs").readFileSync(0, "utf8"));
  const scope = Object.fromEntries(Object.entries(job.scope).map(([k, v]) => [k, js.fromNested(v)]));
  const run = (f) => {
    try {
      return f();
    } catch (e) {
      return { error: e.message, kind: e instanceof js.ReaderError ? "ReaderError" : String(e) };
    }
  };
  let seed = 21;
  const random = () => {  // mulberry32: the same draws on every run
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  process.stdout.write(JSON.stringify({
    values: job.texts.map((text) => run(() => {
      const v = js.evaluate(text, scope, ["softmax", "onehot"]);
      return { shape: v.shape, data: Array.from(v.data) };
    })),
    diagnoses: job.diagnoses.map(([n, a, tol]) => js.diagnose(js.fromNested(n), js.fromNested(a), tol)),
    verdicts: job.boxes.map(([box, text]) => js.judge(text, box, random)),
    prompts: job.boxes.map(([box]) => js.promptText(box.scope, box.question)),
    names: { numpy: js.NUMPY_NAMES, helpers: js.HELPER_NAMES },
  }));
});
"""


def run_js(texts=(), diagnoses=(), boxes=()) -> dict:
    if NODE is None:
        pytest.fail("node (Debian package nodejs) is needed to run the answer box's JavaScript")
    job = {"scope": {k: v.tolist() for k, v in scope().items()}, "texts": list(texts),
           "diagnoses": [[n.tolist(), a.tolist(), tol] for n, a, tol in diagnoses],
           "boxes": [[{k: box.get_state()[k] for k in ("scope", "question", "reference", "helpers")}, text]
                     for box, text in boxes]}
    done = subprocess.run([NODE, "-e", RUNNER, str(JS)], input=json.dumps(job), capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def numpy_value(text: str):
    with np.errstate(all="ignore"):
        return answer.evaluate(text, scope())


@pytest.fixture(scope="module")
def corpus():
    texts = VALID + list(NUMPY_ERRORS) + list(UNSUPPORTED) + HOSTILE
    return dict(zip(texts, run_js(texts)["values"], strict=True))


# --- the evaluator against numpy ---------------------------------------------------------------------

def test_corpus_covers_every_construct():
    """Every numpy function and array attribute of the subset, each operator, and the helpers occur."""
    text = " ".join(VALID)
    for name in answer.NUMPY_FUNCTIONS:
        assert f"np.{name}" in text, name
    for name in answer.ARRAY_ATTRIBUTES:
        assert f".{name}" in text, name
    for piece in ["+", "-", "*", "/", "@", "**", "[:, None]", "::", "keepdims=True", "axis=(", "softmax(", "onehot("]:
        assert piece in text, piece


@pytest.mark.parametrize("text", VALID)
def test_js_equals_numpy(corpus, text):
    expected = numpy_value(text)
    got = corpus[text]
    assert "error" not in got, got
    assert tuple(got["shape"]) == expected.shape, text
    np.testing.assert_allclose(np.array(got["data"], dtype=float), expected.ravel(), rtol=1e-12, atol=1e-12,
                               equal_nan=True, err_msg=text)


@pytest.mark.parametrize("text", list(NUMPY_ERRORS))
def test_numpy_errors_are_errors_naming_operation_and_shapes(corpus, text):
    with pytest.raises(Exception):  # noqa: B017,PT011 - numpy's errors vary (ValueError, IndexError, TypeError)
        numpy_value(text)
    got = corpus[text]
    assert got.get("kind") == "ReaderError", got
    if NUMPY_ERRORS[text]:
        assert got["error"] == NUMPY_ERRORS[text]


@pytest.mark.parametrize("text", list(UNSUPPORTED))
def test_unsupported_syntax_says_so(corpus, text):
    got = corpus[text]
    assert got.get("kind") == "ReaderError", got
    if UNSUPPORTED[text]:
        assert UNSUPPORTED[text] in got["error"]


@pytest.mark.parametrize("text", HOSTILE, ids=lambda t: t[:30])
def test_hostile_text_is_a_clean_error(corpus, text):
    got = corpus[text]
    assert got.get("kind") == "ReaderError", got   # never a TypeError, RangeError or a value
    assert len(got["error"]) < 300


def test_limits(corpus):
    assert corpus["x" * 501]["error"] == "the answer is 501 characters long; a box reads at most 500"
    assert corpus["(" * 60 + "x" + ")" * 60]["error"] == "the answer is nested more than 50 levels deep"
    assert corpus["np.ones((10**9,))"]["error"] == ("np.ones((10**9,)): an array of shape (1000000000,) has "
                                                    "1000000000 entries; a box allows at most 10000")
    assert corpus["np.outer(np.ones(200), np.ones(200))"]["error"].endswith(
        "has 40000 entries; a box allows at most 10000")


def test_the_view_never_runs_typed_text():
    """No eval, Function, innerHTML, dynamic import or network in the sources or the bundle."""
    sources = [*JS.with_name("answer_src").glob("*.js"), JS]
    for path in sources:
        code = path.read_text()
        assert not re.search(r"\beval\(|\bFunction\(|innerHTML|outerHTML|insertAdjacentHTML|document\.write|"
                             r"\bimport\(|\bfetch\(|XMLHttpRequest|https?://", code), path
        if path != JS:
            assert len(code.splitlines()) <= 400, path


def test_the_subset_is_the_same_on_both_sides():
    names = run_js()["names"]
    assert names == {"numpy": list(answer.NUMPY_FUNCTIONS), "helpers": list(answer.HELPERS)}


# --- the slip diagnosis, in the checker's words ------------------------------------------------------

def diagnosis_cases():
    rng = np.random.default_rng(5)
    N = rng.normal(size=(3, 4))
    S = rng.normal(size=(3, 3))
    v = rng.normal(size=5)
    row, column, entry, partial = N.copy(), N.copy(), N.copy(), N.copy()
    row[1] += 1.0
    column[:, 2] -= 0.5
    entry[2, 3] = 7.0
    partial[0, :2] = 0.0
    return [(N, N, 1e-8), (S, S.T, 1e-8), (N, -N, 1e-8), (N, 2 * N, 1e-8), (N, N / 4, 1e-8), (N, -N / 5, 1e-8),
            (N, 4 * N, 1e-8), (N, 1.37 * N, 1e-8), (N, row, 1e-8), (N, column, 1e-8), (N, entry, 1e-8),
            (N, np.zeros_like(N), 1e-8), (N, partial, 1e-8), (N, rng.normal(size=N.shape), 1e-8),
            (v, -v, 1e-8), (v, v / 3, 1e-8), (v, rng.normal(size=5), 1e-8), (S, 2 * S.T, 1e-8),
            (rng.normal(size=(2, 3, 3)), None, 1e-8)]


def test_js_diagnosis_equals_gradlib_diagnosis():
    cases = [(n, a if a is not None else np.swapaxes(n, -1, -2), tol) for n, a, tol in diagnosis_cases()]
    js = run_js(diagnoses=cases)["diagnoses"]
    for (n, a, tol), said in zip(cases, js, strict=True):
        assert said == diagnosis.diagnose(n, a, tol), (n.shape, said)
    words = " ".join(filter(None, js))
    for slip in ["transposed", "sign flipped", "scaled by 2", "scaled by 1/4", "right except row [1, :]",
                 "right except column [:, 2]", "right except entry (2, 3)", "zero:", "terms left out"]:
        assert slip in words, slip


# --- verdicts --------------------------------------------------------------------------------------------

def matvec_box() -> Answer:
    return Answer("dL/dW", {"r": (3,), "x": (4,), "W": (3, 4)}, "np.outer(r, x)",
                  truth=lambda r, x, W: gradlib.matvec.backward(r, W, x)[0])


def batch_box() -> Answer:
    return Answer("dL/dTheta", {"Theta": (4, 5), "t": Classes(5, (4,))}, "(softmax(Theta) - onehot(t, 5)) / 4",
                  truth=lambda Theta, t: gradlib.softmax_xent.backward(Theta, t))


def test_verdicts_name_the_slip():
    box, batch = matvec_box(), batch_box()
    answers = {
        "np.outer(r, x)": ("pass", "your answer equals dL/dW on 3 fresh random draws of r, x, W."),
        "r[:, None] * x[None, :]": ("pass", None),
        "np.outer(x, r)": ("fail", "your answer has shape (4, 3) but dL/dW is (3, 4): transposed?"),
        "-np.outer(r, x)": ("fail", "the shape (3, 4) is right but the values are not: sign flipped: "
                                    "your answer is minus dL/dW"),
        "2 * np.outer(r, x)": ("fail", "the shape (3, 4) is right but the values are not: scaled by 2: "
                                       "your answer is 2 times dL/dW"),
        "np.outer(r, x) / 4": ("fail", "scaled by 1/4: your answer is dL/dW divided by 4"),
        "r @ W": ("fail", "your answer has shape (4,) but dL/dW is (3, 4)."),
        "np.outer(r, x) + 1": ("fail", "the values are not: shifted by 1: your answer is dL/dW plus 1 at every entry"),
        "np.outer(r, x) + W": ("fail", "the shape (3, 4) is right but 12 of 12 entries are not (at [0, 0]: yours "),
        "x @ r": ("error", "x @ r: (4,) and (3,) do not match."),
        "np.outer(r,": ("error", "the answer ends too early"),
        "": ("error", "type an expression first."),
        "np.log(-x * x) * 0 + np.outer(r, x)": ("fail", "entries that are not numbers"),
    }
    batch_answers = {
        "(softmax(Theta) - onehot(t, 5)) / Theta.shape[0]": ("pass", None),
        "softmax(Theta) - onehot(t, 5)": ("fail", "scaled by 4: your answer is 4 times dL/dTheta "
                                                  "(a sum where a mean belongs, or a missing 1/N?)"),
        "(softmax(Theta) - onehot(t, 5)).sum(axis=0)": ("fail", "your answer has shape (5,) but dL/dTheta is (4, 5)."),
    }
    cases = [(box, a) for a in answers] + [(batch, a) for a in batch_answers]
    verdicts = run_js(boxes=cases)["verdicts"]
    expected = [*answers.values(), *batch_answers.values()]
    for (_, text), (verdict, message), got in zip(cases, expected, verdicts, strict=True):
        assert got["verdict"] == verdict, (text, got)
        assert message is None or message in got["message"] or got["message"].startswith(message), (text, got)


def test_prompt_is_the_same_on_both_sides():
    box, batch = matvec_box(), batch_box()
    assert box.prompt == "r (3,), x (4,), W (3, 4) — type dL/dW"
    assert batch.prompt == "Theta (4, 5), t (4,) of classes in 0..4 — type dL/dTheta"
    assert run_js(boxes=[(box, ""), (batch, "")])["prompts"] == [box.prompt, batch.prompt]


# --- the Python side ---------------------------------------------------------------------------------------

def test_box_state():
    box = matvec_box()
    assert box.scope == {"r": {"shape": [3], "kind": "normal"}, "x": {"shape": [4], "kind": "normal"},
                         "W": {"shape": [3, 4], "kind": "normal"}}
    assert box.helpers == [] and batch_box().helpers == ["softmax", "onehot"]
    assert re.fullmatch(r"[0-9a-f]{12}", box.key) and box.key != batch_box().key
    assert box._esm == JS.read_text() and box._css == CSS.read_text()


@pytest.mark.parametrize("reference,message", [
    ("np.outer(x, r)", r"answer: the reference 'np.outer\(x, r\)' for dL/dW is not the rule's gradient: it gives "
                       r"shape \(4, 3\), the rule \(3, 4\)"),
    ("-np.outer(r, x)", r"is not the rule's gradient: it gives shape \(3, 4\), the rule \(3, 4\), largest difference"),
    ("x @ r", r"answer: the reference 'x @ r' for dL/dW fails: matmul"),
    ("np.linalg.outer(r, x)", r"answer: the reference 'np.linalg.outer\(r, x\)': \.outer is not supported on the page"),
    ("np.outer(r, x).max()", r"\.max is not supported on the page"),
    ("np.outer(r, z)", r"the name 'z' is not in the scope \(W, r, x\)"),
    ("[r][0]", "List is not supported on the page"),
    ("np.outer(r, x) if 1 else 0", "IfExp is not supported on the page"),
    ("np.outer(r, x", "is not an expression"),
])
def test_a_wrong_reference_fails_the_build(reference, message):
    with pytest.raises(GradlibError, match=message):
        Answer("dL/dW", {"r": (3,), "x": (4,), "W": (3, 4)}, reference,
               truth=lambda r, x, W: gradlib.matvec.backward(r, W, x)[0])


def test_scope_entries():
    box = Answer("dL/dtheta", {"theta": np.zeros(5), "t": Classes(5), "N": 2}, "(softmax(theta) - onehot(t, 5)) / N",
                 truth=lambda theta, t, N: gradlib.softmax_xent.backward(theta, t) / N)
    assert box.scope["t"] == {"shape": [], "kind": "class", "classes": 5}
    assert box.scope["N"] == {"shape": [], "kind": "constant", "value": 2}
    assert box.prompt == "theta (5,), t (a class in 0..4), N = 2 — type dL/dtheta"
    with pytest.raises(GradlibError, match=r"answer: scope entry 'x' must be a shape such as \(3, 4\)"):
        Answer("dL/dx", {"x": "four"}, "x", truth=lambda x: x)


def test_weight_of_a_box():
    """The evaluator and the box: at most 25 KiB gzip on a page."""
    size = len(gzip.compress(JS.read_bytes(), 6)) + len(gzip.compress(CSS.read_bytes(), 6))
    assert size <= 25 * 1024, size


# --- the capstone's lab: one box per line of the backward pass ------------------------------------------

def capstone_boxes() -> dict[str, Answer]:
    """The boxes of chapters/09_backprop_mlp.ipynb, made by running their cells (so the build's check of
    each reference runs here too) with the chapter's shapes N, D, H, C = 5, 2, 4, 3."""
    import ast

    from gradlib import broadcast_add, matmul, mlp, softmax_xent
    chapter = Path(__file__).parents[2] / "chapters" / "09_backprop_mlp.ipynb"
    notebook = json.loads(chapter.read_text(encoding="utf-8"))
    namespace = {"np": np, "gradlib": gradlib, "broadcast_add": broadcast_add, "matmul": matmul, "mlp": mlp,
                 "softmax_xent": softmax_xent, "N": 5, "D": 2, "H": 4, "C": 3}
    boxes = {}
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code" and cell.get("id", "").startswith("answer-09-"):
            tree = ast.parse("".join(cell["source"]))
            exec(compile(ast.Module(tree.body[:-1], []), "<cell>", "exec"), namespace)  # the book's own cell
            box = eval(compile(ast.Expression(tree.body[-1].value), "<cell>", "eval"), namespace)
            boxes[box.question] = box
    return boxes


def test_capstone_has_a_box_per_line_and_each_judges_its_slips():
    boxes = capstone_boxes()
    assert list(boxes) == ["dL/dTheta", "dL/db2", "dL/dW2", "dL/dHid", "dL/dZ1", "dL/db1", "dL/dW1"]
    assert [q for q, box in boxes.items() if box.helpers] == ["dL/dTheta"]
    assert boxes["dL/dTheta"].helpers == ["softmax", "onehot"]
    assert boxes["dL/dW2"].prompt == "Hid (5, 4), dTheta (5, 3) — type dL/dW2"
    answers = [  # question, typed, verdict, words of the message
        ("dL/dTheta", "(softmax(Theta) - onehot(t, C)) / N", "pass", "equals dL/dTheta"),
        ("dL/dTheta", "softmax(Theta) - onehot(t, C)", "fail", "scaled by 5"),
        ("dL/db2", "dTheta.sum(axis=0)", "pass", "equals dL/db2"),
        ("dL/db2", "dTheta.mean(axis=0)", "fail", "scaled by 1/5"),
        ("dL/db2", "dTheta.sum(axis=1)", "fail", "your answer has shape (5,) but dL/db2 is (3,)"),
        ("dL/dW2", "Hid.T @ dTheta", "pass", "equals dL/dW2"),
        ("dL/dW2", "dTheta.T @ Hid", "fail", "your answer has shape (3, 4) but dL/dW2 is (4, 3): transposed?"),
        ("dL/dHid", "dTheta @ W2.T", "pass", "equals dL/dHid"),
        ("dL/dHid", "dTheta @ W2", "error", "dTheta @ W2: (5, 3) and (4, 3) do not match"),
        ("dL/dZ1", "dHid * (Z1 > 0)", "pass", "equals dL/dZ1"),
        ("dL/dZ1", "np.where(Z1 > 0, dHid, 0)", "pass", "equals dL/dZ1"),
        ("dL/dZ1", "dHid * (Z1 < 0)", "fail", "the shape (5, 4) is right but"),
        ("dL/db1", "dZ1.sum(axis=0)", "pass", "equals dL/db1"),
        ("dL/dW1", "X.T @ dZ1", "pass", "equals dL/dW1"),
        ("dL/dW1", "dZ1.T @ X", "fail", "transposed?"),
    ]
    verdicts = run_js(boxes=[(boxes[q], text) for q, text, _, _ in answers])["verdicts"]
    for (q, text, verdict, words), got in zip(answers, verdicts, strict=True):
        assert got["verdict"] == verdict and words in got["message"], (q, text, got)
