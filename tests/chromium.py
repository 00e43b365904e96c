"""Which Chromium the browser tests drive: found the same way by ``make`` and by the tests.

The order: ``$CHROMIUM`` if set; a Chromium or Chrome already installed (on the PATH as
``chromium``, ``chromium-browser``, ``google-chrome``..., or in macOS's Applications folder);
playwright's own download. ``python tests/chromium.py --install`` (what ``make test`` runs)
prints the one it finds, or installs one first: Debian's ``chromium`` package where ``apt-get``
is there and we are root, else playwright's (``python -m playwright install chromium``, which
needs its download host).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

#: How every test and benchmark starts it (headless, and quiet on a closed network).
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run"]
_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
_MAC_APPS = ("/Applications/Chromium.app/Contents/MacOS/Chromium",
             "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome")


def _playwright_own() -> str | None:
    """The browser ``playwright install chromium`` put in playwright's cache, if it is there."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    with sync_playwright() as playwright:
        path = playwright.chromium.executable_path
    return path if path and Path(path).is_file() else None


def find() -> str | None:
    """The path of the Chromium to drive, or None if there is none on this machine."""
    if os.environ.get("CHROMIUM"):
        return os.environ["CHROMIUM"]
    for name in _NAMES:
        if path := shutil.which(name):
            return path
    for path in _MAC_APPS:
        if Path(path).is_file():
            return path
    return _playwright_own()


def install() -> str:
    """``find()``, after installing a browser if there is none (see the module docstring)."""
    if path := find():
        return path
    if shutil.which("apt-get") and hasattr(os, "geteuid") and os.geteuid() == 0:
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], check=True)
    else:
        subprocess.run([sys.executable, "-m", "playwright", "install", "chromium"], check=True)
    if path := find():
        return path
    raise SystemExit("no Chromium found or installed: install Chromium or Chrome, or set CHROMIUM=/path/to/it")


if __name__ == "__main__":
    print(install() if "--install" in sys.argv[1:] else find() or "none")
