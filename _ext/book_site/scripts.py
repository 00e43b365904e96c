"""Works around Sphinx 7.2-7.4 rendering sphinx-thebe's inline script twice, and sphinx-design /
sphinx-thebe adding their files to every page.

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

8. (its first part; the stylesheet is ``stylesheet.py``'s) Files a page does not use. sphinx-design
and sphinx-thebe add their stylesheets and scripts to every page; they are left out of the pages
that do not use them (no ``sd-`` class in the body; thebe not turned on), for page weight.
"""
from __future__ import annotations

import re
from typing import Any

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


#: Assets an extension adds to every page that a page needs only when it uses them: (stylesheet or
#: script file name, what in a page's body uses it). sphinx-design's tabs and cards (class ``sd-*``);
#: sphinx-thebe's live code (its files and inline settings), used only when the book turns it on
#: (``thebe`` in ``launch_buttons``: the theme then sets ``use_thebe``).
_SPHINX_DESIGN = re.compile(r'class="[^"]*\bsd-')
OPTIONAL_ASSETS = {"sphinx-design.min.css": "design", "design-tabs.js": "design",
                   "sphinx-thebe.css": "thebe", "sphinx-thebe.js": "thebe", "THEBE_JS_URL": "thebe"}


def _asset_name(asset: Any) -> str:
    """A stylesheet's or script's file name, or an inline script's body."""
    filename = getattr(asset, "filename", asset) or ""
    return filename or str(getattr(asset, "attributes", {}).get("body", ""))


def drop_unused_assets(
    app: Sphinx, pagename: str, templatename: str, context: dict, doctree: Any
) -> None:
    """Leave out of this page the OPTIONAL_ASSETS its body does not use (page weight: at most 400 KiB gzip a page)."""
    used = {"design": bool(_SPHINX_DESIGN.search(context.get("body", ""))), "thebe": bool(context.get("use_thebe"))}
    unused = {name for name, user in OPTIONAL_ASSETS.items() if not used[user]}
    for key in ("css_files", "script_files"):
        assets = context.get(key)
        if assets:
            assets[:] = [a for a in assets if not any(name in _asset_name(a) for name in unused)]
