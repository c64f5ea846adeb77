"""Benchmarks: render speed, evaluation throughput, batch throughput and match quality per budget."""

from __future__ import annotations

import contextlib
import datetime as _dt
import os
import platform
import warnings
from pathlib import Path

from .. import __version__


def machine_info() -> str:
    """One markdown line naming the machine, the software and the date."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import numpy

    now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return (f"Measured {now} on {cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"numpy {numpy.__version__}, GASCAR {__version__}.")


@contextlib.contextmanager
def quiet():
    """Silence warnings (librosa's and cma's notes) inside a run, leaving the caller's filters as they were.

    A context manager, and a decorator (``@quiet()``) for a whole run function.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def report_text(title: str, table: str) -> str:
    """A benchmark's markdown report: its title, the machine line, then its table."""
    return f"## {title}\n\n{machine_info()}\n\n{table}"
