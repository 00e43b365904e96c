"""The toolchain cannot drift: what runs is what requirements.lock pins, and Binder gets the same.

The site's fixes (_ext/) and template overrides are written against exact releases of Sphinx,
myst-nb and the theme; requirements.lock (made by `make lock`, see the Makefile) pins every
package the build and the tests install, for every platform and Python >= 3.10.
"""
from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
from pathlib import Path

from packaging.requirements import Requirement

from booksite import ROOT


def _requirements(path: Path) -> list[Requirement]:
    """The package lines of a requirements file (options, -r/-c/-e lines and comments skipped)."""
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [Requirement(line) for line in lines if line and not line.startswith("-")]


def _locked() -> dict[str, str]:
    """{normalised name: version} of the lock entries that apply to this interpreter and platform."""
    pins = {}
    for requirement in _requirements(ROOT / "requirements.lock"):
        if requirement.marker is None or requirement.marker.evaluate():
            (spec,) = requirement.specifier
            assert spec.operator == "==", f"lock entry {requirement} is not an exact pin"
            pins[_normal(requirement.name)] = spec.version
    return pins


def _normal(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def test_every_installed_package_is_at_its_locked_version():
    locked = _locked()
    assert len(locked) > 100, "the lock should pin the whole dependency tree, not just the top level"
    wrong = {}
    for name, version in locked.items():
        try:
            installed = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            installed = None
        if installed != version:
            wrong[name] = (version, installed)
    assert wrong == {}, f"(locked, installed) differ -- run `make setup` after a lock change: {wrong}"


def test_every_requirement_is_locked_at_a_version_it_admits():
    locked = _locked()
    for file in ("requirements.txt", "requirements-test.txt"):
        for requirement in _requirements(ROOT / file):
            name = _normal(requirement.name)
            assert name in locked, f"{file}: {requirement.name} is not in requirements.lock (run `make lock`)"
            assert requirement.specifier.contains(locked[name], prereleases=True), (
                f"{file} asks for {requirement} but the lock pins {locked[name]} (run `make lock`)")


def test_the_lock_pins_no_local_package_and_every_platform():
    text = (ROOT / "requirements.lock").read_text()
    assert "gradlib" not in [r.name for r in _requirements(ROOT / "requirements.lock")]
    assert "-e " not in text and "file://" not in text, "the lock must not name a local path"
    assert "sys_platform == 'darwin'" in text, "the lock should be universal (made with --universal)"
    assert "uv pip compile" in text.splitlines()[1], "the lock's header names the command that makes it"


def test_binder_reads_the_locked_requirements():
    """repo2docker reads binder/ when it exists, and nothing at the top level; binder/requirements.txt
    must install gradlib and constrain everything to the lock."""
    overriding = ["environment.yml", "Pipfile", "Pipfile.lock", "Dockerfile", "default.nix", "Project.toml",
                  "apt.txt", "postBuild"]
    assert [name for name in overriding if (ROOT / "binder" / name).exists()] == []
    lines = [line.split("#", 1)[0].strip() for line in (ROOT / "binder/requirements.txt").read_text().splitlines()]
    assert "-c ../requirements.lock" in lines and "-r ../requirements.txt" in lines
    assert "-e ." in [line.split("#", 1)[0].strip() for line in (ROOT / "requirements.txt").read_text().splitlines()]


def test_binder_resolves_to_exactly_the_locked_versions(tmp_path):
    """What pip would install from binder/requirements.txt on an empty machine (as repo2docker runs it,
    from the repository root), resolved for real: every package at its locked version."""
    report = tmp_path / "report.json"
    subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
                    "--report", str(report), "-r", "binder/requirements.txt"],
                   cwd=ROOT, check=True, capture_output=True, text=True)
    installs = {_normal(item["metadata"]["name"]): item["metadata"]["version"]
                for item in json.loads(report.read_text())["install"]}
    assert installs.pop("gradlib") == importlib.metadata.version("gradlib")
    locked = _locked()
    assert {name: version for name, version in installs.items() if locked.get(name) != version} == {}
    assert {"jupyter-book", "numpy", "anywidget", "ipywidgets", "matplotlib"} <= set(installs)
