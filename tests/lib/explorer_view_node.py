"""Running the explorer's view state under Node for the tests/lib/test_explorer_view*.py files.

explorer_view_runner.mjs loads the shipped bundle (gradlib/explorer.js), drives ``state.reduce`` with
the actions a reader's clicks make and reports what ``state.derive`` would draw; :func:`run` sends it
a job and its cases, :func:`case` builds one case from a spec and shapes.
"""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

import gradlib
from gradlib import structure
from structure_cases import ALL_SPECS

BUNDLE = Path(gradlib.__file__).with_name("explorer.js")
RUNNER = Path(__file__).with_name("explorer_view_runner.mjs")
SPEC_IDS = [f"{s.rule}-{s.variant}" if s.variant else s.rule for s in ALL_SPECS]
NODE = shutil.which("node")


def run(job: str, cases: list[dict]) -> list:
    if NODE is None:
        pytest.fail("node (Debian package nodejs) is needed to run the explorer's view state")
    done = subprocess.run([NODE, str(RUNNER)], input=json.dumps({"job": job, "bundle": str(BUNDLE), "cases": cases}),
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def key(name: str, index) -> str:
    return f"{name}|{','.join(map(str, index))}"


def view_shapes(spec: structure.Spec) -> list[dict[str, int]]:
    """The shapes the view is compared at: the defaults, all 1, all 6 and a lopsided one."""
    names = [d.name for d in spec.dims]
    lopsided = dict(zip(names, (2, 5, 1, 3)[:len(names)], strict=True))
    cases = [spec.default_shapes, dict.fromkeys(names, 1), dict.fromkeys(names, 6), lopsided]
    return list({tuple(c.items()): c for c in cases}.values())


def case(spec: structure.Spec, shapes: dict[str, int], **more) -> dict:
    values = {k: v.tolist() for k, v in structure.random_values(spec.rule).items()}
    return {"spec": structure.as_dict(spec), "shapes": shapes, "values": values,
            "params": structure.params_at(spec, shapes), **more}


def lit_keys(spec: structure.Spec, shapes: dict[str, int], name: str, index) -> set[str]:
    return {key(n, i) for n, indices in structure.lights(spec, shapes, name, index).items() for i in indices}


def number(v: float) -> str:
    return f"{0.0 if abs(v) < 0.005 else v:.2f}".replace("-", "−")
