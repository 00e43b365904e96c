"""The linter is part of the suite: ``ruff check`` over the whole tree (code and notebooks, the rules of
pyproject.toml's [tool.ruff], ruff pinned in the lock) finds nothing, as ``make lint`` and ``make test-lib``
demand. A finding fails with ruff's own report: file, line, rule and message."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


def test_ruff_finds_nothing_in_the_tree(repo_root: Path):
    done = subprocess.run([sys.executable, "-m", "ruff", "check", "--output-format", "concise", "."], cwd=repo_root,
                          capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        pytest.fail(f"ruff check . (exit {done.returncode}) found:\n{done.stdout}{done.stderr}", pytrace=False)
