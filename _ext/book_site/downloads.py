"""Works around sphinx-book-theme 1.3's download button offering a notebook page only as .ipynb.

2. A ".md" download for notebook pages. sphinx-book-theme 1.3's download button offers a page's
source (here the ``.ipynb``) and "print to PDF"; it adds a second format only the other way round
(an ``.ipynb`` for a MyST-Markdown notebook). For every page built from an ``.ipynb`` we write
the notebook as a MyST Markdown notebook (jupytext's ``md:myst``, which Jupyter, jupytext and
Jupyter Book all open) to ``_sources/<page>.md`` and add it to the theme's download group.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import jupytext
from sphinx.application import Sphinx


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
