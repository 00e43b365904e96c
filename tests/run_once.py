"""Work done once per test run, however many pytest-xdist workers ask for it (`make test` runs two).

:func:`once_per_run` runs ``compute()`` in the first process that asks and hands its JSON result to
the others: the book build, emptying the screenshot folder, and each page visit of the site tests
(tests/site/conftest.py), so a page is loaded once whichever worker's test needs it first.
"""
from __future__ import annotations

import fcntl
import json
import os
import re
from collections.abc import Callable
from typing import Any

from booksite import ROOT

#: Where the results wait for the other workers: one ``<key>.json`` (tagged with the run) and lock each.
FOLDER = ROOT / "_build" / ".once"


def once_per_run(key: str, compute: Callable[[], Any]) -> Any:
    """``compute()``, run once per test run: by this process, or under xdist by the first worker to
    ask, whose result (JSON: lists, dicts, strings, numbers) the others wait for and read back.
    Without xdist it is simply ``compute()``; callers keep their own in-process caches."""
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    if run is None:
        return compute()
    FOLDER.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^\w.-]+", "_", key)
    saved = FOLDER / f"{name}.json"
    with open(FOLDER / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if saved.is_file() and (done := json.loads(saved.read_text()))["run"] == run:
            return done["value"]
        value = compute()
        saved.write_text(json.dumps({"run": run, "value": value}))
        return value
