"""gradlib as a package: it builds from pyproject.toml without a warning, with its license declared.

The build runs offline with the venv's setuptools (the locked release: ``--no-build-isolation``), on a
copy of what the package is made of, so the repository gets no ``build/`` folder.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from booksite import ROOT

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))

# What setuptools prints when a project uses a form it is retiring (`license = { text = "MIT" }`:
# "BuildBackendWarning: `project.license` as a TOML table is deprecated ... By 2027-Feb-18, you need to
# update your project"), and any warning at all.
DEPRECATION = re.compile(r"deprecat|by \d{4}-\w{3}-\d{2}", re.IGNORECASE)
WARNING = re.compile(rf"warning|{DEPRECATION.pattern}", re.IGNORECASE)
# The environment pip runs the backend in. PYTHONDONTWRITEBYTECODE makes distutils warn "byte-compiling is
# disabled": the shell's doing, not the project's.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


@pytest.fixture(scope="module")
def package_source(tmp_path_factory) -> Path:
    """A copy of what the package is made of (pyproject.toml names the rest)."""
    source = tmp_path_factory.mktemp("source")
    for name in ["pyproject.toml", PYPROJECT["project"]["readme"], *PYPROJECT["project"].get("license-files", [])]:
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "gradlib", source / "gradlib", ignore=shutil.ignore_patterns("__pycache__"))
    return source


def pip(*arguments: str) -> str:
    """Run the venv's pip offline with the venv's setuptools; return its log (stdout and stderr)."""
    done = subprocess.run([sys.executable, "-m", "pip", *arguments, "--verbose", "--no-deps",
                           "--no-build-isolation", "--no-index"],
                          capture_output=True, text=True, timeout=300, env=ENV)
    log = done.stdout + done.stderr
    assert done.returncode == 0, log[-3000:]
    return log


@pytest.fixture(scope="module")
def wheel_build(package_source, tmp_path_factory) -> tuple[str, Path]:
    """(the log of ``pip wheel`` on a copy of the package, the wheel it made)."""
    wheels = tmp_path_factory.mktemp("wheels")
    log = pip("wheel", "--wheel-dir", str(wheels), str(package_source))
    (wheel,) = wheels.glob("gradlib-*.whl")
    return log, wheel


def test_the_build_log_has_no_warning(wheel_build):
    log, _ = wheel_build
    assert "running bdist_wheel" in log, "the log should be setuptools' own (pip --verbose)"
    warnings = [line for line in log.splitlines() if WARNING.search(line)]
    assert warnings == [], "\n".join(warnings)


def test_the_editable_install_prints_no_deprecation(package_source, tmp_path):
    """What `make setup` does for gradlib (``-e .``), into a scratch prefix. setuptools' notice that an
    editable install maps the package's folder is information, not a deprecation, and stays."""
    log = pip("install", "--prefix", str(tmp_path / "prefix"), "--editable", str(package_source))
    assert "Successfully installed gradlib" in log
    deprecations = [line for line in log.splitlines() if DEPRECATION.search(line)]
    assert deprecations == [], "\n".join(deprecations)


def test_the_license_is_an_spdx_expression_shipped_with_its_file(wheel_build):
    _, wheel = wheel_build
    assert PYPROJECT["project"]["license"] == "MIT"
    assert PYPROJECT["project"]["license-files"] == ["LICENSE"]
    license_text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert license_text.startswith("MIT License") and "The gradlib authors" in license_text
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        (metadata,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        headers = archive.read(metadata).decode()
        (shipped,) = [n for n in names if n.endswith(".dist-info/licenses/LICENSE")]
        assert archive.read(shipped).decode() == license_text
    assert "License-Expression: MIT" in headers.splitlines()
    assert "License-File: LICENSE" in headers.splitlines()
    assert not [line for line in headers.splitlines() if line.startswith("Classifier: License ::")]


def test_the_wheel_ships_every_module_and_asset(wheel_build):
    """Every .py, .js and .css under gradlib/ (subpackages included) is in the wheel, except the
    sources of a JavaScript bundle: the wheel ships the bundle, whose first line names its sources."""
    _, wheel = wheel_build
    with zipfile.ZipFile(wheel) as archive:
        shipped = {n for n in archive.namelist() if n.startswith("gradlib/")}
    banners = {p: p.read_text(encoding="utf-8").partition("\n")[0] for p in (ROOT / "gradlib").glob("*.js")}
    sources = {m.group(1) for b in banners.values() if (m := re.search(r"GENERATED .* from (gradlib/\w+)/", b))}
    assert sources, "no generated bundle names its sources"
    wanted = {p.relative_to(ROOT).as_posix() for p in (ROOT / "gradlib").rglob("*")
              if p.suffix in {".py", ".js", ".css"} and "__pycache__" not in p.parts}
    assert {w for w in wanted if not any(w.startswith(s + "/") for s in sources)} - shipped == set()
    assert all(p.relative_to(ROOT).as_posix() in shipped for p in banners), "a bundle is not shipped"
