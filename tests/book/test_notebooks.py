"""The chapter notebooks as sources: stripped, consistent, and runnable in a fresh kernel.

Each notebook runs top to bottom twice per `make test`, from the two folders a reader starts in: the
book build runs it from chapters/ (where Jupyter starts when a reader opens a chapter; its executed
copies are checked here), and these tests run it once from the repository root.
"""
from __future__ import annotations

import functools
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
    "07_broadcast_mul": "broadcast_mul", "09_backprop_mlp": "mlp",
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


@functools.cache
def run_from_the_root(path: Path) -> nbformat.NotebookNode:
    """``path`` executed top to bottom in a fresh kernel started in the repository root (once a session)."""
    nb = read(path)
    NotebookClient(nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}).execute()
    return nb


def assert_ran_cleanly(nb: nbformat.NotebookNode, source: nbformat.NotebookNode, name: str) -> None:
    """Every code cell of ``source`` ran, in order, in ``nb``: no error, nothing on stderr."""
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert [cell.source for cell in code] == [cell.source for cell in source.cells if cell.cell_type == "code"], (
        f"{name}: the executed copy is not of this notebook")
    assert [cell.execution_count for cell in code] == list(range(1, len(code) + 1)), f"{name}: not every cell ran"
    for cell in code:
        for out in cell.outputs:
            assert out.output_type != "error", f"{name}: {out.get('ename')}: {out.get('evalue')}"
            if out.output_type == "stream" and out.name == "stderr":
                pytest.fail(f"{name} wrote to stderr: {out.text[:300]}")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom_from_the_repository_root(path):
    assert_ran_cleanly(run_from_the_root(path), read(path), path.name)


@pytest.mark.book
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom_from_chapters_in_the_build(path, book_html, book_root, book_config):
    """The build's run: myst-nb executes a notebook in its own folder (chapters/) unless run_in_temp is set,
    and keeps the executed copy in _build/jupyter_execute/."""
    assert not book_config["execute"].get("run_in_temp", False), "the build would not run from chapters/"
    assert book_config["execute"]["execute_notebooks"] == "force", "the build would not run every notebook"
    relative = path.relative_to(ROOT)
    executed = book_html.parent / "jupyter_execute" / relative
    assert executed.is_file(), f"the build kept no executed copy of {relative}"
    assert_ran_cleanly(read(executed), read(book_root / relative), f"{relative} (built)")


@pytest.mark.parametrize("chapter,rule", RULE_CHAPTERS.items())
def test_every_rule_chapter_shows_its_explorer(chapter, rule):
    """Run, the chapter displays an explorer of its rule, drawn from gradlib's numbers: a widget output whose
    model (in the notebook's saved widget state) is gradlib's Explorer of ``rule``, with computed arrays."""
    nb = run_from_the_root(ROOT / "chapters" / f"{chapter}.ipynb")
    state = nb.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {}).get("state", {})
    shown = [out.data["application/vnd.jupyter.widget-view+json"]["model_id"]
             for cell in nb.cells if cell.cell_type == "code"
             for out in cell.outputs if "application/vnd.jupyter.widget-view+json" in out.get("data", {})]
    explorers = [state[model]["state"] for model in shown if model in state
                 and state[model]["state"].get("_anywidget_id") == "gradlib.explorer.Explorer"]
    assert rule in [explorer["rule"] for explorer in explorers], f"{chapter} shows no explorer of {rule}"
    for explorer in explorers:
        assert explorer["shapes"] and explorer["computed"]["arrays"], f"{chapter}: an explorer without numbers"
