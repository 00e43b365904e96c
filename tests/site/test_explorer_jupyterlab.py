"""The explorers in JupyterLab, with a kernel: a slider move goes to Python, gradlib computes, the
page shows gradlib's numbers, and a click tells the kernel which entry the reader picked (chapter 9's
backward pass too). One JupyterLab server (the venv's) for the module, on a free local port, every
request to another origin aborted; the wiring is checked as on the static pages (explorer_checks.py).
"""
from __future__ import annotations

import contextlib
import json
import math
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator

import pytest

from booksite import ROOT
from explorer_checks import READ, check_step, check_view, set_slider
from gradlib import structure

pytestmark = pytest.mark.browser


NOTEBOOK = {
    "cells": [
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source":
         f"import sys; sys.path.insert(0, {str(ROOT)!r})\nfrom gradlib.explorer import Explorer\n"
         "explorer = Explorer('matmul')\nexplorer"},
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source":
         "print(explorer.shapes, explorer.computed['shapes'], explorer.selection)"},
    ],
    "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    "nbformat": 4, "nbformat_minor": 5,
}


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory):
    """A JupyterLab server (the venv's) on a free local port, one for the module: ``jupyterlab(rule)`` is the
    address of a notebook that shows an explorer of ``rule``, in a workspace of its own (nothing restored)."""
    folder = tmp_path_factory.mktemp("lab")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    token = secrets.token_hex(16)
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(folder / "runtime"),
           "JUPYTERLAB_WORKSPACES_DIR": str(folder / "workspaces")}
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", f"--port={port}", "--ip=127.0.0.1",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={folder}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    url = f"http://127.0.0.1:{port}"

    def notebook(rule: str) -> str:
        (folder / f"explore_{rule}.ipynb").write_text(json.dumps(NOTEBOOK).replace("Explorer('matmul')",
                                                                                   f"Explorer('{rule}')"))
        return f"{url}/lab/workspaces/{rule}/tree/explore_{rule}.ipynb?token={token}"

    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=1)
                break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("JupyterLab did not start within 60 s")
        yield notebook
    finally:
        server.terminate()
        server.wait(timeout=30)


@contextlib.contextmanager
def lab_explorer(browser, url: str, rule: str) -> Iterator[tuple]:
    """JupyterLab at ``url`` with every cell run: (page, the explorer's root, the page's errors so far)."""
    context = browser.new_context(viewport={"width": 1300, "height": 1000})
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.route("**/*", lambda route, request: route.continue_() if request.url.startswith("http://127.0.0.1")
                   else route.abort())
        page.goto(url)
        page.wait_for_selector(".jp-Notebook .jp-CodeCell", timeout=60_000)
        choose = page.locator(".jp-Dialog").get_by_role("button", name="Select", exact=True)
        try:  # JupyterLab may ask which kernel to start
            choose.click(timeout=5_000)
        except Exception:  # playwright's TimeoutError: no dialog
            pass
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
        root = page.locator(".gradlib-explorer")
        root.wait_for(timeout=60_000)
        assert root.count() == 1 and root.get_attribute("data-rule") == rule
        yield page, root, errors
    finally:
        context.close()


def resized_by_the_kernel(page, root, spec: structure.Spec, dim: str, counted: str) -> dict[str, int]:
    """gradlib's numbers at the default shapes; then ``dim`` moved to 5 goes to the kernel and back
    (awaited: the status says gradlib and array ``counted`` has its new cells): gradlib's numbers at
    the new shapes, which are returned."""
    check_view(root, spec, spec.default_shapes, points=1)
    assert root.evaluate(READ)["source"] == "gradlib"
    shapes = {**spec.default_shapes, dim: 5}
    set_slider(root, dim, 5)
    cells = math.prod(spec.shape(counted, shapes))
    page.wait_for_function("document.querySelector('.ge-status').dataset.source === 'gradlib'"
                           f" && document.querySelectorAll('[data-array={counted}]').length === {cells}",
                           timeout=20_000)
    check_view(root, spec, shapes, points=1)
    return shapes


def test_explorer_in_jupyterlab_shows_gradlib_numbers(browser, jupyterlab):
    """With a kernel: a slider move goes to Python, gradlib computes, the page shows gradlib's numbers,
    and a click tells the kernel which entry the reader picked."""
    with lab_explorer(browser, jupyterlab("matmul"), "matmul") as (page, root, errors):
        assert resized_by_the_kernel(page, root, structure.spec("matmul"), "n", "dX") == {"n": 5, "m": 4, "p": 2}
        root.locator('[data-array="dX"][data-index="4,3"]').click()
        page.mouse.move(0, 0)
        time.sleep(0.5)  # the selection message reaches the kernel
        second = page.locator(".jp-CodeCell").nth(1)
        second.locator(".jp-InputArea-editor").click()
        page.keyboard.press("Shift+Enter")
        output = second.locator(".jp-OutputArea-output")
        output.wait_for(timeout=20_000)
        assert output.inner_text().strip() == ("{'n': 5, 'm': 4, 'p': 2} {'n': 5, 'm': 4, 'p': 2} "
                                               "{'array': 'dX', 'index': [4, 3]}")
        assert errors == []


def test_backward_pass_explorer_in_jupyterlab_shows_gradlib_numbers(browser, jupyterlab):
    """Chapter 9's explorer with a kernel: gradlib.mlp's numbers, also after a slider move, and the steps."""
    with lab_explorer(browser, jupyterlab("mlp"), "mlp") as (page, root, errors):
        spec = structure.spec("mlp")
        resized_by_the_kernel(page, root, spec, "N", "X")
        root.locator('button[data-step="next"]').click()
        check_step(root, spec, 1)
        assert root.evaluate(READ)["source"] == "gradlib"
        assert errors == []
