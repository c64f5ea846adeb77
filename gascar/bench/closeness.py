"""``gascar bench closeness``: the spreads of the judged LSD behind the verdicts of :mod:`gascar.closeness`.

Three kinds of pairs, each judged with :func:`gascar.closeness.judged_lsd_db`:

``same sound``
    every shipped preset (its own note and length) against itself changed
    slightly: 5 cents sharp, 5 cents flat, its note-off 10 % later, its
    render through 16-bit quantisation at -30 dBFS.
``two presets of one synth``
    every pair of shipped presets of the same synth, both played at 220 Hz
    for 1.5 s (note-off at 1 s).
``unrelated``
    every pair of shipped presets of different synths (played the same way)
    and every pair of different real instrument notes of a folder (``targets/``).

The verdict thresholds are read off these spreads: *near-identical* up to
the 90th percentile of the same sound, *close* up to the lower quartile of
two presets of one synth, *resembles* up to the median of unrelated sounds,
*far* beyond. The runs are kept (``--output``: ``closeness-pairs.json.gz``)
so the table and the thresholds can be re-made from them.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np

KINDS = ("same sound", "two presets of one synth", "unrelated")
#: Where each threshold is read: (verdict, kind, percentile).
READINGS = (("near-identical", "same sound", 90), ("close", "two presets of one synth", 25), ("resembles", "unrelated", 50))
PAIR_F0_HZ = 220.0
PAIR_DURATION_S = 1.5
PAIR_HOLD_S = 1.0


def _presets(folder: Path):
    from ..preset import Preset
    from ..synths import SYNTH_ORDER

    out = []
    for p in sorted(Path(folder).glob("*.json")):
        preset = Preset.load(p)
        if preset.synth in SYNTH_ORDER:  # the built-in synths (optional engines may be missing)
            out.append((p.stem, preset))
    return out


def measure_spreads(presets_dir: Path, real_dir: Path | None) -> list[dict]:
    """Every judged pair: ``{"kind", "a", "b", "lsd_db"}``."""
    from ..analysis import analysed_samples
    from ..closeness import judged_lsd_db

    rows = []
    presets = _presets(presets_dir)
    for name, preset in presets:
        r = preset.render
        base = preset.render_audio()
        variants = {
            "+5 cents": preset.with_render(f0_hz=r.f0_hz * 2 ** (5 / 1200)).render_audio(),
            "-5 cents": preset.with_render(f0_hz=r.f0_hz * 2 ** (-5 / 1200)).render_audio(),
            "note-off +10 %": preset.with_render(hold_s=1.1 * (r.hold_s if r.hold_s is not None else r.duration_s)).render_audio(),
            "16-bit at -30 dBFS": _quantised(base, -30.0),
        }
        for what, audio in variants.items():
            rows.append({"kind": "same sound", "a": name, "b": what, "lsd_db": judged_lsd_db(base, audio, r.sample_rate)})
    common = {name: p.with_render(f0_hz=PAIR_F0_HZ, duration_s=PAIR_DURATION_S, hold_s=PAIR_HOLD_S, sample_rate=22050)
              for name, p in presets}
    audio = {name: p.render_audio() for name, p in common.items()}
    for (na, pa), (nb, pb) in itertools.combinations(common.items(), 2):
        kind = "two presets of one synth" if pa.synth == pb.synth else "unrelated"
        rows.append({"kind": kind, "a": na, "b": nb, "lsd_db": judged_lsd_db(audio[na], audio[nb], 22050)})
    if real_dir is not None and Path(real_dir).is_dir():
        from ..audio import AUDIO_EXTENSIONS

        files = sorted(p for p in Path(real_dir).iterdir() if p.suffix.lower() in AUDIO_EXTENSIONS)
        real = {p.name: analysed_samples(p)[0] for p in files}
        for a, b in itertools.combinations(real, 2):
            rows.append({"kind": "unrelated", "a": a, "b": b, "lsd_db": judged_lsd_db(real[a], real[b], 22050)})
    return rows


def _quantised(x: np.ndarray, peak_dbfs: float) -> np.ndarray:
    y = x * (10 ** (peak_dbfs / 20) / max(float(np.max(np.abs(x))), 1e-12))
    return np.round(y * 32767) / 32767


def thresholds(rows: list[dict]) -> list[tuple[str, float]]:
    """The verdict thresholds the spreads give (see :data:`READINGS`)."""
    out = []
    for word, kind, pct in READINGS:
        values = [r["lsd_db"] for r in rows if r["kind"] == kind]
        out.append((word, float(np.percentile(values, pct))))
    return out


def bench_closeness(out_dir: Path | None, presets_dir: Path, real_dir: Path | None) -> list[dict]:
    """Measure the spreads; with ``out_dir``, keep the pairs as ``closeness-pairs.json.gz`` there."""
    rows = measure_spreads(presets_dir, real_dir)
    if out_dir is not None:
        import gzip
        import json

        from .. import fileio

        fileio.write_bytes(Path(out_dir) / "closeness-pairs.json.gz",
                           gzip.compress(json.dumps(rows, indent=0).encode("utf-8"), mtime=0))
    return rows


def load_pairs(path: Path) -> list[dict]:
    """The pairs written by :func:`bench_closeness`."""
    import gzip
    import json

    return json.loads(gzip.decompress(Path(path).read_bytes()))


def format_table(rows: list[dict]) -> str:
    lines = ["| pairs | n | judged LSD dB: min | 10 % | 25 % | median | 75 % | 90 % | max |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for kind in KINDS:
        v = np.array([r["lsd_db"] for r in rows if r["kind"] == kind])
        if not v.size:
            continue
        q = np.percentile(v, [0, 10, 25, 50, 75, 90, 100])
        lines.append(f"| {kind} | {v.size} | " + " | ".join(f"{x:.2f}" for x in q) + " |")
    lines += ["", "Thresholds read off these spreads: " + "; ".join(
        f"{word} up to the {pct}th percentile of {kind} ({value:.2f} dB)"
        for (word, kind, pct), (_, value) in zip(READINGS, thresholds(rows))) + "; far beyond."]
    return "\n".join(lines) + "\n"
