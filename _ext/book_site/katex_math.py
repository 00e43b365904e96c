"""Works around sphinxcontrib-katex 0.9 prerendering without the book's macros, racing its own
node server, and taking KaTeX's stylesheet and fonts from a CDN.

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
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx


def katex_macros(config: Any) -> dict[str, str]:
    """The macros of ``mathjax3_config`` as KaTeX takes them (``#1`` marks the arguments)."""
    macros = config.mathjax3_config.get("tex", {}).get("macros", {})
    return {f"\\{name}": body if isinstance(body, str) else body[0] for name, body in macros.items()}


def render_math_with_the_books_macros(app: Sphinx, config: Any) -> None:
    """Give sphinxcontrib-katex's build-time KaTeX the book's macros.

    Why a module global is patched: with ``katex_prerender`` the extension renders each formula
    with ``render_latex(latex)`` (display math: ``{"displayMode": True}``), which merges only
    its module-level ``KATEX_DEFAULT_OPTIONS`` into the request to node. Its ``katex_options``
    setting is a JavaScript snippet for the in-browser renderer and never reaches prerendering,
    so the global is the one place the macros can go."""
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
        except (FileNotFoundError, ConnectionRefusedError) as err:
            sock.close()
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError(f"book_site: KaTeX's node server did not start within {STARTUP_TIMEOUT} s") from err
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
