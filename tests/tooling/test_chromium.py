"""tests/chromium.py finds the browser in the documented order (make and the tests share it)."""
from __future__ import annotations

import stat

import chromium


def _fake(folder, name):
    path = folder / name
    path.write_text("#!/bin/sh\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return str(path)


def test_chromium_env_wins(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    _fake(tmp_path, "chromium")
    monkeypatch.setenv("CHROMIUM", "/opt/my/chrome")
    assert chromium.find() == "/opt/my/chrome"


def test_installed_browsers_before_playwrights_own(monkeypatch, tmp_path):
    monkeypatch.delenv("CHROMIUM", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(chromium, "_playwright_own", lambda: "/cache/ms-playwright/chrome")
    assert chromium.find() == "/cache/ms-playwright/chrome"
    expected = _fake(tmp_path, "google-chrome")
    assert chromium.find() == expected
    expected = _fake(tmp_path, "chromium-browser")
    assert chromium.find() == expected  # chromium-browser is looked for before Chrome
    expected = _fake(tmp_path, "chromium")
    assert chromium.find() == expected


def test_none_when_nothing_is_installed(monkeypatch, tmp_path):
    monkeypatch.delenv("CHROMIUM", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(chromium, "_MAC_APPS", ())
    monkeypatch.setattr(chromium, "_playwright_own", lambda: None)
    assert chromium.find() is None
