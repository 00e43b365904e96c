"""The explorer's shipped module, gradlib/explorer.js, is the esbuild bundle of gradlib/explorer_js/.

pip and Colab installs have no node, so the bundle is committed; this test builds it afresh with the
esbuild package.json pins (`make npm` installs it) and fails if the committed file differs: run
`make js` and commit the result.
"""
from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUNDLE = ROOT / "gradlib" / "explorer.js"
SOURCES = ROOT / "gradlib" / "explorer_js"


def test_esbuild_is_pinned_exactly():
    pinned = json.loads((ROOT / "package.json").read_text())["devDependencies"]["esbuild"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", pinned), f"esbuild must be pinned exactly, not {pinned!r}"
    esbuild = ROOT / "node_modules" / ".bin" / "esbuild"
    if not esbuild.exists():
        pytest.fail("esbuild is not installed: run `make npm`")
    assert subprocess.run([str(esbuild), "--version"], capture_output=True, text=True).stdout.strip() == pinned


def test_committed_bundle_equals_a_fresh_build():
    esbuild = ROOT / "node_modules" / ".bin" / "esbuild"
    if not esbuild.exists():
        pytest.fail("esbuild is not installed: run `make npm`")
    bundle = ["node", str(ROOT / "gradlib" / "bundle.mjs"), "explorer_js/index.js", "explorer.js", "--stdout"]
    done = subprocess.run(bundle, cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    stale = "gradlib/explorer.js is stale: run `make js` and commit it"
    assert done.stdout == BUNDLE.read_text(encoding="utf-8"), stale
    first = BUNDLE.read_text().splitlines()[0]
    assert first.startswith("// GENERATED") and "gradlib/explorer_js" in first


def test_no_hand_written_explorer_source_over_400_lines():
    sizes = {p.name: len(p.read_text().splitlines()) for p in [*SOURCES.glob("*.js"), ROOT / "gradlib" / "explorer.css",
                                                               ROOT / "gradlib" / "explorer.py"]}
    assert len(sizes) >= 10 and max(sizes.values()) <= 400, sizes


def test_the_wheel_ships_the_bundle():
    """pyproject's package data takes gradlib/*.js and *.css: the bundle and its stylesheet."""
    text = (ROOT / "pyproject.toml").read_text()
    data = re.search(r"\[tool\.setuptools\.package-data\]\s*gradlib\s*=\s*\[([^\]]*)\]", text).group(1)
    assert '"*.js"' in data and '"*.css"' in data
