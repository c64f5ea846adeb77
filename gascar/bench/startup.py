"""``gascar bench startup``: how long the light commands take from start to exit, and which modules they import.

``gascar --help`` and ``gascar synths`` should answer at once (goal: under
0.5 s on a 2-core machine). Each is started as a fresh process several
times (after a warm-up run, so byte-code and disk caches are warm) and the
median wall time is reported, with the heavy libraries (numba, scipy,
librosa, matplotlib) the command imported, from ``python -X importtime``.
A command module that imports one of them at start-up shows up here first.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

#: The commands measured (arguments of ``python -m gascar``).
COMMANDS = (("--help",), ("synths",), ("synths", "fm"))
#: Libraries a light command must not import (each costs 0.1 .. 1 s).
HEAVY = ("numba", "scipy", "librosa", "matplotlib", "sklearn", "soxr")
#: The goal for every command above (median wall seconds).
GOAL_S = 0.5


def heavy_imports(args: tuple[str, ...]) -> list[str]:
    """The :data:`HEAVY` libraries ``python -m gascar ARGS`` imports, from ``-X importtime``."""
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "gascar", *args], capture_output=True, text=True,
                          check=False)
    names = {line.split("|")[-1].strip().split(".")[0] for line in proc.stderr.splitlines() if line.startswith("import time:")}
    return sorted(set(HEAVY) & names)


def time_command(args: tuple[str, ...], repeats: int = 7) -> list[float]:
    """Wall seconds of ``repeats`` runs of ``python -m gascar ARGS`` (after one warm-up run)."""
    cmd = [sys.executable, "-m", "gascar", *args]
    subprocess.run(cmd, capture_output=True, check=False)
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=False)
        out.append(time.perf_counter() - t0)
    return out


def bench_startup(repeats: int = 7, commands=COMMANDS) -> list[dict]:
    """One record per command: median, min and max wall seconds and the heavy libraries imported."""
    rows = []
    for args in commands:
        secs = time_command(tuple(args), repeats)
        rows.append({"command": "gascar " + " ".join(args), "median_s": statistics.median(secs), "min_s": min(secs),
                     "max_s": max(secs), "runs": len(secs), "heavy": heavy_imports(tuple(args))})
    return rows


def format_table(rows: list[dict]) -> str:
    lines = ["| command | runs | wall s, median [min-max] | heavy libraries imported |", "|---|---:|---|---|"]
    for r in rows:
        lines.append(f"| `{r['command']}` | {r['runs']} | {r['median_s']:.3f} [{r['min_s']:.3f}-{r['max_s']:.3f}] | "
                     f"{', '.join(r['heavy']) or 'none'} |")
    lines += ["", f"Goal: every command under {GOAL_S:g} s (median), importing none of {', '.join(HEAVY)}."]
    return "\n".join(lines) + "\n"
