"""Work done once per test run, however many pytest-xdist workers ask for it (`make test` runs two).

:func:`once_per_run` runs ``compute()`` in the first process that asks and hands its JSON result to
the others: the book build, emptying the screenshot folder, and each page visit of the site tests
(tests/site/conftest.py), so a page is loaded once whichever worker's test needs it first.
:func:`once_per_run_helping` is the same for work of which every worker wants all the parts (each
page of the book): a worker whose part another one is computing computes one nobody has started.
"""
from __future__ import annotations

import fcntl
import json
import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from booksite import ROOT

#: Where the results wait for the other workers: one ``<key>.json`` (tagged with the run) and lock each.
FOLDER = ROOT / "_build" / ".once"

#: What :func:`once_per_run` returns with ``block=False`` while another worker computes the value.
BUSY = object()


def _paths(key: str) -> tuple[Path, Path]:
    name = re.sub(r"[^\w.-]+", "_", key)
    return FOLDER / f"{name}.json", FOLDER / f"{name}.lock"


def _saved(path: Path, run: str) -> tuple[bool, Any]:
    if path.is_file() and (done := json.loads(path.read_text()))["run"] == run:
        return True, done["value"]
    return False, None


def ready(key: str) -> bool:
    """Whether ``key``'s value is there to read (always False without xdist: nothing is shared)."""
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    return run is not None and _saved(_paths(key)[0], run)[0]


def once_per_run(key: str, compute: Callable[[], Any], *, block: bool = True, run: str | None = None) -> Any:
    """``compute()``, run once per test run: by this process, or under xdist by the first worker to
    ask, whose result (JSON: lists, dicts, strings, numbers) the others wait for and read back; with
    ``block=False`` they get :data:`BUSY` instead of waiting. Without xdist it is ``compute()``
    (callers keep their own in-process caches). ``run``: the run's id, for the xdist controller,
    which has no ``PYTEST_XDIST_TESTRUNUID``."""
    run = run or os.environ.get("PYTEST_XDIST_TESTRUNUID")
    if run is None:
        return compute()
    saved, lock_path = _paths(key)
    FOLDER.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "w") as lock:  # the lock is released when the file closes
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | (0 if block else fcntl.LOCK_NB))
        except BlockingIOError:
            return BUSY
        found, value = _saved(saved, run)
        if found:
            return value
        value = compute()
        written = saved.with_suffix(".part")
        written.write_text(json.dumps({"run": run, "value": value}))
        written.replace(saved)  # atomic: ready() never reads half a file
        return value


def once_per_run_helping(key: str, compute: Callable[[], Any], spares: Sequence[tuple[str, Callable[[], Any]]]) -> Any:
    """:func:`once_per_run` of ``key``; while another worker computes it, this one computes one of the
    ``spares`` ((key, compute) pairs; the caller wants them too) that no worker has started, then asks
    again, and waits only when there is none left."""
    while (value := once_per_run(key, compute, block=False)) is BUSY:
        if not any(not ready(spare) and once_per_run(spare, work, block=False) is not BUSY
                   for spare, work in spares):
            return once_per_run(key, compute)
    return value
