"""Reporters: everything a run prints or logs, kept out of the algorithm.

The engine calls ``start(info)``, ``generation(record)`` and ``end(summary)``
on a reporter; :class:`ProgressBar` draws a tqdm bar on stderr,
:class:`JsonLinesLog` writes one JSON object per generation, and
:class:`Reporters` fans out to several.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time

from ..fileio import json_ready


class Reporter:
    """Base reporter: does nothing."""

    def start(self, info: dict) -> None:
        """A run (or a stage of one) starts. ``info``: budget, synth, population ..."""

    def generation(self, record: dict) -> None:
        """A generation ended; ``record`` as in :meth:`Evolution.step`."""

    def end(self, summary: dict) -> None:
        """The run ended."""

    def close(self) -> None:
        """Release files and terminals."""


class Reporters(Reporter):
    """Several reporters as one."""

    def __init__(self, *reporters: Reporter):
        self.reporters = [r for r in reporters if r is not None]

    def start(self, info: dict) -> None:
        for r in self.reporters:
            r.start(info)

    def generation(self, record: dict) -> None:
        for r in self.reporters:
            r.generation(record)

    def end(self, summary: dict) -> None:
        for r in self.reporters:
            r.end(summary)

    def close(self) -> None:
        for r in self.reporters:
            r.close()


def _fmt(x: float) -> str:
    return "inf" if not math.isfinite(x) else f"{x:.4g}"


class ProgressBar(Reporter):
    """A tqdm progress bar over evaluations, on stderr.

    The label names the synth and, with several synths, the halving round
    ("fm, round 2 of 3"); the counts are evaluations out of the budget; the
    suffix shows that synth's generation, best fitness and its components,
    species count, the GA's start after a restart. Elapsed time and ETA.
    """

    def __init__(self, file=None):
        self.file = file if file is not None else sys.stderr
        self.bar = None
        self.total = None
        self.offset = 0
        self.rounds = 1

    def start(self, info: dict) -> None:
        from tqdm import tqdm

        if self.bar is None:
            self.total = int(info.get("budget") or 0) or None
            self.bar = tqdm(total=self.total, file=self.file, unit="eval", dynamic_ncols=True, leave=True, smoothing=0.1,
                            desc="match", mininterval=0.2)
        if info.get("rounds"):
            self.rounds = int(info["rounds"])
        label = info.get("stage")
        if label:  # a new stage: its synth's numbers come with its first generation
            self.bar.set_description_str(str(label), refresh=False)
            self.bar.set_postfix_str("", refresh=False)
            self.bar.refresh()

    def generation(self, record: dict) -> None:
        if self.bar is None:
            return
        done = int(record.get("total_evaluations", record.get("evaluations", 0)))
        self.bar.update(max(0, done - self.bar.n))
        parts = [f"gen {record.get('generation', 0)}", f"best {_fmt(record.get('best', math.inf))}"]
        comps = record.get("components") or {}
        if comps:
            parts.append(" ".join(f"{k}={_fmt(v)}" for k, v in list(comps.items())[:4]))
        parts.append(f"species {record.get('species', 1)}")
        if record.get("start"):
            parts.append(f"start {record['start'] + 1}")  # after a restart: which fresh start this is
        key = record.get("key")
        if key and self.rounds > 1:  # the label names this record's synth, so label and numbers agree
            self.bar.set_description_str(f"{key}, round {int(record.get('round', 0)) + 1} of {self.rounds}", refresh=False)
        elif key:
            self.bar.set_description_str(str(key), refresh=False)
        self.bar.set_postfix_str(" | ".join(parts), refresh=False)

    def end(self, summary: dict) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def close(self) -> None:
        self.end({})


class JsonLinesLog(Reporter):
    """One JSON object per generation (and one for the start and the end) in a file."""

    def __init__(self, path: str | os.PathLike):
        self.path = os.fspath(path)
        os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        self.fh = open(self.path, "a", encoding="utf-8")

    def _write(self, obj: dict) -> None:
        if self.fh is None:
            return
        self.fh.write(json.dumps(json_ready(obj), allow_nan=False) + "\n")
        self.fh.flush()

    def start(self, info: dict) -> None:
        self._write({"event": "start", "time": time.time(), **info})

    def generation(self, record: dict) -> None:
        self._write({"event": "generation", **record})

    def end(self, summary: dict) -> None:
        self._write({"event": "end", **summary})

    def close(self) -> None:
        if self.fh is not None:
            self.fh.close()
            self.fh = None
