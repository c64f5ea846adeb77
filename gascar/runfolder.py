"""The run folder: the files a finished match leaves for reports and reruns, and how to read them back.

One matched target is a set of files sharing a base name ``<base>``::

    <base>.preset.json     best preset
    <base>.render.wav      its render
    <base>.target.wav      the target as the match analysed it (mono, resampled,
                           cut to the analysis window, silent tail trimmed)
    <base>.history.json    every generation, the summary, the options and their
                           fingerprint, the target's sha256 (format HISTORY_FORMAT)
    <base>.report.html     its page (gascar.report), figures in <base>.report/

A batch folder holds one such set per target, mirroring the folder of
targets, plus ``summary.json`` and ``summary.csv`` (format
SUMMARY_FORMAT: one row per target) and ``.checkpoints/`` for unfinished
targets. ``gascar batch`` writes these (:mod:`gascar.batch`),
``gascar match --report`` writes one set (:func:`gascar.report.write_match_report`),
and :mod:`gascar.report` reads them back to rebuild pages without
re-running anything.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import os
import warnings
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .errors import BatchError
from .fileio import json_ready, write_json, write_text

SUMMARY_FORMAT = "gascar-batch-summary"
HISTORY_FORMAT = "gascar-match-history"
FORMAT_VERSION = 1
#: Folder of a batch's output holding checkpoints and unfinished results.
CHECKPOINT_DIR = ".checkpoints"
HISTORY_SUFFIX = ".history.json"
PRESET_SUFFIX = ".preset.json"
RENDER_SUFFIX = ".render.wav"
TARGET_COPY_SUFFIX = ".target.wav"
PAGE_SUFFIX = ".report.html"
#: Columns of ``summary.csv`` before the fitness components.
SUMMARY_COLUMNS = ("target", "status", "synth", "verdict", "lsd_db", "fitness")
#: Columns of ``summary.csv`` after the fitness components.
SUMMARY_TAIL = ("evaluations", "seconds", "seed", "stop_reason", "f0_hz", "f0_confidence", "reused", "preset", "render", "report",
                "error")
#: Statuses of a summary row.
STATUSES = ("ok", "failed", "interrupted", "pending")


@dataclass(frozen=True)
class TargetFiles:
    """Where one target's results live inside a batch's output folder ``out_dir``."""

    out_dir: Path
    base: str

    def named(self, suffix: str, folder: Path | None = None) -> Path:
        """``<base><suffix>`` in ``folder`` (default: ``out_dir``)."""
        return (folder or self.out_dir) / (self.base + suffix)

    @property
    def preset(self) -> Path:
        return self.named(PRESET_SUFFIX)

    @property
    def render(self) -> Path:
        return self.named(RENDER_SUFFIX)

    @property
    def target_copy(self) -> Path:
        return self.named(TARGET_COPY_SUFFIX)

    @property
    def history(self) -> Path:
        return self.named(HISTORY_SUFFIX)

    @property
    def page(self) -> Path:
        return self.named(PAGE_SUFFIX)

    @property
    def staging(self) -> Path:
        """Folder where the match writes before its results are moved into place."""
        return self.out_dir / CHECKPOINT_DIR

    @property
    def checkpoint(self) -> Path:
        return self.named(".ckpt", self.staging)


def relative(path: str | os.PathLike, start: str | os.PathLike) -> str:
    """``path`` relative to the folder ``start``, with ``/`` separators."""
    return Path(os.path.relpath(path, start)).as_posix()


def index_href(base: str) -> str:
    """The relative link from the page of ``<base>`` to its batch's ``index.html``."""
    return "../" * base.count("/") + "index.html"


# -- one target ----------------------------------------------------------------------------------------------


def write_target_copy(src: str | os.PathLike, dest: str | os.PathLike, sample_rate: int, analysis=None) -> Path:
    """Write the target as the match analysed it (16-bit WAV at ``sample_rate``), so reports work offline.

    Parameters
    ----------
    src
        The target file; or an instrument's note files (a list), written one
        after another as its render is (:func:`gascar.instrument.sequence`).
    dest
        ``<base>.target.wav``.
    sample_rate : int
        The render's rate (the copy is resampled to it if the analysis ran at another).
    analysis : mapping, optional
        The match's analysis options (:func:`gascar.analysis.load_target`):
        its rate and window decide the samples.
    """
    from .analysis import analysed_samples
    from .audio import resample, write_audio

    with warnings.catch_warnings():  # the match's own analysis already said what it cut
        warnings.simplefilter("ignore")
        if isinstance(src, (list, tuple)):
            from .instrument import sequence

            read = [analysed_samples(p, **dict(analysis or {})) for p in src]
            sr = read[0][1]
            x = sequence([r[0] for r in read], sr)
        else:
            x, sr = analysed_samples(src, **dict(analysis or {}))
    if sr != int(sample_rate):
        x, sr = resample(x, sr, int(sample_rate)), int(sample_rate)
    x = np.asarray(x, dtype=np.float32).reshape(-1)
    peak = float(np.max(np.abs(x))) if x.size else 0.0
    if peak > 1.0:
        x = x * np.float32(0.999 / peak)
    return write_audio(dest, x, sr, subtype="PCM_16")


def write_history(path: str | os.PathLike, result, *, target_rel: str, target_path, target_sha256: str | None,
                  fingerprint: str = "", options=None, row: dict | None = None,
                  files: Iterable[str] = (), preset: str | None = None, render: str | None = None,
                  notes: Iterable[str] | None = None) -> Path:
    """Write what a report needs to be rebuilt later: the generations, the summary, the file names.

    Parameters
    ----------
    path
        ``<base>.history.json``; the preset, render and target copy are
        expected beside it as ``<base>.preset.json``, ``<base>.render.wav``
        and ``<base>.target.wav``.
    result : gascar.matching.MatchResult
    target_rel : str
        The target's name as shown in reports (its path relative to the batch root).
    target_path
        Where the target was read from.
    target_sha256, fingerprint, row, files
        Resume information and the target's summary row.
    options : gascar.matching.MatchOptions, optional
    preset, render : str, optional
        Paths of the preset and render relative to the history's folder,
        when they are not the default names; ``render=""`` for none.
    notes : iterable of str, optional
        An instrument's note files (its target copy and render hold them one after another).
    """
    stem = Path(path).name.removesuffix(HISTORY_SUFFIX)
    doc = {
        "format": HISTORY_FORMAT, "version": FORMAT_VERSION,
        "target": target_rel, "target_path": str(Path(target_path).resolve()), "target_sha256": target_sha256,
        "fingerprint": fingerprint, "options": json_ready(asdict(options)) if options is not None else None,
        **({"analysis_options": json_ready(options.analysis_options())} if options is not None else {}),
        "summary": json_ready({k: v for k, v in result.summary().items() if k not in ("files", "checkpoint")}),
        "preset": preset if preset is not None else stem + PRESET_SUFFIX,
        "render": render if render is not None else stem + RENDER_SUFFIX, "target_copy": stem + TARGET_COPY_SUFFIX,
        "row": json_ready(dict(row or {})), "files": list(files),
        "history": json_ready(list(result.history)),
        **({"notes": [str(Path(p).resolve()) for p in notes]} if notes else {}),
    }
    return write_json(path, doc)


def read_history(path: str | os.PathLike) -> dict:
    """A ``<base>.history.json`` document.

    Raises
    ------
    BatchError
        For a missing, unreadable or foreign file.
    """
    p = Path(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BatchError("no such history file; was the target matched?", path=p) from None
    except (OSError, ValueError) as exc:
        raise BatchError(f"unreadable history file ({exc})", path=p) from None
    if not isinstance(doc, dict) or doc.get("format") != HISTORY_FORMAT:
        raise BatchError("not a GASCAR history file", path=p)
    return doc


# -- the batch summary -----------------------------------------------------------------------------------------


def component_names(rows: Iterable[dict]) -> list[str]:
    """Fitness component names found in ``rows``, in order of first appearance."""
    names: list[str] = []
    for r in rows:
        for k in (r.get("components") or {}):
            if k not in names:
                names.append(k)
    return names


def write_summary(out_dir: Path, rows: list[dict], meta: dict) -> tuple[Path, Path]:
    """Write ``summary.json`` and ``summary.csv`` (atomically) for ``rows``."""
    counts = {s: sum(1 for r in rows if r["status"] == s) for s in STATUSES}
    counts["reused"] = sum(1 for r in rows if r["status"] == "ok" and r.get("reused"))
    doc = {"format": SUMMARY_FORMAT, "version": FORMAT_VERSION, **meta, "counts": counts, "targets": json_ready(rows)}
    js = write_json(out_dir / "summary.json", doc)
    comps = component_names(rows)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([*SUMMARY_COLUMNS, *comps, *SUMMARY_TAIL])
    for r in rows:
        c = r.get("components") or {}
        w.writerow([_cell(r.get(k)) for k in SUMMARY_COLUMNS] + [_cell(c.get(k)) for k in comps]
                   + [_cell(r.get(k)) for k in SUMMARY_TAIL])
    return js, write_text(out_dir / "summary.csv", buf.getvalue())


def read_summary(out_dir: str | os.PathLike) -> dict:
    """The ``summary.json`` of a batch folder.

    Raises
    ------
    BatchError
        If it is missing or not a batch summary.
    """
    p = Path(out_dir) / "summary.json"
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BatchError("no summary.json: not a batch output folder", path=Path(out_dir)) from None
    except (OSError, ValueError) as exc:
        raise BatchError(f"unreadable batch summary ({exc})", path=p) from None
    if not isinstance(doc, dict) or doc.get("format") != SUMMARY_FORMAT:
        raise BatchError("not a GASCAR batch summary", path=p)
    return doc


def _cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return "" if not math.isfinite(v) else repr(v)
    return str(v)


# -- the folder itself ---------------------------------------------------------------------------------------


def remove_parts(out: Path) -> None:
    """Remove temporary ``.<name>.<hash>.part`` files left by writers that were killed."""
    for p in out.rglob(".*.part"):
        with contextlib.suppress(OSError):
            p.unlink()


def prune_empty(folder: Path) -> None:
    """Remove empty folders under (and including) ``folder``."""
    if not folder.is_dir():
        return
    for d in sorted((p for p in folder.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        with contextlib.suppress(OSError):
            d.rmdir()
    with contextlib.suppress(OSError):
        folder.rmdir()


class FolderLock:
    """``out_dir/<name>``: one writer (a batch) at a time in a folder; a lock left by a dead process is taken over."""

    def __init__(self, out: Path, name: str):
        self.path = Path(out) / name
        self.held = False

    def __enter__(self) -> FolderLock:
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                pid = self._owner()
                if pid is not None and _alive(pid):
                    raise BatchError(f"another batch (process {pid}) is writing to this folder; wait for it or stop it",
                                     path=self.path.parent) from None
                with contextlib.suppress(OSError):
                    self.path.unlink()
                continue
            with os.fdopen(fd, "w") as fh:
                fh.write(str(os.getpid()))
            self.held = True
            return self
        raise BatchError("cannot lock the output folder", path=self.path.parent)

    def _owner(self) -> int | None:
        try:
            return int(self.path.read_text().strip())
        except (OSError, ValueError):
            return None

    def __exit__(self, *exc) -> None:
        if self.held:
            with contextlib.suppress(OSError):
                self.path.unlink()
            self.held = False


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
