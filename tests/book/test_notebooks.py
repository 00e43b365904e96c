"""The chapter notebooks as sources: stripped, consistent, and runnable in a fresh kernel.

The book executes them when it builds; these tests also run each one top to bottom from the
repository root and from chapters/ (where Jupyter starts when a reader opens a chapter).
"""
from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml
from nbclient import NotebookClient

from booksite import ROOT, toc_pages

CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
TOC_FILES = [p.removesuffix(".html") for p in toc_pages()]
NOTEBOOKS = sorted((ROOT / "chapters").glob("*.ipynb"))
RULE_CHAPTERS = {  # chapter file -> the gradlib module it teaches (and whose explorer it shows)
    "01_jacobian": "jacobian", "02_softmax_xent": "softmax_xent", "03_matvec": "matvec",
    "04_vecmat": "vecmat", "05_matmul": "matmul", "06_broadcast_add": "broadcast_add",
    "07_broadcast_mul": "broadcast_mul", "08_backprop_mlp": "mlp",
}


def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def test_every_chapter_is_a_notebook_in_the_toc():
    assert sorted(f"chapters/{p.stem}" for p in NOTEBOOKS) == sorted(f for f in TOC_FILES if f.startswith("chapters/"))
    assert {f"chapters/{c}" for c in RULE_CHAPTERS} <= set(TOC_FILES)
    assert not list((ROOT / "chapters").glob("*.md")), "a paired .md copy next to a notebook breaks -W"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_committed_without_outputs(path):
    for cell in read(path).cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{path.name}: strip outputs"


def test_first_cells_are_the_same_everywhere():
    firsts = {p.name: [(c.cell_type, c.source, c.metadata.get("tags")) for c in read(p).cells[:2]] for p in NOTEBOOKS}
    reference = next(iter(firsts.values()))
    assert all(cells == reference for cells in firsts.values()), firsts.keys()
    assert reference[0][2] == ["remove-cell"] and reference[1][2] == ["remove-cell"]


def test_notebook_macros_match_the_site_macros():
    """Jupyter gets the macros from each notebook's hidden first cell, the site from _config.yml."""
    site = CONFIG["sphinx"]["config"]["mathjax3_config"]["tex"]["macros"]
    site = {name: (body, 0) if isinstance(body, str) else (body[0], body[1]) for name, body in site.items()}
    first = read(NOTEBOOKS[0]).cells[0].source
    braced = r"((?:[^{}]|\{(?:[^{}]|\{[^{}]*\})*\})*)"  # up to two levels of nested braces
    found = re.findall(r"\\newcommand\{\\(\w+)\}(?:\[(\d)\])?\{" + braced + r"\}", first)
    defined = {name: (definition, int(arity or 0)) for name, arity, definition in found}
    assert defined == site


def run_install_cell(monkeypatch, folder: Path) -> list:
    """Run the notebooks' install cell in ``folder`` as if gradlib were not importable; return pip calls."""
    calls: list = []
    monkeypatch.chdir(folder)
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *args: None)
    monkeypatch.setattr(subprocess, "run", lambda command, **kwargs: calls.append(command))
    exec(read(NOTEBOOKS[0]).cells[1].source, {})
    return calls


def test_install_cell_installs_from_the_configured_repository(monkeypatch, tmp_path):
    """On Colab (no gradlib, no checkout around the notebook) the cell pip-installs the book's repository."""
    calls = run_install_cell(monkeypatch, tmp_path)
    assert len(calls) == 1 and calls[0][-1] == "git+" + CONFIG["repository"]["url"]


def test_install_cell_finds_the_checkout_from_chapters(monkeypatch):
    calls = run_install_cell(monkeypatch, ROOT / "chapters")
    assert calls == [] and sys.path[0] == str(ROOT)


@pytest.mark.parametrize("chapter,rule", RULE_CHAPTERS.items())
def test_every_rule_chapter_shows_its_explorer(chapter, rule):
    sources = "\n".join(c.source for c in read(ROOT / "chapters" / f"{chapter}.ipynb").cells if c.cell_type == "code")
    assert f'Explorer("{rule}"' in sources


@pytest.mark.parametrize("cwd", ["root", "chapters"])
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom_in_a_fresh_kernel(path, cwd):
    nb = read(path)
    folder = ROOT if cwd == "root" else ROOT / "chapters"
    NotebookClient(nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(folder)}}).execute()
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            assert out.output_type != "error", f"{path.name}: {out.get('ename')}: {out.get('evalue')}"
            if out.output_type == "stream" and out.name == "stderr":
                pytest.fail(f"{path.name} wrote to stderr: {out.text[:300]}")
