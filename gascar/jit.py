"""First use of numba-compiled code, one process at a time.

GASCAR's DSP kernels and librosa's pYIN are numba functions cached on disk
(``cache=True``). numba writes that cache without a lock: two processes
compiling the same function at once can leave a mismatched pair of cache
files (for a gufunc, ``guf-*.nbc`` from one process and ``*.nbc`` from the
other), and every later process that loads them crashes with a segmentation
fault (numba issue 10128). Worker pools (``--jobs``, batches, the benchmark,
Dask workers on one machine) start many processes at once, so each process
makes its first call of a compiled function under an exclusive file lock:
one process compiles and writes the cache, the others then load it. After
the first call the lock is never taken again.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: no flock; numba's cache race is rare there and left alone
    fcntl = None

#: Names of the code already used (compiled or loaded) in this process.
_READY: set[str] = set()


def lock_path() -> Path:
    """The lock file: one per user, in the system's temporary folder."""
    uid = os.getuid() if hasattr(os, "getuid") else 0
    return Path(tempfile.gettempdir()) / f"gascar-numba-{uid}.lock"


@contextmanager
def first_use(name: str) -> Iterator[None]:
    """Hold the machine-wide compile lock around the first use of ``name`` in this process.

    Parameters
    ----------
    name
        What is about to run (a synth's name, ``"pyin"`` ...); the lock is
        taken only the first time this process runs it.
    """
    if name in _READY or fcntl is None:
        yield
        return
    try:
        fh = open(lock_path(), "a")  # noqa: SIM115 (held across the yield)
    except OSError:  # an unwritable temporary folder must not stop a match
        yield
        _READY.add(name)
        return
    try:
        fcntl.flock(fh, fcntl.LOCK_EX)
        yield
        _READY.add(name)
    finally:
        fcntl.flock(fh, fcntl.LOCK_UN)
        fh.close()
