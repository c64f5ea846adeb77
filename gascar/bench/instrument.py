"""``gascar bench instrument``: does a match of several notes generalise to notes it never heard?

For each instrument (a folder of notes named ``<name>_<note>_v<velocity>.wav``,
five notes across its range, some with a soft layer on the middle note) the
notes at the loudest velocity are sorted by pitch and split:

matched
    The lowest, the middle and the highest note, and every softer layer.
held out
    The others (the second and the fourth of five): no match hears them.

Matches per instrument and seed (:data:`METHODS`), each as ``gascar match``
runs it (``--synth auto`` unless told, the same budget of evaluations, the
same seed): an instrument match of the matched notes, staged (``staged``:
the reference note alone until the final round, the default) or scoring
every note throughout (``all notes``, the instrument match before staging),
and a one-note match of the middle note alone (at the loudest velocity),
the preset one would get without instrument matches. Each preset is then rendered at every held-out
note's pitch and velocity, held until that note's own note-off and as long as
it, and judged against it by the benchmark's fixed judge
(:func:`gascar.closeness.judged_lsd_db`, which compares spectra at one
loudness: the level across notes does not count).

Equal budgets are equal evaluations of a genome (what ``--budget`` counts),
so an instrument match renders (and costs) more than the one-note match;
each record gives its note renders and seconds. Each run is one line of ``instrument-runs.jsonl``,
written as soon as it finishes, so an interrupted benchmark resumes.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from .. import fileio
from . import quiet, report_text
from .runs import load_runs, record_runs

TITLE = "Instrument matches on held-out notes (`gascar bench instrument`)"
#: The matches: the staged instrument match (the default), the instrument match scoring every note throughout, the
#: middle note alone.
METHODS = ("staged", "all notes", "middle note")
#: What ``gascar bench instrument`` runs unless told.
DEFAULT_METHODS = ("staged", "middle note")
#: Runs files written before staging called the all-notes instrument match ``instrument``.
OLD_METHOD_NAMES = {"instrument": "all notes"}


def split_notes(folder: str | Path) -> tuple[list[Path], list[Path], Path]:
    """An instrument folder's matched notes, held-out notes and middle note (the one-note match's target).

    Returns
    -------
    matched, held_out : list of Path
        Sorted by pitch, then velocity.
    middle : Path
        The middle note at the loudest velocity.

    Raises
    ------
    AnalysisError
        For a folder with fewer than three notes at the loudest velocity, or
        a file whose name gives no note.
    """
    from ..errors import AnalysisError
    from ..instrument import discover_notes, parse_name
    from ..pitch import note_to_hz

    rows = []
    for path in discover_notes(folder):
        _, note, velocity = parse_name(path)
        if note is None:
            raise AnalysisError(f"{path.name}: the instrument benchmark needs names like cello_C3_v100.wav")
        rows.append((note_to_hz(note), velocity or 100, path))
    loudest = max(v for _, v, _ in rows)
    top = sorted((r for r in rows if r[1] == loudest), key=lambda r: r[0])
    if len(top) < 3:
        raise AnalysisError(f"{folder}: the instrument benchmark needs at least three notes at velocity {loudest}")
    keep = {0, len(top) // 2, len(top) - 1}
    matched = [r for i, r in enumerate(top) if i in keep] + [r for r in rows if r[1] != loudest]
    held_out = [r for i, r in enumerate(top) if i not in keep]
    order = sorted(matched, key=lambda r: (r[0], r[1]))
    return [r[2] for r in order], [r[2] for r in held_out], top[len(top) // 2][2]


def _note_target(path: Path):
    """A note analysed as its instrument match analyses it: at the pitch its name gives."""
    from ..analysis import load_target
    from ..instrument import parse_name

    return load_target(path, note=parse_name(path)[1])


def judge_at(preset, path: Path) -> float:
    """The judged LSD (dB) of ``preset`` played at the note of ``path`` (its pitch, velocity, note-off, length)."""
    from ..closeness import judged_lsd_db
    from ..instrument import parse_name

    target = _note_target(path)
    velocity = parse_name(path)[2] or 100
    audio = preset.with_render(f0_hz=float(target.f0_hz), hold_s=float(target.hold_s), velocity=int(velocity),
                               duration_s=target.samples.size / target.sample_rate).render_audio()
    return judged_lsd_db(np.asarray(target.samples), audio, target.sample_rate)


def _key(instrument: str, method: str, synth: str, budget: int, seed: int) -> str:
    return f"{instrument}|{method}|{synth}|{budget}|{seed}"


def note_renders(result, n_notes: int) -> int:
    """Notes a match rendered in its search: an evaluation renders one note on the reference note alone (a staged
    match's first stage, or a one-note match), ``n_notes`` otherwise.
    """
    from ..staging import REFERENCE

    first = [r["total_evaluations"] for r in result.history if r.get("stage") == REFERENCE]
    alone = max(first, default=0)
    return int(alone + n_notes * (result.evaluations - alone))


def run_instrument(folder: Path, method: str, *, synth: str, budget: int, seed: int, n_jobs: int | None = None) -> dict:
    """One match (one of :data:`METHODS`) of one instrument, judged on every note."""
    from ..matching import match

    matched, held_out, middle = split_notes(folder)
    t0 = time.perf_counter()
    n_notes = len(matched) if method != "middle note" else 1
    with quiet():
        if method != "middle note":
            # "all notes" is the instrument match as it was before staging: every note throughout, their mean.
            before = {"staged": False, "aggregate": "mean"} if method == "all notes" else {}
            result = match([str(p) for p in matched], synth=synth, budget=budget, seed=seed, n_jobs=n_jobs,
                           handle_signals=False, **before)
        else:
            from ..instrument import parse_name
            from ..pitch import note_to_hz

            result = match(str(middle), f0_hz=note_to_hz(parse_name(middle)[1]), synth=synth, budget=budget, seed=seed, n_jobs=n_jobs,
                           handle_signals=False)
    seconds = time.perf_counter() - t0
    with quiet():
        return {
            "key": _key(folder.name, method, synth, budget, seed),
            "instrument": folder.name, "method": method, "synth": result.synth, "budget": budget, "seed": seed,
            "evaluations": int(result.evaluations), "renders": note_renders(result, n_notes), "seconds": seconds,
            "held_out": {p.name: judge_at(result.preset, p) for p in held_out},
            "matched": {p.name: judge_at(result.preset, p) for p in matched},
        }


def bench_instrument(out_dir: Path, instruments_dir: Path, *, synth: str = "auto", budget: int = 3000, seeds: int = 1,
                     names: list[str] | None = None, n_jobs: int | None = None, progress: bool = True,
                     methods=DEFAULT_METHODS) -> list[dict]:
    """Run (or resume) both matches of every instrument folder in ``instruments_dir``; write the table; return records.

    Parameters
    ----------
    out_dir : Path
        Holds ``instrument-runs.jsonl`` and ``bench-instrument.md``.
    instruments_dir : Path
        One folder per instrument (see :func:`split_notes`).
    synth : str
        ``--synth`` of both matches.
    budget : int
        Evaluations of each match.
    seeds : int
        Seeds per instrument and method.
    names : list of str, optional
        Only these instrument folders.
    methods : sequence of str
        Which of :data:`METHODS`.
    """
    folders = sorted(p for p in Path(instruments_dir).iterdir() if p.is_dir() and (not names or p.name in names))
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    runs_path = out_dir / "instrument-runs.jsonl"
    done = {_renamed_key(k): dict(r, method=OLD_METHOD_NAMES.get(r["method"], r["method"]))
            for k, r in load_runs(runs_path).items()}
    methods = [m for m in METHODS if m in methods]
    plan = [(f, m, s) for f in folders for s in range(seeds) for m in methods]
    todo = [(f, m, s) for f, m, s in plan if _key(f.name, m, synth, budget, s) not in done]
    record_runs(runs_path, done, (run_instrument(f, m, synth=synth, budget=budget, seed=s, n_jobs=n_jobs)
                                  for f, m, s in todo),
                total=len(plan), pending=len(todo), desc="bench instrument", unit="match", progress=progress)
    records = [done[_key(f.name, m, synth, budget, s)] for f, m, s in plan]
    fileio.write_text(out_dir / "bench-instrument.md", report_text(TITLE, format_table(records)))
    return records


def _renamed_key(key: str) -> str:
    parts = key.split("|")
    if len(parts) > 1:
        parts[1] = OLD_METHOD_NAMES.get(parts[1], parts[1])
    return "|".join(parts)


def format_table(records: list[dict]) -> str:
    """One table per instrument method (staged, all notes) against the middle-note match: per instrument and seed,
    mean judged LSD on the held-out notes, the difference, on the matched notes, synths, note renders and seconds.
    """
    present = {r["method"] for r in records}
    parts = []
    for method in METHODS[:-1]:
        if method in present and "middle note" in present:
            head = f"### The {method} instrument match against the middle-note match\n\n" if len(present) > 2 else ""
            parts.append(head + _method_table(records, method))
    return "\n".join(parts)


def _renders(record: dict) -> int:
    """A record's note renders (records written before they were counted: every evaluation renders every note)."""
    if "renders" in record:
        return int(record["renders"])
    return int(record["evaluations"]) * (1 if record["method"] == "middle note" else len(record["matched"]))


def _method_table(records: list[dict], method: str) -> str:
    lines = ["| instrument | held-out notes | judged LSD dB, held out: instrument match | middle-note match | "
             "difference | on the matched notes: instrument match | middle-note match | synth (instrument / middle) | "
             "note renders (instrument / middle) | seconds (instrument / middle) |",
             "|---|---|---:|---:|---:|---:|---:|---|---|---|"]
    by: dict[tuple[str, int], dict[str, dict]] = {}
    for r in records:
        if r["method"] in (method, "middle note"):
            by.setdefault((r["instrument"], r["seed"]), {})[r["method"]] = r
    wins = total = 0
    diffs = []
    for (name, seed), pair in sorted(by.items()):
        if set(pair) != {method, "middle note"}:
            continue
        a, b = pair[method], pair["middle note"]
        la, lb = np.mean(list(a["held_out"].values())), np.mean(list(b["held_out"].values()))
        total += 1
        wins += la < lb
        diffs.append(la - lb)
        notes = ", ".join(n.rsplit(".", 1)[0].split("_")[-2] for n in a["held_out"])
        label = name if len({s for n, s in by if n == name}) == 1 else f"{name} (seed {seed})"
        ma, mb = np.mean(list(a["matched"].values())), np.mean(list(b["matched"].values()))
        renders = f"{_renders(a):,} / {_renders(b):,}"
        lines.append(f"| {label} | {notes} | {la:.2f} | {lb:.2f} | {la - lb:+.2f} | {ma:.2f} | {mb:.2f} | "
                     f"{a['synth']} / {b['synth']} | {renders} | {a['seconds']:.0f} / {b['seconds']:.0f} |")
    budgets = sorted({r["budget"] for r in records if r["method"] in (method, "middle note")})
    if total:
        n_seeds = len({seed for _, seed in by})
        what = "instruments" if n_seeds == 1 else f"runs ({n_seeds} seeds)"
        lines += ["", f"The instrument match is closer on the held-out notes for {wins} of {total} {what} "
                  f"(median difference {np.median(diffs):+.2f} dB; negative: the instrument match is closer). "
                  f"Evaluations per match: {', '.join(f'{b:,}' for b in budgets)}."]
        if n_seeds > 1:
            per = {}
            for (name, _), d in zip((k for k in sorted(by) if set(by[k]) == {method, "middle note"}), diffs):
                per.setdefault(name, []).append(d)
            means = {name: float(np.mean(d)) for name, d in per.items()}
            lines.append(f"Averaged over seeds it is closer for {sum(m < 0 for m in means.values())} of {len(means)} "
                         f"instruments ({', '.join(f'{n} {m:+.2f}' for n, m in means.items())} dB).")
    return "\n".join(lines) + "\n"
