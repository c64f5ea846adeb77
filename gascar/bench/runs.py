"""The benchmarks' runs files: one JSON line per finished run, so an interrupted benchmark resumes where it stopped."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import numpy as np


def load_runs(path: Path) -> dict[str, dict]:
    """Finished runs from a ``runs.jsonl`` (a torn last line is ignored)."""
    runs = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue
            runs[rec["key"]] = rec
    return runs


def record_runs(runs_path: Path, done: dict[str, dict], records: Iterable[dict], *, total: int, pending: int,
                desc: str, unit: str, progress: bool = True) -> None:
    """Append each record to ``runs_path`` as it arrives (one JSON line, flushed) and into ``done`` by its ``key``.

    ``records`` is usually a generator of the ``pending`` runs still to make
    out of a plan of ``total``, so an interrupted benchmark keeps every run
    finished before the interruption (:func:`load_runs` reads them back). A
    progress bar (``desc``, ``unit``; off without ``progress``) starts at the
    runs already done and advances by one per record.
    """
    from tqdm import tqdm

    with tqdm(total=total, initial=total - pending, desc=desc, unit=unit, disable=not progress) as bar, \
            open(runs_path, "a", encoding="utf-8") as fh:
        for rec in records:
            fh.write(json.dumps(rec) + "\n")
            fh.flush()
            done[rec["key"]] = rec
            bar.update(1)




def quartiles(values: list[float]) -> tuple[float, float, float]:
    """Median, 25th and 75th percentile of ``values``."""
    a = np.asarray(values, dtype=float)
    return float(np.median(a)), float(np.percentile(a, 25)), float(np.percentile(a, 75))


