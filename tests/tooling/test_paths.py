"""Every repository path named in the code, the docs and the notebooks exists.

A path is any text that starts with one of the repository's top-level folders and a slash
(``tests/site/test_page_loads.py``, ``gradlib/structure/``, ``chapters/05_matmul``, ``.github/workflows/``):
in comments, docstrings, string literals, backticks, prose and cells alike. It names something that
exists when
- it is a file or folder of the checkout, or a path git ignores (what a build makes);
- it has placeholders or wildcards (``chapters/{stem}.ipynb``, ``gradlib/<rule>.py``, ``gradlib/*.*``)
  and some path matches the pattern;
- its last part has no suffix and some path starts with it: a Jupyter Book docname
  (``appendix/errata``) or a prefix (``re.match(r"chapters/0[1-8]_", ...)``);
- it is a page of the site (``chapters/05_matmul.html``) whose source exists.
A path after ``/``, ``.``, a word character or ``}`` is part of a URL or a longer path, not one of ours.
"""

from __future__ import annotations

import json
import re
import subprocess
from functools import cache
from pathlib import Path

import pytest

from booksite import ROOT

TEXT_SUFFIXES = {".py", ".js", ".mjs", ".css", ".md", ".ipynb", ".yml", ".yaml", ".toml", ".txt", ".json", ".html",
                 ".sh", ".cfg"}
NOT_SCANNED = {"package-lock.json", "requirements.lock",  # generated; they name no paths of ours
               "tests/tooling/test_paths.py"}  # this file, which names stale paths on purpose
PAGE_SOURCES = (".ipynb", ".md")


def _git(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *arguments], cwd=ROOT, capture_output=True, text=True, check=True)


@cache
def repository_files() -> tuple[str, ...]:
    """The checkout's files, tracked or new (not those git ignores)."""
    listed = _git("ls-files", "--cached", "--others", "--exclude-standard").stdout.splitlines()
    return tuple(sorted(name for name in set(listed) if (ROOT / name).is_file()))


def _path_pattern() -> re.Pattern:
    folders = sorted({name.split("/")[0] for name in repository_files() if "/" in name})
    part = r"(?:[\w.*\-]|\{[^{}/\s]*\}|<[^<>/\s]*>)"  # a name character, a {placeholder} or a <placeholder>
    return re.compile(rf"(?<![\w./}}\-])(?:{'|'.join(map(re.escape, folders))})/(?:{part}+/?)*")


def named_paths(text: str) -> list[str]:
    """The repository paths ``text`` names (trailing sentence punctuation dropped)."""
    return [found.group().rstrip(".") for found in _path_pattern().finditer(text)]


def _text(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".ipynb":  # the cells' sources (notebooks are committed without outputs)
        text = "\n".join("".join(cell["source"]) for cell in json.loads(text)["cells"])
    return text


def _exists(named: str, ignored: set[str]) -> bool:
    pattern = re.sub(r"\{[^{}]*\}|<[^<>]*>", "*", named).rstrip("/")
    if "*" in pattern:
        return next(ROOT.glob(pattern), None) is not None
    if (ROOT / pattern).exists() or named in ignored:
        return True
    if pattern.endswith(".html"):
        return any((ROOT / pattern).with_suffix(suffix).is_file() for suffix in PAGE_SOURCES)
    last = pattern.rsplit("/", 1)[-1]
    return "." not in last and any(name.startswith(pattern) for name in repository_files())


def stale_paths(file: str) -> list[str]:
    """The paths ``file`` names that exist nowhere in the checkout, in order of appearance."""
    named = named_paths(_text(ROOT / file))
    candidates = sorted(set(named))
    # git check-ignore: the paths a build or a tool makes (listed in .gitignore), not stale
    done = subprocess.run(["git", "check-ignore", "--no-index", "--stdin"], cwd=ROOT, input="\n".join(candidates),
                          capture_output=True, text=True)
    ignored = set(done.stdout.splitlines())
    return [path for path in named if not _exists(path, ignored)]


def scanned_files() -> list:
    files = [name for name in repository_files() if name not in NOT_SCANNED and name.split("/")[-1] not in NOT_SCANNED
             and (Path(name).suffix in TEXT_SUFFIXES or Path(name).name == "Makefile")]
    return files


@pytest.mark.parametrize("file", scanned_files())
def test_every_path_named_exists(file):
    assert stale_paths(file) == []


def test_the_scan_finds_paths_in_every_form_and_judges_them(tmp_path):
    """Paths in prose, code and cells; URLs and longer paths are not ours; each kind of existing path passes."""
    text = """See tests/site/test_page_loads.py, `gradlib/structure/` and "chapters/{stem}.ipynb".
    https://example.org/tests/nowhere.py and _build/html/chapters/x.html and {site_url}chapters/probe.html
    {doc}`the errata <appendix/errata>`; re.match(r"chapters/0[1-8]_", page); gradlib/*.py; tests/no_such.py."""
    assert named_paths(text) == ["tests/site/test_page_loads.py", "gradlib/structure/", "chapters/{stem}.ipynb",
                                 "appendix/errata", "chapters/0", "gradlib/*.py", "tests/no_such.py"]
    judged = {path: _exists(path, set()) for path in named_paths(text)}
    assert judged == {**{path: True for path in judged}, "tests/no_such.py": False}
    assert _exists("chapters/05_matmul.html", set()) and not _exists("chapters/no_such.html", set())
    assert not _exists("chapters/no_such_chapter", set()) and not _exists("gradlib/*.no_such", set())
