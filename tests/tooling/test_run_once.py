"""tests/run_once.py: under xdist, work asked for by several workers is done once and shared."""
from __future__ import annotations

import json
import subprocess
import sys
import threading
import uuid

import pytest

import run_once

ASK = """
import json, sys, time
sys.path.insert(0, {tests!r})
import run_once
run_once.FOLDER = __import__("pathlib").Path({folder!r})
def compute():
    with open({log!r}, "a") as log:
        log.write("computed\\n")
    time.sleep(0.5)
    return {{"value": [1, 2.5, "three"]}}
print(json.dumps(run_once.once_per_run("the-key", compute)))
"""


@pytest.fixture
def shared(tmp_path, monkeypatch):
    monkeypatch.setattr(run_once, "FOLDER", tmp_path / "once")
    monkeypatch.setenv("PYTEST_XDIST_TESTRUNUID", uuid.uuid4().hex)
    return tmp_path


def test_two_workers_asking_at_once_compute_once_and_get_the_same_value(shared, repo_root):
    log = shared / "computed.log"
    script = ASK.format(tests=str(repo_root / "tests"), folder=str(shared / "once"), log=str(log))
    workers = [subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True) for _ in range(2)]
    answers = [json.loads(worker.communicate(timeout=60)[0]) for worker in workers]
    assert answers == [{"value": [1, 2.5, "three"]}] * 2
    assert log.read_text() == "computed\n"


def test_a_busy_key_answers_busy_without_waiting_and_a_new_run_computes_again(shared, monkeypatch):
    started, release = threading.Event(), threading.Event()

    def slow() -> str:
        started.set()
        release.wait(10)
        return "first"

    holder = threading.Thread(target=run_once.once_per_run, args=("key", slow))
    holder.start()
    started.wait(10)
    assert run_once.once_per_run("key", lambda: "second", block=False) is run_once.BUSY
    assert not run_once.ready("key")
    release.set()
    holder.join()
    assert run_once.ready("key")
    assert run_once.once_per_run("key", lambda: "second") == "first"
    monkeypatch.setenv("PYTEST_XDIST_TESTRUNUID", uuid.uuid4().hex)  # the next `make test`
    assert run_once.once_per_run("key", lambda: "second") == "second"


def test_without_xdist_it_is_a_plain_call(monkeypatch):
    monkeypatch.delenv("PYTEST_XDIST_TESTRUNUID", raising=False)
    calls = []
    assert [run_once.once_per_run("k", lambda: calls.append(1) or len(calls)) for _ in range(2)] == [1, 2]
    assert not run_once.ready("k")


def test_a_worker_whose_key_is_busy_computes_the_spares_nobody_started_then_waits(shared):
    started, release = threading.Event(), threading.Event()
    computed = []

    def slow() -> str:
        started.set()
        release.wait(10)
        return "a by the other worker"

    def spare(key: str):
        def compute() -> str:
            computed.append(key)
            if key == "c":
                release.set()  # the other worker finishes while this one works on the last spare
            return f"{key} by this worker"
        return key, compute

    holder = threading.Thread(target=run_once.once_per_run, args=("a", slow))
    holder.start()
    started.wait(10)
    run_once.once_per_run("b", lambda: "b before")  # done already: not computed again
    spares = [spare("a"), spare("b"), spare("c")]
    assert run_once.once_per_run_helping("a", lambda: "a by this worker", spares) == "a by the other worker"
    holder.join()
    assert computed == ["c"]
    assert run_once.once_per_run("c", lambda: "again") == "c by this worker"
