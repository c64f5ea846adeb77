"""Batch matching of a folder: discovery, one job per target, resume, summaries, parallel and Dask runs.

:func:`run_batch` finds every audio file under a folder (recursively),
matches each with the same :class:`~gascar.matching.MatchOptions` as
``gascar match`` and writes, mirroring the folder tree under ``out_dir``::

    <base>.preset.json     best preset (its match block names the target and its sha256)
    <base>.render.wav      its render
    <base>.target.wav      the target as analysed (mono, trimmed, resampled), for reports
    <base>.history.json    every generation, the options fingerprint; written last,
                           so it marks the target as complete
    summary.csv, summary.json
                           one row per target: synth, fitness and its components,
                           evaluations, seconds, status and error

``<base>`` is the target's path relative to the batch root without its
extension (with it, when two files of a folder share a stem). These files
and their formats belong to :mod:`gascar.runfolder`, which the reports
read them back with.

Resuming
    A target is complete when its history file, preset and render exist and
    the history's fingerprint (of the match options, the target's seed and
    ``top``) and target sha256 equal the current ones; a rerun skips it.
    An interrupted target continues from ``out_dir/.checkpoints/<base>.ckpt``
    (written every few generations); its results first go to that folder
    and are moved into place only once the match is over, so Ctrl-C never
    leaves an unfinished preset where a finished one belongs.

Seeds
    Each target's seed comes from the batch seed and the target's relative
    path only, so results do not depend on the order, the worker or the
    number of workers. An unseeded batch draws a seed and keeps it in
    ``summary.json``; reruns reuse it.

Parallelism
    One target per worker (joblib's loky backend, or its Dask backend on an
    existing ``distributed`` cluster with ``scheduler``); evaluations inside
    a target run serially. On a cluster every worker must see the targets
    and ``out_dir`` at the same paths (a shared filesystem).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from . import validate
from .audio import AUDIO_EXTENSIONS, file_sha256
from .errors import BatchError, GascarError
from .evolve.interrupt import TermAsInterrupt
from .fileio import json_ready
from .matching import CHECKPOINT_EVERY, MatchOptions
from .outputs import MAX_TOP, MatchOutputs
from .runfolder import (
    CHECKPOINT_DIR,
    FORMAT_VERSION,
    HISTORY_FORMAT,
    PRESET_SUFFIX,
    RENDER_SUFFIX,
    FolderLock,
    TargetFiles,
    index_href,
    prune_empty,
    read_summary,
    relative,
    remove_parts,
    write_history,
    write_summary,
    write_target_copy,
)

LOCK_NAME = ".gascar-batch.lock"
#: Shortest interval (s) between two summary writes while a batch runs.
SUMMARY_INTERVAL_S = 1.0
#: Seconds to wait for a Dask scheduler to answer.
CONNECT_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class BatchOptions:
    """Everything a batch needs besides its folders.

    Attributes
    ----------
    match : MatchOptions
        Options of every target's match; ``match.seed`` is the batch seed
        (each target's seed is derived from it and the target's path).
    top : int
        Presets (and renders) per target, from different species.
    n_jobs : int or None
        Targets matched at once (None: all cores); ignored with ``scheduler``.
    scheduler : str or None
        Address of a Dask ``distributed`` scheduler (``tcp://host:8786``),
        or a ``distributed.Client`` (tests).
    report : bool
        Write an HTML report per target and ``index.html``.
    progress : bool
        Draw a progress bar over targets on stderr.
    checkpoint_every : int
        Generations between two checkpoint writes of a target.
    instruments : bool
        Each folder directly under the root is one instrument (its sound
        files the notes of one instrument match, as ``gascar match --notes``);
        loose files are ignored.
    """

    match: MatchOptions = field(default_factory=MatchOptions)
    top: int = 1
    n_jobs: int | None = None
    scheduler: object = None
    report: bool = False
    progress: bool = False
    checkpoint_every: int = CHECKPOINT_EVERY
    instruments: bool = False

    def __post_init__(self) -> None:
        validate.whole(self.top, "top", low=1, high=MAX_TOP, error=BatchError, what=f"between 1 and {MAX_TOP}")
        validate.whole(self.n_jobs, "n_jobs", error=BatchError, optional=True)
        if isinstance(self.scheduler, str) and "://" not in self.scheduler:
            raise BatchError(f"scheduler must be an address like tcp://host:8786, got {self.scheduler!r}")


@dataclass(frozen=True)
class BatchItem:
    """One target of a batch.

    Attributes
    ----------
    path : Path
        Absolute path of the target file (of an instrument's folder, in a
        batch of instruments).
    rel : str
        Its path relative to the batch root, with ``/`` separators.
    base : str
        Output name relative to ``out_dir`` without suffix (``sub/kick``).
    """

    path: Path
    rel: str
    base: str


@dataclass(frozen=True)
class TargetJob:
    """One target's match, as sent to a worker (plain, picklable data)."""

    item: BatchItem
    out_dir: Path
    options: MatchOptions
    top: int
    fingerprint: str
    report: bool
    checkpoint_every: int


@dataclass
class BatchResult:
    """What a batch did.

    Attributes
    ----------
    rows : list of dict
        One summary row per target, in discovery order.
    ignored : int
        Files under the root that are not audio (by extension) or hidden.
    seed : int
        The batch seed (pass it back to repeat the batch).
    interrupted : int or None
        The signal that stopped the batch early, if any.
    summary_json, summary_csv, index : Path or None
    """

    rows: list
    ignored: int
    seed: int
    interrupted: int | None = None
    summary_json: Path | None = None
    summary_csv: Path | None = None
    index: Path | None = None

    def count(self, status: str) -> int:
        return sum(1 for r in self.rows if r["status"] == status)

    @property
    def failed(self) -> list[dict]:
        return [r for r in self.rows if r["status"] == "failed"]

    @property
    def reused(self) -> int:
        return sum(1 for r in self.rows if r["status"] == "ok" and r.get("reused"))

    @property
    def exit_code(self) -> int:
        """0 when every target succeeded, 1 when some failed, 128 + signal when interrupted."""
        if self.interrupted is not None:
            return 128 + int(self.interrupted)
        return 1 if self.failed else 0


# -- discovery -------------------------------------------------------------------------------------


def discover(root: str | os.PathLike, *, exclude: Iterable[str | os.PathLike] = ()) -> tuple[list[BatchItem], list[Path]]:
    """Audio files under ``root``, recursively, in a stable order.

    Hidden files (names starting with ``.``, such as macOS ``._name.wav``
    resource forks) count as ignored; hidden folders, symbolic links to
    folders and everything under ``exclude`` (the output folder) are not
    entered.

    Parameters
    ----------
    root
        The folder to search.
    exclude
        Folders not to enter.

    Returns
    -------
    items : list of BatchItem
        Audio files by extension (:data:`gascar.audio.AUDIO_EXTENSIONS`),
        sorted by relative path.
    ignored : list of Path
        Other files (not audio, or hidden).
    """
    root = Path(root).resolve()
    if not root.is_dir():
        raise BatchError("not a folder; give a folder of sound files", path=root)
    skip = {Path(p).resolve() for p in exclude}
    found: list[tuple[str, Path]] = []
    ignored: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and (here / d).resolve() not in skip)
        for name in sorted(filenames):
            p = here / name
            if name.startswith(".") or p.suffix.lower() not in AUDIO_EXTENSIONS:
                ignored.append(p)
            else:
                found.append((p.relative_to(root).as_posix(), p))
    found.sort()
    stems: dict[str, int] = {}
    for rel, _ in found:
        key = rel[: -len(Path(rel).suffix)]
        stems[key] = stems.get(key, 0) + 1
    items = []
    for rel, p in found:
        key = rel[: -len(Path(rel).suffix)]
        items.append(BatchItem(path=p, rel=rel, base=key if stems[key] == 1 else rel))
    return items, ignored


def discover_instruments(root: str | os.PathLike, *, exclude: Iterable[str | os.PathLike] = ()
                         ) -> tuple[list[BatchItem], list[Path]]:
    """The instruments under ``root``: one per folder directly inside it, in name order.

    Each folder's sound files are the notes of one instrument match (a
    folder with fewer than two is a failed target, which says so). Hidden
    folders and ``exclude`` are left out.

    Returns
    -------
    items : list of BatchItem
        One per folder; ``rel`` and ``base`` are the folder's name.
    ignored : list of Path
        Files directly under ``root`` (not in an instrument's folder).
    """
    root = Path(root).resolve()
    if not root.is_dir():
        raise BatchError("not a folder; give a folder with one folder of notes per instrument", path=root)
    skip = {Path(p).resolve() for p in exclude}
    items, ignored = [], []
    for p in sorted(root.iterdir()):
        if p.name.startswith(".") or p.resolve() in skip:
            continue
        if p.is_dir():
            items.append(BatchItem(path=p, rel=p.name, base=p.name))
        else:
            ignored.append(p)
    return items, ignored


def target_sha256(item: BatchItem) -> str:
    """The digest a target's preset names it by: its file's, or an instrument's (every note and velocity)."""
    if item.path.is_dir():
        from .instrument import files_sha256

        return files_sha256(_note_files(item))
    return file_sha256(item.path)


def _note_files(item: BatchItem) -> list:
    from .instrument import discover_notes, note_files

    return note_files(discover_notes(item.path))


def target_seed(batch_seed: int, rel: str) -> int:
    """A target's seed: depends only on the batch seed and its relative path.

    Returns
    -------
    int
        Within [0, 2**63): give it to ``gascar match --seed`` to repeat the target alone.
    """
    ss = np.random.SeedSequence(int(batch_seed), spawn_key=(zlib.crc32(rel.encode("utf-8")),))
    return int(ss.generate_state(1, np.uint64)[0] >> np.uint64(1))


def fingerprint(options: MatchOptions, top: int) -> str:
    """Hex digest of everything that decides a target's results (its options with its seed, and ``top``).

    Options added to :class:`MatchOptions` since the first batch format count
    only when set (:meth:`MatchOptions.fingerprint_fields`): adding one
    keeps every earlier batch folder's targets finished.
    """
    doc = {"options": json_ready(options.fingerprint_fields()), "top": int(top), "format": FORMAT_VERSION}
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode("utf-8")).hexdigest()[:32]


# -- one target ----------------------------------------------------------------------------------------


def completed_row(job: TargetJob, sha256: str) -> dict | None:
    """The summary row of a target finished earlier with the same options and file, else None."""
    files = TargetFiles(job.out_dir, job.item.base)
    try:
        doc = json.loads(files.history.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or doc.get("format") != HISTORY_FORMAT:
        return None
    if doc.get("fingerprint") != job.fingerprint or doc.get("target_sha256") != sha256:
        return None
    if not (files.preset.is_file() and files.render.is_file()):
        return None
    try:
        from .preset import Preset

        preset = Preset.load(files.preset)
    except GascarError:
        return None
    if (preset.match or {}).get("target_sha256") != sha256:
        return None
    row = dict(doc.get("row") or {})
    if not row:
        return None
    row.update(status="ok", reused=True, error="")
    row["report"] = relative(files.page, job.out_dir) if files.page.is_file() else ""
    return row


def run_target(job: TargetJob) -> dict:
    """Match one target and put its results in place; never raises for a bad target.

    Runs in a worker (or in the calling process). Continues from the
    target's checkpoint when one exists for the same options and file.

    Returns
    -------
    dict
        The target's summary row; ``status`` is ``"ok"``, ``"failed"``
        (``error`` says why) or ``"interrupted"`` (its checkpoint was saved).
    """
    t0 = time.monotonic()
    row = _blank_row(job.item.rel, job.options.seed)
    try:
        return _run_target(job, row, t0)
    except GascarError as exc:
        row.update(status="failed", error=_one_line(str(exc.message)), seconds=round(time.monotonic() - t0, 3))
    except MemoryError:
        row.update(status="failed", error="out of memory", seconds=round(time.monotonic() - t0, 3))
    except Exception as exc:  # noqa: BLE001 - one broken target must not end the batch
        row.update(status="failed", error=_one_line(f"internal error: {type(exc).__name__}: {exc}"),
                   seconds=round(time.monotonic() - t0, 3))
    return row


def _run_target(job: TargetJob, row: dict, t0: float) -> dict:
    from .evolve import load_checkpoint
    from .matching import match

    files = TargetFiles(job.out_dir, job.item.base)
    sha = target_sha256(job.item)
    notes = [f.path for f in _note_files(job.item)] if job.item.path.is_dir() else None
    resume = None
    ck = files.checkpoint
    if ck.is_file():
        try:
            state = load_checkpoint(ck, "match")
            if state["options"] == job.options and state["target_sha256"] == sha:
                resume = ck
        except (GascarError, KeyError, TypeError):
            pass
        if resume is None:
            with contextlib.suppress(OSError):
                ck.unlink()
    staged = MatchOutputs(preset=files.named(PRESET_SUFFIX, files.staging), render=files.named(RENDER_SUFFIX, files.staging),
                          top=job.top, checkpoint=ck)
    if resume is not None:
        result = match(resume=resume, outputs=staged, n_jobs=1, checkpoint_every=job.checkpoint_every)
    else:
        result = match(notes or job.item.path, options=job.options, outputs=staged, n_jobs=1,
                       checkpoint_every=job.checkpoint_every)
    row.update(
        synth=result.synth, fitness=float(result.fitness), components=dict(result.components),
        lsd_db=result.lsd_db, verdict=result.verdict,
        evaluations=int(result.evaluations), seconds=round(time.monotonic() - t0, 3), stop_reason=result.stop_reason,
        seed=int(result.seed), resumed=resume is not None,
        # The pitch the match used (empty: unpitched) and pYIN's confidence: low ones are worth a --note.
        f0_hz=result.analysis.get("f0_hz"), f0_confidence=result.analysis.get("f0_confidence"),
    )
    if notes:  # an instrument: how close each note is (summary.json)
        row["notes"] = json_ready((result.preset.match or {}).get("notes") or [])
    if result.interrupted is not None:
        row.update(status="interrupted", error=f"interrupted by signal {result.interrupted}; a rerun resumes it",
                   signal=int(result.interrupted))
        return row
    # Moving the finished results into place: renames, so each file is whole or absent.
    moved = []
    for p in result.files:
        dest = job.out_dir / Path(p).relative_to(files.staging)
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(p, dest)
        moved.append(dest)
    write_target_copy(notes or job.item.path, files.target_copy, result.preset.render.sample_rate,
                      job.options.analysis_options())
    row.update(preset=relative(files.preset, job.out_dir), render=relative(files.render, job.out_dir), status="ok")
    write_history(files.history, result, target_rel=job.item.rel, target_path=notes[0] if notes else job.item.path,
                  target_sha256=sha, fingerprint=job.fingerprint, options=job.options, row=row,
                  files=[relative(p, files.history.parent) for p in moved], notes=notes)
    with contextlib.suppress(OSError):
        ck.unlink()
    if job.report:
        from .report import write_target_report

        try:
            write_target_report(job.out_dir, job.item.base, index_href=index_href(job.item.base))
            row["report"] = relative(files.page, job.out_dir)
        except GascarError as exc:  # the match is fine; only its page is missing
            row["error"] = _one_line(f"report not written: {exc.message}")
    return row


# -- the batch -----------------------------------------------------------------------------------------


def run_batch(root: str | os.PathLike, out_dir: str | os.PathLike, options: BatchOptions | None = None, *,
              on_row: Callable[[dict], None] | None = None) -> BatchResult:
    """Match every audio file under ``root``; write results, summaries and (optionally) reports to ``out_dir``.

    Parameters
    ----------
    root
        Folder of targets (searched recursively).
    out_dir
        Output folder (created; may lie inside ``root``, it is not searched).
    options : BatchOptions
    on_row : callable, optional
        Called with each target's row as it finishes (in completion order).

    Returns
    -------
    BatchResult
        Ctrl-C (KeyboardInterrupt) ends the batch early with every finished
        target written and :attr:`BatchResult.interrupted` set.

    Raises
    ------
    BatchError
        For an unusable root or output folder, no audio files, or an
        unreachable scheduler.
    """
    options = options or BatchOptions()
    root = Path(root).resolve()
    out = Path(out_dir).resolve()
    if out.exists() and not out.is_dir():
        raise BatchError("exists and is not a folder; give an output folder", path=out)
    if out == root:
        raise BatchError("the output folder must differ from the folder of targets (its renders would become targets)",
                         path=out)
    items, ignored = (discover_instruments if options.instruments else discover)(root, exclude=[out])
    if not items and options.instruments:
        raise BatchError(f"no folders found ({len(ignored)} files); --instruments takes a folder with one folder of "
                         "notes per instrument", path=root)
    if not items:
        exts = ", ".join(e.lstrip(".") for e in AUDIO_EXTENSIONS)
        raise BatchError(f"no audio files found ({len(ignored)} other files); looked for {exts}", path=root)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BatchError(f"cannot create the output folder: {exc.strerror or exc}", path=out) from None

    with FolderLock(out, LOCK_NAME):
        remove_parts(out)
        seed = _batch_seed(options.match.seed, out)
        rows: dict[str, dict] = {}
        jobs: list[TargetJob] = []
        for item in items:
            opts = replace(options.match, seed=target_seed(seed, item.rel))
            job = TargetJob(item=item, out_dir=out, options=opts, top=options.top, fingerprint=fingerprint(opts, options.top),
                            report=options.report, checkpoint_every=options.checkpoint_every)
            try:
                sha = target_sha256(item)
            except GascarError as exc:
                rows[item.rel] = dict(_blank_row(item.rel, opts.seed), status="failed", error=_one_line(exc.message))
                continue
            done = completed_row(job, sha)
            if done is not None:
                rows[item.rel] = done
            else:
                rows[item.rel] = _blank_row(item.rel, opts.seed)
                jobs.append(job)
        result = BatchResult(rows=[], ignored=len(ignored), seed=seed)
        meta = {"root": str(root), "seed": seed, "options": json_ready(asdict(options.match)), "top": options.top,
                "ignored_files": len(ignored)}

        def flush() -> None:
            result.rows = [rows[i.rel] for i in items]
            result.summary_json, result.summary_csv = write_summary(out, result.rows, meta)

        flush()
        last = time.monotonic()
        term = TermAsInterrupt()
        try:
            with term:
                for row in _execute(jobs, options):
                    signum = row.pop("signal", None)
                    rows[row["target"]] = row
                    if on_row is not None:
                        on_row(row)
                    if row["status"] == "interrupted":
                        result.interrupted = result.interrupted or signum or 2
                    if time.monotonic() - last >= SUMMARY_INTERVAL_S:
                        flush()
                        last = time.monotonic()
        except KeyboardInterrupt:
            result.interrupted = term.received or 2
        finally:
            for r in rows.values():
                if r["status"] == "pending" and result.interrupted is not None:
                    r["error"] = "not finished: the batch was interrupted; a rerun continues it"
            flush()
            remove_parts(out)
            prune_empty(out / CHECKPOINT_DIR)
        if options.report:
            from .report import write_index, write_target_report

            for item in items:
                r = rows[item.rel]
                files = TargetFiles(out, item.base)
                if r["status"] == "ok" and not files.page.is_file() and files.history.is_file():
                    with contextlib.suppress(GascarError):
                        write_target_report(out, item.base, index_href=index_href(item.base))
                if r["status"] == "ok" and files.page.is_file():
                    r["report"] = relative(files.page, out)
            flush()
            result.index = write_index(out, result.rows, title=f"GASCAR batch: {root.name}")
    return result


def _execute(jobs: list[TargetJob], options: BatchOptions) -> Iterator[dict]:
    """Rows of finished jobs, in completion order: in this process, on loky workers, or on a Dask cluster."""
    if not jobs:
        return
    bar = _progress(len(jobs)) if options.progress else None
    failed = 0
    try:
        for row in _rows(jobs, options):
            if row["status"] == "failed":
                failed += 1
            if bar is not None:
                bar.update(1)
                bar.set_postfix_str(f"failed {failed}" if failed else row["target"][-40:], refresh=False)
            yield row
            if row["status"] == "interrupted":
                return
    finally:
        if bar is not None:
            bar.close()


def _rows(jobs: list[TargetJob], options: BatchOptions) -> Iterator[dict]:
    from .evolve.parallel import resolve_jobs

    if options.scheduler is None:
        n_jobs = min(resolve_jobs(options.n_jobs), len(jobs))
        if n_jobs == 1:
            for job in jobs:
                yield run_target(job)
            return
        yield from _joblib_rows(jobs, backend="loky", n_jobs=n_jobs)
        return
    with _dask_client(options.scheduler):
        yield from _joblib_rows(jobs, backend="dask", n_jobs=-1)


def _joblib_rows(jobs: list[TargetJob], *, backend: str, n_jobs: int) -> Iterator[dict]:
    from joblib import Parallel, delayed, parallel_config

    extra = {"inner_max_num_threads": 1} if backend == "loky" else {}
    with parallel_config(backend=backend, n_jobs=n_jobs, **extra):
        # One target per task; unordered, so the progress bar moves as targets finish.
        yield from Parallel(return_as="generator_unordered", batch_size=1, pre_dispatch="n_jobs")(
            delayed(run_target)(job) for job in jobs)


@contextlib.contextmanager
def _dask_client(scheduler):
    try:
        from distributed import Client
    except ImportError:
        raise BatchError("--scheduler needs Dask distributed: pip install 'gascar[cluster]'") from None
    if not isinstance(scheduler, str):  # an existing Client
        yield scheduler
        return
    try:
        client = Client(scheduler, timeout=f"{CONNECT_TIMEOUT_S}s")
    except (OSError, TimeoutError) as exc:
        raise BatchError(f"cannot reach the Dask scheduler at {scheduler} ({exc}); start one with `dask scheduler` "
                         "and workers with `dask worker " + scheduler + "`") from None
    try:
        n = len(client.scheduler_info().get("workers", {}))
        if n == 0:
            client.wait_for_workers(1, timeout=60)
        yield client
    except TimeoutError:
        raise BatchError(f"the Dask scheduler at {scheduler} has no workers; start some with `dask worker {scheduler}`") from None
    finally:
        client.close()


def _progress(total: int):
    import sys

    from tqdm import tqdm

    return tqdm(total=total, file=sys.stderr, unit="target", desc="batch", dynamic_ncols=True, smoothing=0.05, mininterval=0.2)


# -- summaries ------------------------------------------------------------------------------------------


def _blank_row(rel: str, seed) -> dict:
    return {"target": rel, "status": "pending", "synth": "", "fitness": None, "components": {}, "evaluations": 0,
            "seconds": 0.0, "seed": seed, "stop_reason": "", "reused": False, "preset": "", "render": "", "report": "",
            "error": "", "resumed": False}


# -- helpers -----------------------------------------------------------------------------------------------


def _batch_seed(seed: int | None, out: Path) -> int:
    """The given seed; else the seed of the batch already in ``out``; else a fresh one."""
    if seed is not None:
        return int(seed)
    with contextlib.suppress(OSError, ValueError, BatchError):
        s = read_summary(out).get("seed")
        if isinstance(s, int) and not isinstance(s, bool) and s >= 0:
            return s
    return int(np.random.SeedSequence().entropy % (1 << 63))


def _one_line(text: str) -> str:
    lines = [s.strip() for s in str(text).splitlines() if s.strip()]
    return " ".join(lines)[:500]
