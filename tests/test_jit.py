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
import time
from gascar.jit import first_use
t = time.perf_counter()
with first_use("synth:x"):
    pass
print(time.perf_counter() - t)
"""


def test_first_use_waits_while_another_process_holds_the_lock(tmp_path):
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    lock = tmp_path / f"gascar-numba-{os.getuid()}.lock"
    with open(lock, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        child = subprocess.Popen([sys.executable, "-c", CHILD], env=env, stdout=subprocess.PIPE, text=True)
        time.sleep(1.0)
        fcntl.flock(fh, fcntl.LOCK_UN)
    out, _ = child.communicate(timeout=60)
    assert child.returncode == 0
    assert float(out) >= 0.8  # it waited for the lock


def test_later_uses_take_no_lock(tmp_path, monkeypatch):
    monkeypatch.setattr(jit, "lock_path", lambda: tmp_path / "held.lock")
    monkeypatch.setattr(jit, "_READY", set())
    with jit.first_use("a"):
        pass
    assert "a" in jit._READY
    with open(tmp_path / "held.lock", "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)  # another holder: a first use would block here
        t = time.perf_counter()
        with jit.first_use("a"):
            pass
        assert time.perf_counter() - t < 0.5
        fcntl.flock(fh, fcntl.LOCK_UN)


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
