"""Process set-up for evaluation: first use of numba code under a machine-wide lock (numba's on-disk cache is not safe to write concurrently), and malloc thresholds."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from gascar import jit

fcntl = pytest.importorskip("fcntl")

CHILD = """
import sys
from pathlib import Path
from gascar.jit import first_use
print("waiting", flush=True)
with first_use("synth:x"):
    Path(sys.argv[1]).touch()
"""


def test_first_use_waits_while_another_process_holds_the_lock(tmp_path):
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    lock = tmp_path / f"gascar-numba-{os.getuid()}.lock"
    entered = tmp_path / "entered"
    with open(lock, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        child = subprocess.Popen([sys.executable, "-c", CHILD, str(entered)], env=env, stdout=subprocess.PIPE, text=True)
        assert child.stdout.readline().strip() == "waiting"
        time.sleep(0.5)  # time for the child to reach the lock: it must not get past it while we hold it
        assert child.poll() is None and not entered.exists()
        fcntl.flock(fh, fcntl.LOCK_UN)
    child.communicate(timeout=60)
    assert child.returncode == 0 and entered.exists()


class _CountingFlock:
    """Stands in for the fcntl module: counts flock calls."""

    LOCK_EX, LOCK_UN = fcntl.LOCK_EX, fcntl.LOCK_UN

    def __init__(self):
        self.calls = []

    def flock(self, fh, op):
        self.calls.append(op)


def test_later_uses_take_no_lock(tmp_path, monkeypatch):
    counting = _CountingFlock()
    monkeypatch.setattr(jit, "fcntl", counting)
    monkeypatch.setattr(jit, "lock_path", lambda: tmp_path / "held.lock")
    monkeypatch.setattr(jit, "_READY", set())
    with jit.first_use("a"):
        pass
    assert "a" in jit._READY and counting.calls == [fcntl.LOCK_EX, fcntl.LOCK_UN]
    with jit.first_use("a"):
        pass
    assert counting.calls == [fcntl.LOCK_EX, fcntl.LOCK_UN]  # the second use took no lock


def test_a_failed_first_use_is_retried_under_the_lock(tmp_path, monkeypatch):
    monkeypatch.setattr(jit, "lock_path", lambda: tmp_path / "l.lock")
    monkeypatch.setattr(jit, "_READY", set())
    with pytest.raises(RuntimeError):
        with jit.first_use("b"):
            raise RuntimeError("compile failed")
    assert "b" not in jit._READY


def test_keep_buffers_sets_glibc_thresholds_once():
    import platform

    from gascar import memory

    ok = memory.keep_buffers()
    if sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc":
        assert ok is True and memory.keep_buffers() is True
    assert memory.ENV["MALLOC_MMAP_THRESHOLD_"] == str(memory.MMAP_THRESHOLD)
