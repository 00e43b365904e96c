"""Works around Sphinx re-reading (and myst-nb re-executing) only pages whose own source changed.

4. Re-running the chapters when gradlib changes. The notebooks import ``gradlib``, but Sphinx
re-reads (and myst-nb, with ``execute_notebooks: force``, re-executes) only the pages whose own
source changed, so an edit to ``gradlib/`` alone left stale outputs in an incremental build.
Every notebook page records the files of the ``gradlib`` package (its whole tree) as dependencies;
Sphinx then re-reads it when any of them is newer than the page's last read.
"""
from __future__ import annotations

from pathlib import Path

from sphinx.application import Sphinx

GRADLIB_SOURCES = {".py", ".js", ".css", ".json"}


def depend_on_gradlib(app: Sphinx, docname: str, source: list[str]) -> None:
    """Record every file of the ``gradlib`` package, subpackages included, as a dependency of a
    notebook page (``gradlib/structure/`` too: the explorers and figures are drawn from it)."""
    if app.env.doc2path(docname).endswith(".ipynb"):
        for path in sorted(Path(app.srcdir, "gradlib").rglob("*")):
            if path.suffix in GRADLIB_SOURCES and "__pycache__" not in path.parts:
                app.env.note_dependency(str(path))
