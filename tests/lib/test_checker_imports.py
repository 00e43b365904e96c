"""The checker imports no view: judging a gradient loads no HTML, notebook, widget or plotting code.

Each test runs a fresh interpreter (a module imported by an earlier test would hide the import) and
lists which of the view modules are loaded. A check result's HTML is built only when a notebook asks
for it (``CheckResult._repr_html_``), and only then is its view module imported.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# gradlib's views, the packages behind them, and the standard library's HTML escaping (what a module
# that writes HTML imports; nothing the checker needs)
VIEWS = ("gradlib.check_view", "gradlib.display", "gradlib.explorer", "gradlib.answer", "gradlib.figures",
         "IPython", "ipywidgets", "anywidget", "traitlets", "matplotlib", "PIL", "html")

SHOW = f"import json, sys; print(json.dumps(sorted(m for m in {VIEWS!r} if m in sys.modules)))"

CHECK = """
import numpy as np
from gradlib import check_gradient
x = np.array([[0.5, -1.0], [2.0, 0.25]])
good = check_gradient(lambda v: np.sum(np.sin(v)), x, np.cos(x))
bad = check_gradient(lambda v: np.sum(np.sin(v)), x, np.cos(x).T)
directional = check_gradient(lambda v: np.sum(np.sin(v)), x, np.cos(x), directions=2)
assert good and not bad and directional and bad.diagnosis, (good, bad, directional)
text = repr(good) + repr(bad) + repr(directional)
"""


def loaded_views(code: str) -> list[str]:
    """The view modules in ``sys.modules`` after ``code`` ran in a fresh interpreter."""
    run = subprocess.run([sys.executable, "-c", code + "\n" + SHOW], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout.splitlines()[-1])


def test_importing_the_checker_loads_no_view():
    assert loaded_views("import gradlib.checker") == []
    assert loaded_views("import gradlib.verdict, gradlib.estimators, gradlib.holomorphy, gradlib.diagnosis") == []


def test_importing_gradlib_loads_no_view():
    """``import gradlib`` (every rule, the checker, mlp): a library first; views load where they are used."""
    assert loaded_views("import gradlib") == []


def test_checking_gradients_loads_no_view():
    """Passing, failing (with a diagnosis) and directional checks, their text included."""
    assert loaded_views(CHECK) == []


def test_the_html_of_a_check_loads_its_view_then():
    """The view is imported by ``_repr_html_`` when a notebook shows a result, and it still renders:
    this also shows the tests above would see a view if the checker loaded one."""
    code = CHECK + "page = bad._repr_html_()\nassert page.startswith('<div class=\"gradlib-check\"'), page[:80]"
    assert loaded_views(code) == ["gradlib.check_view", "html"]


def test_the_source_listings_still_come_from_gradlib():
    """``gradlib.show_source`` and ``show_lines`` (the chapters' listings) load display on first use."""
    code = ("import gradlib\nassert {'show_lines', 'show_source'} <= set(dir(gradlib))\n"
            "source = gradlib.show_source(gradlib.matmul.backward)\nassert 'def backward' in source.data")
    loaded = loaded_views(code)
    assert {"gradlib.display", "IPython"} <= set(loaded) and "gradlib.check_view" not in loaded, loaded


CHECKER = ("checker", "verdict", "estimators", "_evaluate", "holomorphy", "diagnosis")


def test_the_checker_layers_stay_apart_and_short():
    """No checker module imports a view, not even inside a function but for the verdict's
    ``_repr_html_``; the views import no checker internals; no checker file is over 300 lines (its
    code is read in chapter 10)."""
    root = ROOT / "gradlib"
    for name in CHECKER:
        lines = (root / f"{name}.py").read_text().splitlines()
        imports = [line.strip() for line in lines if line.strip().startswith(("from ", "import "))]
        views = [line for line in imports if any(view.split(".")[-1] in line for view in VIEWS)]
        assert views == (["from .check_view import check_result_html"] if name == "verdict" else []), (name, views)
        assert len(lines) <= 300, name
    for view in ("check_view", "display"):
        imports = [line for line in (root / f"{view}.py").read_text().splitlines()
                   if line.strip().startswith(("from ", "import "))]
        assert not any(re.search(r"\b(checker|estimators|_evaluate|holomorphy)\b", line) for line in imports), view
