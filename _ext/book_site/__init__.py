"""Book-local Sphinx extension: changes to the HTML pages Jupyter Book 1 ships, one module per
concern, each saying first which theme or extension behaviour it works around.

Book-local Sphinx extension: changes to the HTML pages Jupyter Book 1 ships.

Loaded through ``sphinx.local_extensions`` in ``_config.yml``.

- ``scripts``: 1 (sphinx-thebe's script repeated by Sphinx) and 8 (sphinx-design and sphinx-thebe
  files on pages that do not use them)
- ``downloads``: 2 (a .md download for notebook pages)
- ``templates``: 3 (theme templates: accessible names, no fontawesome.js, no search index off the
  search page)
- ``dependencies``: 4 (chapters re-read when gradlib changes)
- 5: ``_assets/book.css`` on every page (added in :func:`setup`)
- ``icons``: 6 (icon fonts cut to the icons the site shows)
- ``katex_math``: 7 (math rendered at build time with the book's macros, KaTeX served by the site)
- ``stylesheet``: 8 (the theme's stylesheet trimmed to the rules that can match)
- ``punctuation``: 9 (punctuation kept on the line of the formula before it)
"""
from __future__ import annotations

from typing import Any

from sphinx.application import Sphinx

from .dependencies import GRADLIB_SOURCES, depend_on_gradlib
from .downloads import offer_myst_download
from .icons import ICON_FONTS, icon_code_points, subset_icon_fonts
from .katex_math import copy_katex_assets, katex_macros, render_math_with_the_books_macros, start_katex_server
from .punctuation import keep_punctuation_with_math
from .scripts import OPTIONAL_ASSETS, drop_repeated_scripts, drop_unused_assets
from .stylesheet import THEME_STYLESHEET, trim_stylesheet, trim_theme_stylesheet
from .templates import use_template_overrides

__all__ = ["GRADLIB_SOURCES", "ICON_FONTS", "OPTIONAL_ASSETS", "THEME_STYLESHEET", "copy_katex_assets",
           "depend_on_gradlib", "drop_repeated_scripts", "drop_unused_assets", "icon_code_points",
           "katex_macros", "keep_punctuation_with_math", "offer_myst_download", "render_math_with_the_books_macros",
           "setup", "start_katex_server", "subset_icon_fonts", "trim_stylesheet", "trim_theme_stylesheet",
           "use_template_overrides"]


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("config-inited", use_template_overrides)
    app.connect("config-inited", render_math_with_the_books_macros)
    app.connect("builder-inited", start_katex_server, priority=900)  # after sphinxcontrib-katex's set-up
    app.connect("build-finished", copy_katex_assets)
    app.add_css_file("book.css")
    app.connect("source-read", depend_on_gradlib)
    app.connect("doctree-resolved", keep_punctuation_with_math)
    # priority 900: after myst-nb, the theme and sphinx.ext.mathjax (default 500) add theirs
    app.connect("html-page-context", drop_repeated_scripts, priority=900)
    app.connect("html-page-context", drop_unused_assets, priority=900)
    # after sphinx-book-theme's add_header_buttons (501) built the download group
    app.connect("html-page-context", offer_myst_download, priority=900)
    app.connect("build-finished", subset_icon_fonts)
    app.connect("build-finished", trim_theme_stylesheet)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
