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

6. Icon fonts cut to the icons the site shows. The theme draws its icons from Font Awesome's web
fonts, 268 KiB (gzip) for the two a page needs, of which the book uses a few dozen glyphs. After the
build, the glyphs the site can show -- every ``fa-<name>`` class in the built pages, and every icon
the stylesheets draw themselves (the admonition icons, ``--pst-icon-*``) -- are cut out of the
theme's fonts with fontTools into ``_static/fonts/<font>.woff`` (a few KiB each), and
``book.css`` declares them, after the theme's declarations, under the theme's own family names, so
the theme's full fonts are never fetched.

7. Math rendered at build time, with the book's macros, and served by the site. sphinxcontrib-katex
(``katex_prerender``) turns every formula into HTML with KaTeX under node while the pages are
written, so no page runs a math script. Two things it leaves to us: the macros, which live in
``mathjax3_config`` (for Jupyter's MathJax; the notebooks repeat them), go into the options its
KaTeX renders with; and KaTeX's stylesheet and fonts, which it would take from a CDN, are copied
from the npm package ``katex`` (``package.json``: the version sphinxcontrib-katex bundles, checked
here) into ``_static/katex/`` (woff2 only: every browser that runs the site reads it). A page
fetches only the fonts its formulas use.
"""

from __future__ import annotations

import json
import re
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


# The theme's Font Awesome fonts (in _static/vendor/fontawesome/webfonts/; the .ttf copies, which
# fontTools reads without brotli) and the subsets written next to book.css, declared there.
ICON_FONTS = ("fa-solid-900", "fa-regular-400", "fa-brands-400")
_CONTENT_RULE = re.compile(r'([^{}]+)\{content:"([^"]+)"\}')  # .fa-x:before,.fa-y:before{content:"\f042"}
_ICON_CLASS = re.compile(r"\bfa-([a-z0-9-]+)")
_PRIVATE_USE = re.compile(r'"(\\[ef][0-9a-f]{3}|[\ue000-\uf8ff])"')  # one icon: "\f058", "\e4c1" or the character


def _code_point(content: str) -> int:
    return int(content[1:], 16) if content.startswith("\\") else ord(content)


def icon_code_points(static: Path, pages: list[Path]) -> set[int]:
    """The Font Awesome code points the built site can show (see 6. in the module docstring)."""
    by_name: dict[str, int] = {}
    drawn: set[int] = set()  # icons a stylesheet draws by itself (content: or a --pst-icon variable)
    for css in static.rglob("*.css"):
        text = css.read_text(encoding="utf-8", errors="replace")
        for selectors, content in _CONTENT_RULE.findall(text):
            names = re.findall(r"\.fa-([a-z0-9-]+):{1,2}before", selectors)
            if names and _PRIVATE_USE.fullmatch(f'"{content}"'):
                by_name.update(dict.fromkeys(names, _code_point(content)))
        text = _CONTENT_RULE.sub("", text)  # what is left: icons not tied to a class name
        drawn.update(_code_point(match) for match in _PRIVATE_USE.findall(text))
    used = {name for page in pages for name in _ICON_CLASS.findall(page.read_text(encoding="utf-8"))}
    return drawn | {by_name[name] for name in used if name in by_name}


def subset_icon_fonts(app: Sphinx, exception: Exception | None) -> None:
    """Write ``_static/fonts/<font>.woff``: the theme's icon fonts with only the site's icons."""
    if exception is not None or app.builder.format != "html":
        return
    from fontTools import subset

    static = Path(app.outdir, "_static")
    code_points = icon_code_points(static, sorted(Path(app.outdir).rglob("*.html")))
    options = subset.Options(flavor="woff", layout_features=[], name_IDs=[], notdef_outline=True)
    (static / "fonts").mkdir(exist_ok=True)
    for name in ICON_FONTS:
        font = subset.load_font(str(static / "vendor" / "fontawesome" / "webfonts" / f"{name}.ttf"), options)
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=code_points & set(font.getBestCmap()))
        subsetter.subset(font)
        subset.save_font(font, str(static / "fonts" / f"{name}.woff"), options)


def katex_macros(config: Any) -> dict[str, str]:
    """The macros of ``mathjax3_config`` as KaTeX takes them (``#1`` marks the arguments)."""
    macros = config.mathjax3_config.get("tex", {}).get("macros", {})
    return {f"\\{name}": body if isinstance(body, str) else body[0] for name, body in macros.items()}


def render_math_with_the_books_macros(app: Sphinx, config: Any) -> None:
    """Give sphinxcontrib-katex's build-time KaTeX the book's macros."""
    from sphinxcontrib import katex

    katex.KATEX_DEFAULT_OPTIONS["macros"] = katex_macros(config)


def start_katex_server(app: Sphinx) -> None:
    """Start sphinxcontrib-katex's node server, waiting until it listens.

    The extension connects to the server's Unix socket once the socket file exists, which on a
    loaded machine can be before node listens on it: ConnectionRefusedError, and the build
    fails. Here the connection is retried until the server listens (or STARTUP_TIMEOUT passes);
    the server, its command and its clean-up are the extension's own."""
    import atexit
    import socket
    import subprocess
    import tempfile
    import time

    from sphinxcontrib.katex import STARTUP_TIMEOUT, KaTeXServer

    if app.config.html_math_renderer != "katex" or KaTeXServer.katex_server is not None:
        return
    rundir = Path(tempfile.mkdtemp(prefix="sphinxcontrib_katex"))
    path = rundir / "katex.sock"
    process = subprocess.Popen(KaTeXServer.build_command(socket=path), stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, cwd=rundir)
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while True:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(str(path))
            break
        except (FileNotFoundError, ConnectionRefusedError):
            sock.close()
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError(f"book_site: KaTeX's node server did not start within {STARTUP_TIMEOUT} s")
            time.sleep(0.01)
    server = KaTeXServer(rundir, process, sock)
    atexit.register(KaTeXServer.terminate, server)
    KaTeXServer.katex_server = server


def copy_katex_assets(app: Sphinx, exception: Exception | None) -> None:
    """Copy KaTeX's stylesheet and woff2 fonts from node_modules/katex into ``_static/katex/``."""
    if exception is not None or app.builder.format != "html":
        return
    import shutil

    from sphinxcontrib import katex

    package = Path(app.srcdir, "node_modules", "katex")
    manifest = package / "package.json"
    installed = json.loads(manifest.read_text())["version"] if manifest.is_file() else None
    if installed != katex.katex_version:
        raise RuntimeError(
            f"book_site: the pages were rendered with KaTeX {katex.katex_version} (sphinxcontrib-katex), "
            f"but node_modules/katex is {installed or 'not installed'}; pin katex {katex.katex_version} "
            "in package.json and run `npm ci`"
        )
    target = Path(app.outdir, "_static", "katex")
    (target / "fonts").mkdir(parents=True, exist_ok=True)
    shutil.copy2(package / "dist" / "katex.min.css", target / "katex.min.css")
    for font in (package / "dist" / "fonts").glob("*.woff2"):
        shutil.copy2(font, target / "fonts" / font.name)


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("config-inited", use_template_overrides)
    app.connect("config-inited", render_math_with_the_books_macros)
    app.connect("builder-inited", start_katex_server, priority=900)  # after sphinxcontrib-katex's set-up
    app.connect("build-finished", copy_katex_assets)
    app.add_css_file("book.css")
    app.connect("source-read", depend_on_gradlib)
    # priority 900: after myst-nb, the theme and sphinx.ext.mathjax (default 500) add theirs
    app.connect("html-page-context", drop_repeated_scripts, priority=900)
    # after sphinx-book-theme's add_header_buttons (501) built the download group
    app.connect("html-page-context", offer_myst_download, priority=900)
    app.connect("build-finished", subset_icon_fonts)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
