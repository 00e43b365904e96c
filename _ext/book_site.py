"""Book-local Sphinx extension: changes to the HTML pages Jupyter Book 1 ships.

Loaded through ``sphinx.local_extensions`` in ``_config.yml``.

1. Repeated inline scripts. Every page of a default Jupyter Book 1 build (Sphinx 7.2-7.4)
carries sphinx-thebe's inline ``<script>const THEBE_JS_URL = ...</script>`` twice, and the
second copy throws ``SyntaxError: Identifier 'THEBE_JS_URL' has already been declared``. The
cause is in Sphinx's
HTML builder, not in the book: sphinx-thebe registers that inline script in
``env-before-read-docs``, i.e. after the builder was initialised, so ``app.add_js_file(None,
body=...)`` hands it both to the builder (kept with ``filename=None``) and to the registry; in
``prepare_writing`` the builder re-adds every registry entry as ``filename or ''``. ``None`` and
``''`` compare unequal, so the builder's de-duplication misses the pair and both are rendered.

The fix works at the depth where the duplicate arises, the page's script list: on
``html-page-context`` (run last, after every extension added its per-page scripts) drop any
script whose source -- or inline body -- and attributes repeat an earlier one. Nothing that is
not a repeat is touched, so the fix is harmless once Sphinx stops producing the pair.

2. A ".md" download for notebook pages. sphinx-book-theme 1.3's download button offers a page's
source (here the ``.ipynb``) and "print to PDF"; it adds a second format only the other way round
(an ``.ipynb`` for a MyST-Markdown notebook). For every page built from an ``.ipynb`` we write
the notebook as a MyST Markdown notebook (jupytext's ``md:myst``, which Jupyter, jupytext and
Jupyter Book all open) to ``_sources/<page>.md`` and add it to the theme's download group.

3. Theme templates. ``templates/`` (put first on ``templates_path``) overrides three files of
pydata-sphinx-theme 0.17: the search button and the colour-mode switch, whose accessible names
left out their visible content (axe-core ``label-content-name-mismatch``, serious), and
``static/webpack-macros.html``, to leave out ``fontawesome.js`` (0.54 MB gzipped on every page,
for icons the theme's stylesheet already draws). Each file says what it changes.

4. Re-running the chapters when gradlib changes. The notebooks import ``gradlib``, but Sphinx
re-reads (and myst-nb, with ``execute_notebooks: force``, re-executes) only the pages whose own
source changed, so an edit to ``gradlib/`` alone left stale outputs in an incremental build.
Every notebook page records the files of ``gradlib/`` as dependencies; Sphinx then re-reads it
when any of them is newer than the page's last read.

5. The book's stylesheet, ``_assets/book.css`` (``_assets`` is on ``html_static_path``), on every
page: contrast fixes for the theme, each explained there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jupytext
from sphinx.application import Sphinx


def _script_key(script: Any) -> tuple:
    """What makes two entries of ``script_files`` the same ``<script>`` tag."""
    filename = getattr(script, "filename", script) or ""  # None and '' both mean "inline"
    attributes = getattr(script, "attributes", {})
    return (filename, tuple(sorted((name, str(value)) for name, value in attributes.items())))


def drop_repeated_scripts(
    app: Sphinx, pagename: str, templatename: str, context: dict, doctree: Any
) -> None:
    """Remove repeated ``<script>`` entries from this page's ``script_files``, in place."""
    scripts = context.get("script_files")
    if not scripts:
        return
    seen: set[tuple] = set()
    unique = []
    for script in scripts:
        key = _script_key(script)
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique  # in place: the builder restores its own list before the next page


def offer_myst_download(
    app: Sphinx, pagename: str, templatename: str, context: dict, doctree: Any
) -> None:
    """Write ``_sources/<page>.md`` for a notebook page and add it to the download button."""
    if app.builder.format != "html" or pagename not in app.env.all_docs:
        return
    source = Path(app.env.doc2path(pagename))
    downloads = next(
        (b for b in context.get("header_buttons", []) if b.get("label") == "download-buttons"),
        None,
    )
    if source.suffix != ".ipynb" or downloads is None:
        return
    target = Path(app.outdir, "_sources", pagename).with_suffix(".md")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(jupytext.writes(jupytext.read(source), fmt="md:myst"), encoding="utf-8")
    downloads["buttons"].insert(
        1,  # after the page's source (.ipynb), before "print to PDF"
        {
            "type": "link",
            "url": f"{context['pathto']('_sources', 1)}/{pagename}.md",
            "text": ".md",
            "tooltip": "Download as a MyST Markdown notebook",
            "icon": "fab fa-markdown",
            "label": "download-myst-markdown-button",
        },
    )


def depend_on_gradlib(app: Sphinx, docname: str, source: list[str]) -> None:
    """Record every file of ``gradlib/`` as a dependency of a notebook page."""
    if app.env.doc2path(docname).endswith(".ipynb"):
        for path in sorted(Path(app.srcdir, "gradlib").glob("*.*")):
            if path.suffix in {".py", ".js", ".css"}:
                app.env.note_dependency(str(path))


def use_template_overrides(app: Sphinx, config: Any) -> None:
    """Put ``templates/`` first on ``templates_path`` (before the theme's own components)."""
    config.templates_path.insert(0, str(Path(__file__).with_name("templates")))


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("config-inited", use_template_overrides)
    app.add_css_file("book.css")
    app.connect("source-read", depend_on_gradlib)
    # priority 900: after myst-nb, the theme and sphinx.ext.mathjax (default 500) add theirs
    app.connect("html-page-context", drop_repeated_scripts, priority=900)
    # after sphinx-book-theme's add_header_buttons (501) built the download group
    app.connect("html-page-context", offer_myst_download, priority=900)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
