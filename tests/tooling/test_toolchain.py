"""The toolchain cannot drift: what runs is what requirements.lock pins, and Binder gets the same.

The site's fixes (_ext/) and template overrides are written against exact releases of Sphinx,
myst-nb and the theme; requirements.lock (made by `make lock`, see the Makefile) pins every
package the build and the tests install, for every platform and Python >= 3.10.
"""
from __future__ import annotations

import importlib.metadata
import json
import os
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


def _brought_in(roots: list[Requirement]) -> dict[str, list[Requirement]]:
    """{normalised name: the requirements naming it} for everything ``roots`` bring in on this interpreter and
    platform, transitively, read from the installed packages' metadata (markers and extras evaluated)."""
    found: dict[str, list[Requirement]] = {}
    seen: set[tuple[str, frozenset[str]]] = set()
    todo = list(roots)
    while todo:
        requirement = todo.pop()
        name, extras = _normal(requirement.name), frozenset(requirement.extras)
        found.setdefault(name, []).append(requirement)
        if (name, extras) in seen:
            continue
        seen.add((name, extras))
        for line in importlib.metadata.requires(name) or []:
            needed = Requirement(line)
            if needed.marker is None or any(needed.marker.evaluate({"extra": e}) for e in extras or {""}):
                todo.append(needed)
    return found


def test_binder_installs_exactly_the_locked_versions():
    """What repo2docker runs, ``pip install -r binder/requirements.txt`` from the repository root, checked
    offline against this venv (which holds exactly the lock: the first test). Everything requirements.txt
    brings in, transitively, is pinned in the lock at a version every package asking for it admits; and pip
    itself, reading binder's constraints with no index to fetch from, finds all of it satisfied and would
    install gradlib and nothing else (a pin the venv does not hold makes it fail: no index)."""
    locked = _locked()
    wanted = _requirements(ROOT / "requirements.txt") + [
        Requirement(line) for line in importlib.metadata.requires("gradlib") or []]
    brought_in = _brought_in(wanted)
    assert {"jupyter-book", "numpy", "anywidget", "ipywidgets", "matplotlib", "jupyterlab"} <= set(brought_in)
    assert sorted(set(brought_in) - set(locked)) == [], "brought in but not pinned by the lock (run `make lock`)"
    refused = {str(r): locked[name] for name, asked in brought_in.items() for r in asked
               if not r.specifier.contains(locked[name], prereleases=True)}
    assert refused == {}, "the lock pins a version a package does not accept"

    isolated = {**{k: v for k, v in os.environ.items() if not k.startswith("PIP_")}, "PIP_CONFIG_FILE": os.devnull}
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--no-index", "--no-build-isolation",
                           "--quiet", "--report", "-", "-r", "binder/requirements.txt"],
                          cwd=ROOT, capture_output=True, text=True, env=isolated, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    installs = {_normal(item["metadata"]["name"]): item["metadata"]["version"]
                for item in json.loads(done.stdout)["install"]}
    assert installs == {"gradlib": importlib.metadata.version("gradlib")}
