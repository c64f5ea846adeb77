"""The benchmark's target suites and their known answers.

``indomain``: for each synth, sounds rendered from random genomes
(:func:`make_indomain_targets`; the answer is known, so the parameter error
and the oracle are measured too); ``musical``: the same from a synth's
prior of musically plausible settings, for the synths that have one (dx7);
``real``: every sound file of a folder
(:func:`real_targets`). :func:`oracle` scores an in-domain target's own
genes through the match's objective (how near the match space comes to
it); :func:`reference_distances` gives the judged scale of known
differences (detuning, other presets). ``gascar bench match``, ``defaults``
and ``basin`` share these.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import BenchmarkError
from .judge import judge

#: Length, note-off and pitch range of in-domain targets.
INDOMAIN_DURATION_S = 1.0
INDOMAIN_HOLD_S = 0.6
INDOMAIN_MIDI = (40, 76)
#: Suites of sounds a synth made (the answer is known): uniform random genomes, and a synth's musical prior.
INDOMAIN_SUITES = ("indomain", "musical")


@dataclass(frozen=True)
class BenchTarget:
    """One target of a suite.

    Attributes
    ----------
    suite : str
        ``"indomain"``, ``"musical"`` or ``"real"``.
    name : str
        Unique within the suite (``fm-03`` or the file's name).
    path : str
        The sound file.
    synth : str or None
        For in-domain targets, the synth that made it (and the synth matched).
    genome : list of float or None
        For in-domain targets, the synth genes that made it.
    f0_hz : float or None
        For in-domain targets, the pitch it was rendered at.
    """

    suite: str
    name: str
    path: str
    synth: str | None = None
    genome: list[float] | None = None
    f0_hz: float | None = None


def make_indomain_targets(folder: Path, synths: Iterable[str], per_synth: int, seed: int = 0,
                          suite: str = "indomain") -> list[BenchTarget]:
    """Render ``per_synth`` targets from random genomes of each synth into ``folder``.

    Silent or clipped-flat renders are drawn again. The same seed always
    gives the same targets. Seed 0 makes the benchmark's targets, named
    ``<synth>-NN``; any other seed makes different sounds, named
    ``<synth>-s<seed>-NN`` so they never mix with them in a folder or a
    runs file: held-out sounds on which to check a change before it is
    measured on the benchmark's own. With ``suite="musical"`` the genomes
    come from each synth's musical prior (:meth:`gascar.synths.Synth.musical_genomes`;
    synths without one are left out), named ``<synth>-m-NN`` (``<synth>-m-s<seed>-NN``).
    """
    from ..audio import write_audio
    from ..synths import get_synth, list_synths

    sr = 22050
    n = int(INDOMAIN_DURATION_S * sr)
    if suite not in INDOMAIN_SUITES:
        raise BenchmarkError(f"unknown in-domain suite {suite!r}; use one of {', '.join(INDOMAIN_SUITES)}")
    musical = suite == "musical"
    out = []
    known = list(list_synths())
    for name in synths:
        synth = get_synth(name)
        if synth.carries_data:  # a voice built from a target: its sounds are a target's, not its genes'
            continue
        if musical and synth.musical_genomes(np.random.default_rng(0), 1) is None:
            continue
        # Keyed by the synth's place among all synths, so a subset makes the same files as the full set.
        si = known.index(synth.name)
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(si, 8 if musical else 7)))
        prefix = f"{name}-m" if musical else name
        made = 0
        while made < per_synth:
            g = synth.musical_genomes(rng, 8) if musical else rng.random((8, synth.n_genes))
            midi = rng.integers(INDOMAIN_MIDI[0], INDOMAIN_MIDI[1] + 1, size=8)
            f0 = 440.0 * 2 ** ((midi - 69) / 12)
            x = synth.render(g, f0, n, sr, hold_s=INDOMAIN_HOLD_S)
            rms = np.sqrt(np.mean(x.astype(np.float64) ** 2, axis=1))
            for k in np.flatnonzero((rms > 3e-3) & (np.max(np.abs(x), axis=1) < 0.999)):
                if made == per_synth:
                    break
                tname = f"{prefix}-{made:02d}" if seed == 0 else f"{prefix}-s{seed}-{made:02d}"
                path = folder / f"{tname}.wav"
                if not path.exists():
                    write_audio(path, x[k], sr, subtype="FLOAT")
                out.append(BenchTarget(suite, tname, str(path), name, g[k].tolist(), float(f0[k])))
                made += 1
    return out


def real_targets(folder: Path) -> list[BenchTarget]:
    """Every sound file directly in ``folder``, sorted by name."""
    from ..audio import AUDIO_EXTENSIONS

    folder = Path(folder)
    if not folder.is_dir():
        raise BenchmarkError("no such folder of real targets", path=folder)
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in AUDIO_EXTENSIONS)
    if not files:
        raise BenchmarkError("holds no sound files", path=folder)
    return [BenchTarget("real", p.name, str(p)) for p in files]


def reference_distances(targets: list[BenchTarget]) -> dict[str, dict]:
    """Judged LSD of known differences, per synth of the in-domain suite: the scale a threshold needs.

    ``detune_5c`` and ``detune_20c``: each target against its own genome
    rendered 5 and 20 cents sharp (5 cents is about the smallest pitch
    change listeners notice); ``presets_median`` and ``presets_p05``:
    between different targets of the synth (different random presets).
    """
    from ..audio import load_audio
    from ..synths import get_synth

    sr = 22050
    n = int(INDOMAIN_DURATION_S * sr)
    out = {}
    by_synth: dict[str, list[BenchTarget]] = {}
    for t in targets:
        if t.suite in INDOMAIN_SUITES and t.genome is not None and t.f0_hz is not None:
            by_synth.setdefault(group_name(t), []).append(t)
    for name, ts in sorted(by_synth.items()):
        synth = get_synth(ts[0].synth)
        sounds = [load_audio(t.path, trim=False).samples for t in ts]
        row = {"targets": len(ts)}
        for cents in (5, 20):
            g = np.array([t.genome for t in ts])
            f0 = np.array([t.f0_hz for t in ts]) * 2 ** (cents / 1200)
            moved = synth.render(g, f0, n, sr, hold_s=INDOMAIN_HOLD_S)
            row[f"detune_{cents}c"] = float(np.median([judge(a, b, sr)["lsd_db"] for a, b in zip(sounds, moved)]))
        pairs = [judge(a, b, sr)["lsd_db"] for i, a in enumerate(sounds) for b in sounds[i + 1:]]
        if pairs:
            row["presets_median"] = float(np.median(pairs))
            row["presets_p05"] = float(np.percentile(pairs, 5))
        out[name] = row
    return out


def oracle(target: BenchTarget, cache_dir: str | None = None) -> dict:
    """How near the match space comes to an in-domain target: its own genes, re-scored.

    The genes that made the target, with the pitch genes set as near its
    true note as they go (octave and fine tune around the detected f0, or
    the free frequency gene) and the note-off gene at the true note-off,
    rendered through the match's :class:`gascar.objective.Objective` and
    judged. A target is *reachable* when the true note lies within the
    pitch genes' range; reachable targets score 0 dB (the synths' noise is
    a fixed sequence). Another genome may still sound close to an
    unreachable target.

    Returns
    -------
    dict
        ``reachable`` (bool), ``lsd_db`` and ``fitness`` of the oracle genome,
        ``detected_f0_hz`` (None for unpitched targets) and ``f0_hz`` (true).
    """
    from ..analysis import load_target
    from ..objective import Objective
    from ..synths import get_synth

    analysed = load_target(target.path, cache_dir=cache_dir)
    obj = Objective(analysed, get_synth(target.synth))
    genome, fitness, reachable = oracle_genome(target, obj)
    audio = obj.render(genome[None, :])[0]
    return {"reachable": reachable, "lsd_db": judge(np.asarray(analysed.samples), audio, analysed.sample_rate)["lsd_db"],
            "fitness": fitness, "detected_f0_hz": float(analysed.f0_hz) if analysed.pitched else None,
            "f0_hz": float(target.f0_hz)}


def oracle_genome(target: BenchTarget, objective) -> tuple[np.ndarray, float, bool]:
    """The genome of :func:`oracle` in ``objective``'s match space (the target's own analysis).

    Returns
    -------
    genome : ndarray, shape (n_genes,)
        The target's synth genes, the pitch genes as near its true note as
        they go (the best-scoring of the candidates that reach it, or of
        all when none does) and the true note-off.
    fitness : float
        Its fitness.
    reachable : bool
        Whether the pitch genes reach the true note.
    """
    specs, k = objective.space.specs, objective.n_synth_genes
    base = np.zeros(objective.n_genes)
    base[:k] = target.genome
    base[-1] = specs[-1].to_unit(INDOMAIN_HOLD_S)
    genes, reached = objective.pitch_genes(target.f0_hz)  # each octave and fine tune, or the free frequency gene
    genomes = np.repeat(base[None, :], len(genes), axis=0)
    genomes[:, k : k + genes.shape[1]] = genes
    reachable = bool(reached.any())
    if reachable:
        genomes = genomes[reached]
    fitness = objective(genomes)
    i = int(np.argmin(fitness))
    return genomes[i], float(fitness[i]), reachable


def oracles(targets: list[BenchTarget], cache_dir: str | None = None) -> dict[str, dict]:
    """:func:`oracle` of every in-domain target, by name."""
    return {t.name: {"synth": group_name(t), **oracle(t, cache_dir)} for t in targets
            if t.suite in INDOMAIN_SUITES and t.genome is not None and t.f0_hz is not None}


def group_name(target: BenchTarget) -> str:
    """How tables name an in-domain target's synth: ``dx7``, or ``dx7 (musical)`` for the musical suite."""
    return target.synth if target.suite == "indomain" else f"{target.synth} ({target.suite})"


