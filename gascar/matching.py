"""``match()``: evolve a preset that sounds like a target, with one synth or all of them.

With ``synth="auto"`` the budget is spread over every registered synth by
successive halving (:mod:`gascar.halving`); each synth's random stream
depends only on the seed and the synth's name, so ``--synth fm --seed 3``
starts exactly like the fm run inside ``auto``. Where the presets and
renders go, and writing them, is :mod:`gascar.outputs`.

The result holds the best preset, its fitness and components, the history
of every generation, and the bests of other species (``top`` presets that
sound different), and can be written as presets plus renders. Ctrl-C and
SIGTERM end the run after the current generation with everything written.
"""

from __future__ import annotations

import copy
import os
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from . import __version__, validate
from .errors import EvolutionError, OutputError, SynthError
from .evolve import Evaluator, Evolution, EvolutionConfig, GeneInfo, get_engine, load_checkpoint
from .evolve.checkpoint import PeriodicCheckpoint
from .evolve.interrupt import StopSignals
from .evolve.reporting import Reporter
from .evolve.run import components_function, run_steps, seed_sequence
from .halving import HalvingPlan, halving_rounds, synth_seed
from .outputs import MAX_TOP, MatchOutputs, check_writable, default_outputs, write_results
from .staging import ALL_NOTES, REFERENCE, min_rounds, reference_key, staged, switch

#: Objective evaluations of a default match (all synths together); measured
#: to finish a 1.5 s target within a minute on 2 cores, and against 20,000
#: on held-out sounds (docs/benchmarks.md, "Default matches").
DEFAULT_BUDGET = 30000
#: Generations between two checkpoint writes.
CHECKPOINT_EVERY = 5
#: Share of the first population ``--analysis-starts`` gives the starts and their jittered copies.
ANALYSIS_START_SHARE = 0.25
#: Settings a resumed match may change: a new total budget, a time limit for the continuation.
RESUME_SETTINGS = ("budget", "time_limit_s")
#: Names re-exported for callers of gascar.matching (the API before the split), and the plan's old name,
#: under which checkpoints written before the split pickled it.
__all__ = ["CHECKPOINT_EVERY", "DEFAULT_BUDGET", "MAX_TOP", "MatchOptions", "MatchOutputs", "MatchResult", "default_outputs",
           "halving_rounds", "match", "synth_seed", "write_results"]
_Plan = HalvingPlan


#: The fields of :class:`MatchOptions` when batch fingerprints were first written. A field added since enters a
#: fingerprint only when it differs from its default (see :meth:`MatchOptions.fingerprint_fields`), so adding a
#: field leaves every earlier batch folder resumable, and its finished targets finished.
FINGERPRINT_V1_FIELDS = ("synth", "budget", "seed", "time_limit_s", "generations", "engine", "population", "speciation",
                         "refine", "target_fitness", "patience", "restart_after", "evolution", "fitness", "analysis")


@dataclass(frozen=True)
class MatchOptions:
    """Everything that decides what a match computes (and so goes into a checkpoint and a batch's fingerprint).

    To add an option: a field with a plain default (``None`` or ``False``,
    never a ``default_factory``: checkpoints pickled before the field existed
    then read it from the class), its check in :meth:`__post_init__`, its use
    where the match reads it, and a click option of the same name in the
    commands (``cli/_common.py``: :data:`~gascar.cli._common.OPTION_FIELDS`).
    Fields not in :data:`FINGERPRINT_V1_FIELDS` change batch fingerprints
    only when set.

    Attributes
    ----------
    synth : str
        A synth name, or ``"auto"`` for all of them (successive halving).
    budget : int or None
        Objective evaluations, all synths together; never exceeded.
        ``None``: the synth's own default (:attr:`gascar.synths.Synth.default_budget`,
        the vital synth's is smaller), else :data:`DEFAULT_BUDGET`.
    seed : int or None
        ``None`` draws one (reported, so the run can be repeated).
    time_limit_s : float or None
        Wall-clock limit (the run then depends on the machine's speed).
    generations : int or None
        Most generations (GA plus refinement) per synth.
    engine : str
        ``"gascar"`` (default) or ``"ga"`` (plain GA).
    population, speciation, refine, target_fitness, patience
        Engine settings overriding the engine's (``None``: the engine's).
    restart_after : int or None
        Generations of stalled GA before it starts afresh (the engine's
        ``restart_stall``); 0 never restarts; ``None``: the engine's.
    evolution : mapping
        Further :class:`~gascar.evolve.EvolutionConfig` fields.
    fitness : mapping
        Keyword options of :class:`gascar.objective.Objective`.
    analysis : mapping
        Further keyword options of :func:`gascar.analysis.load_target`.
    f0_hz : float or None
        The note's base frequency, instead of the pitch detector's.
    unpitched : bool
        The target has no pitch (drums, noises): no detection, the base
        frequency is a gene.
    max_duration_s : float or None
        Analysis window (s): longer targets are cut (``None``: 4 s); for an
        instrument, each note's.
    aggregate : str or None
        How an instrument match combines its notes' fitnesses (``keys``,
        ``mean``, ``max`` or ``rms``; ``None``: :data:`gascar.instrument_objective.DEFAULT_AGGREGATE`).
        Only for several notes.
    analysis_starts : bool
        Every synth's first population starts partly from the target's
        spectral analysis (:meth:`gascar.objective.Objective.start_genomes`,
        a quarter of it with jittered copies: ``start_share`` 0.25 unless
        ``evolution`` sets it); otherwise only a synth with a warm start
        (vital) starts from the analysis.
    staged : bool or None
        An instrument match's first rounds match the reference note alone
        (:mod:`gascar.staging`); ``None``: staged when the budget has room
        for it, ``False``: every note from the start. Only for several notes.
    """

    synth: str = "auto"
    budget: int | None = None
    seed: int | None = None
    time_limit_s: float | None = None
    generations: int | None = None
    engine: str = "gascar"
    population: int | None = None
    speciation: bool | None = None
    refine: bool | None = None
    target_fitness: float | None = None
    patience: int | None = None
    restart_after: int | None = None
    evolution: Mapping = field(default_factory=dict)
    fitness: Mapping = field(default_factory=dict)
    analysis: Mapping = field(default_factory=dict)
    f0_hz: float | None = None
    unpitched: bool = False
    max_duration_s: float | None = None
    aggregate: str | None = None
    analysis_starts: bool = False
    staged: bool | None = None

    def __post_init__(self) -> None:
        if self.budget is None:
            object.__setattr__(self, "budget", default_budget(self.synth))
        validate.whole(self.budget, "budget", low=1, error=EvolutionError, what="a whole number of evaluations >= 1")
        validate.number(self.time_limit_s, "time limit", low=0, low_open=True, error=EvolutionError, optional=True,
                        what="a positive number of seconds")
        validate.whole(self.generations, "generations", low=1, error=EvolutionError, optional=True)
        validate.number(self.f0_hz, "f0_hz", low=1.0, high=20000.0, unit="Hz", error=EvolutionError, optional=True)
        validate.flag(self.unpitched, "unpitched", error=EvolutionError)
        validate.flag(self.analysis_starts, "analysis_starts", error=EvolutionError)
        if self.staged is not None:
            validate.flag(self.staged, "staged", error=EvolutionError)
        validate.number(self.max_duration_s, "max_duration_s", low=0.05, high=600.0, unit="s", error=EvolutionError,
                        optional=True)
        if self.unpitched and (self.f0_hz is not None or "f0_hz" in self.analysis or "note" in self.analysis):
            raise EvolutionError("give either a pitch (f0_hz, --note, --f0) or unpitched, not both")
        if self.aggregate is not None:
            from .instrument_objective import AGGREGATES

            if self.aggregate not in AGGREGATES:
                raise EvolutionError(f"aggregate must be one of {', '.join(AGGREGATES)}, got {self.aggregate!r}")
        self.config()  # validates the engine settings

    def config(self) -> EvolutionConfig:
        """The engine's config with this match's overrides."""
        changes = dict(self.evolution)
        for name in ("population", "speciation", "refine", "target_fitness", "patience"):
            value = getattr(self, name)
            if value is not None:
                changes[name] = value
        if self.restart_after is not None:
            r = validate.whole(self.restart_after, "restart_after", low=0, error=EvolutionError,
                               what="a whole number of generations >= 0 (0: never)")
            changes["restart_stall"] = r or None
        if self.analysis_starts:
            changes.setdefault("start_share", ANALYSIS_START_SHARE)
        return get_engine(self.engine, **changes)

    def analysis_options(self) -> dict:
        """Keyword options of :func:`gascar.analysis.load_target` (the ``analysis`` mapping and the typed fields)."""
        opts = dict(self.analysis)
        if self.f0_hz is not None:
            opts["f0_hz"] = float(self.f0_hz)
        if self.unpitched:
            opts["unpitched"] = True
        if self.max_duration_s is not None:
            opts["max_duration_s"] = float(self.max_duration_s)
        return opts

    def objective_options(self, instrument: bool) -> dict:
        """Keyword options of the objective: ``fitness``, and for an instrument the ``aggregate``.

        Raises
        ------
        EvolutionError
            For an aggregate given to a one-note match.
        """
        opts = dict(self.fitness)
        if self.staged and not instrument:
            raise EvolutionError("staged (--staged) is a way to match the notes of an instrument; give several files")
        if self.aggregate is not None:
            if not instrument:
                raise EvolutionError("aggregate (--aggregate) combines the notes of an instrument; give several files")
            opts["aggregate"] = self.aggregate
        return opts

    def fingerprint_fields(self) -> dict:
        """The fields that identify these options in a batch's fingerprint: every field of the first format, and
        later fields only where they differ from their defaults (so a new field keeps old fingerprints).
        """
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in FINGERPRINT_V1_FIELDS or value != f.default:
                out[f.name] = value
        return out


@dataclass
class MatchResult:
    """What a match found.

    Attributes
    ----------
    preset : gascar.preset.Preset
        The best preset (its ``match`` block says where it came from).
    fitness : float
        Its fitness (lower is better, 0 = identical to the target).
    components : dict of str to float
        Its fitness components.
    synth : str
    genome : ndarray, shape (n_genes,)
        The best genome of the objective (synth genes plus pitch genes).
    others : list of Preset
        Bests of other species (and other synths), ranked 2, 3, ...: they sound different.
    standings : dict of str to float
        Best fitness reached by every synth that was tried.
    history : list of dict
        One record per generation, all synths (``key`` names the synth).
    evaluations : int
    seconds : float
    seed : int
        Pass it back as ``seed`` to repeat the run.
    stop_reason : str
    interrupted : int or None
        The signal (SIGINT 2, SIGTERM 15) that ended the run early, if any.
    files : list of Path
        Presets and renders written.
    checkpoint : Path or None
        The checkpoint written, if any.
    target_path : str or None
        The matched sound file.
    outputs : MatchOutputs or None
        Where the presets and renders went.
    analysis : dict
        The target's analysis (:meth:`gascar.analysis.Target.summary`):
        whether it is pitched, its f0, how sure pYIN was.
    options : MatchOptions or None
        What the match computed with.
    output_error : str or None
        Why the files are not where ``outputs`` first said (they were
        written beside the checkpoint or in the current folder instead;
        ``outputs`` then says where).
    starts : str
        Where the first populations began: one line for the summary
        (analysis-driven starts, or uniform random genomes and why).
    """

    preset: object
    fitness: float
    components: dict
    synth: str
    genome: np.ndarray
    others: list = field(default_factory=list)
    standings: dict = field(default_factory=dict)
    history: list = field(default_factory=list)
    evaluations: int = 0
    seconds: float = 0.0
    seed: int | None = None
    stop_reason: str = ""
    interrupted: int | None = None
    files: list = field(default_factory=list)
    checkpoint: Path | None = None
    target_path: str | None = None
    outputs: MatchOutputs | None = None
    analysis: dict = field(default_factory=dict)
    output_error: str | None = None
    options: MatchOptions | None = None
    starts: str = ""

    @property
    def lsd_db(self) -> float | None:
        """The judged log-spectral distance (dB) of the best preset from the target (:mod:`gascar.closeness`)."""
        return (self.preset.match or {}).get("lsd_db") if self.preset is not None else None

    @property
    def verdict(self) -> str | None:
        """near-identical, close, resembles or far (:func:`gascar.closeness.verdict` of :attr:`lsd_db`)."""
        return (self.preset.match or {}).get("verdict") if self.preset is not None else None

    @property
    def exit_code(self) -> int:
        """0; 128 + the signal number for an interrupted run (130, 143); 1 when the files went elsewhere than asked."""
        if self.interrupted is not None:
            return 128 + int(self.interrupted)
        return OutputError.exit_code if self.output_error else 0

    def summary(self) -> dict:
        """A JSON-ready summary of the match."""
        return {
            "synth": self.synth,
            "fitness": self.fitness,
            **({"lsd_db": self.lsd_db, "verdict": self.verdict} if self.lsd_db is not None else {}),
            "components": dict(self.components),
            "standings": dict(self.standings),
            "evaluations": self.evaluations,
            "seconds": round(self.seconds, 3),
            "seed": self.seed,
            "stop_reason": self.stop_reason,
            "interrupted": self.interrupted,
            "files": [str(p) for p in self.files],
            "checkpoint": None if self.checkpoint is None else str(self.checkpoint),
            "analysis": dict(self.analysis),
            **({"output_error": self.output_error} if self.output_error else {}),
            **({"starts": self.starts} if self.starts else {}),
        }

    def pitch_advice(self) -> str:
        """One line on the pitch the match used, with advice when the detector was unsure or found none."""
        from .analysis import LOW_CONFIDENCE

        a = self.analysis
        if not a:
            return ""
        if not a.get("pitched"):
            if a.get("f0_source") == "unpitched":
                return "pitch: none (--unpitched), so the base frequency was a gene"
            return ("pitch: none detected, so the base frequency was a gene; "
                    "if the sound has a note, --note or --f0 gives it and often matches better; "
                    "if it has none, --unpitched says so")
        head = f"pitch: {a['f0_hz']:.1f} Hz ({a['note']})"
        if a.get("f0_source") != "pyin":
            return head + ", given"
        if a["f0_confidence"] < LOW_CONFIDENCE:
            return (head + f", pYIN unsure (confidence {a['f0_confidence']:.2f}; it may be a partial or a subharmonic); "
                    "if you know the note, --note or --f0 gives it and often matches better; for a drum or a noise, "
                    "--unpitched")
        return head + f", pYIN confidence {a['f0_confidence']:.2f}"


# -- the match -----------------------------------------------------------------------------------


def default_budget(synth: str) -> int:
    """Evaluations of a match with ``synth`` when none are given: the synth's own default, else :data:`DEFAULT_BUDGET`."""
    if synth != "auto":
        from .synths import get_synth

        try:
            own = get_synth(synth).default_budget
        except Exception:  # noqa: BLE001 - an unknown synth is reported when the match starts
            own = None
        if own is not None:
            return int(own)
    return DEFAULT_BUDGET


def start_genomes(objective, target=None, *, analysis: bool = False) -> np.ndarray | None:
    """Genomes ``(m, n_genes)`` a match starts from besides random ones (:meth:`gascar.objective.Objective.start_genomes`,
    or an instrument objective's).

    A synth whose :attr:`~gascar.synths.Synth.warm_start` is set (vital) always starts there; the other synths'
    analysis-driven starts are used only when ``analysis`` is asked (``--analysis-starts``). None without starts.
    """
    if not (analysis or getattr(objective.synth, "warm_start", False)):
        return None
    own = getattr(objective, "start_genomes", None)
    return own() if own is not None else None


def _make_objective(target, synth_name: str, fitness_options: Mapping):
    from .instrument import Instrument
    from .synths import get_synth

    if isinstance(target, Instrument):
        from .instrument_objective import InstrumentObjective

        return InstrumentObjective(target, get_synth(synth_name), **dict(fitness_options))
    from .objective import Objective

    return Objective(target, get_synth(synth_name), **dict(fitness_options))


def _load_target(path, analysis_options: Mapping):
    if isinstance(path, (list, tuple)):  # several files: an instrument
        from .instrument import load_instrument

        return load_instrument(path, **dict(analysis_options))
    from .analysis import load_target

    return load_target(path, **dict(analysis_options))


def _is_instrument(target) -> bool:
    from .instrument import Instrument

    return isinstance(target, Instrument)


def _synth_names(synth: str) -> list[str]:
    from .synths import auto_synths, get_synth

    if synth == "auto":
        names = auto_synths()
        if not names:
            raise EvolutionError("no synths are registered")
        return names
    get_synth(synth).require()  # SynthError for unknown names and missing engines
    return [synth]


def match(
    target=None,
    *,
    options: MatchOptions | None = None,
    outputs: MatchOutputs | None = None,
    n_jobs: int | None = None,
    reporter: Reporter | None = None,
    resume: str | os.PathLike | None = None,
    checkpoint_every: int = CHECKPOINT_EVERY,
    handle_signals: bool = True,
    **settings,
) -> MatchResult:
    """Evolve a preset that sounds like ``target``.

    Parameters
    ----------
    target : path, gascar.analysis.Target, or a list of paths (or gascar.instrument.NoteFile)
        The sound to match (ignored when resuming: the checkpoint names it);
        several files, or an :class:`~gascar.instrument.Instrument`, are the
        notes of one instrument, matched by one preset
        (:class:`~gascar.instrument_objective.InstrumentObjective`).
    options : MatchOptions, optional
        What to compute; or give its fields as keywords (``synth="fm"``,
        ``budget=3000``, ``seed=1`` ...).
    outputs : MatchOutputs, optional
        Files to write (presets, renders, checkpoint); default: none.
    n_jobs : int or None
        Worker processes (None: all cores). Does not change the result.
    reporter : Reporter, optional
        Receives the start, every generation and the end (progress bar, log).
    resume : path, optional
        Continue the match saved in this checkpoint; the result is the
        uninterrupted run's.
    checkpoint_every : int
        Generations between checkpoint writes (when a checkpoint path is set).
    handle_signals : bool
        Catch SIGINT / SIGTERM (main thread only): finish the generation,
        write everything, return with :attr:`MatchResult.interrupted` set.
    **settings
        Fields of :class:`MatchOptions`.

    Returns
    -------
    MatchResult
    """
    t0 = time.monotonic()
    reporter = reporter or Reporter()
    state = None
    if resume is not None:
        state = load_checkpoint(resume, "match")
        fixed = sorted(set(settings) - set(RESUME_SETTINGS))
        if options is not None or fixed:
            raise EvolutionError("a resumed match keeps the settings of its checkpoint; give no other settings "
                                 f"than {' and '.join(RESUME_SETTINGS)}" + (f" (got {', '.join(fixed)})" if fixed else ""))
        options = replace(state["options"], **settings) if settings else state["options"]
        target_ref = state["target_path"]
        if state.get("notes"):  # an instrument: its files, velocities and named notes
            from .instrument import NoteFile

            target_ref = [NoteFile(path, velocity, note) for path, velocity, note in state["notes"]]
        if outputs is None:
            outputs = state["outputs"]
    else:
        if options is None:
            known = {f.name for f in fields(MatchOptions)}
            unknown = sorted(set(settings) - known)
            if unknown:
                raise EvolutionError(f"unknown match settings: {', '.join(unknown)} (known: {', '.join(sorted(known))})")
            options = MatchOptions(**settings)
        elif settings:
            raise EvolutionError("give either options= or keyword settings, not both")
        if target is None:
            raise EvolutionError("no target: give a sound file (or resume a checkpoint)")
        target_ref = target
    outputs = outputs or MatchOutputs()
    outputs.check_writable()  # at once, not after the search
    # A resumed match goes on with the synths it started with (auto's list may have changed since).
    names = _synth_names(options.synth)
    if state is not None:
        names = list(state["plan"].synths)

    tgt = target_ref if hasattr(target_ref, "sha256") else _load_target(target_ref, options.analysis_options())
    if state is not None and state["target_sha256"] != getattr(tgt, "sha256", None):
        raise EvolutionError(f"the target {state['target_path']} changed since the checkpoint was written", path=resume)
    instrument = _is_instrument(tgt)
    if state is not None and "stage" not in state and instrument and options.aggregate is None:
        options = replace(options, aggregate="mean")  # written before staging, when the notes' mean was the default
    fitness_options = options.objective_options(instrument)
    objectives, left_out = _objectives(tgt, names, fitness_options, auto=options.synth == "auto")
    names = [n for n in names if n in objectives]
    config = options.config()

    # A staged instrument match searches the reference note alone until the final round (gascar.staging).
    if state is not None:
        stage = state.get("stage", ALL_NOTES)
    else:
        rounds = max(halving_rounds(len(names)), min_rounds(True))
        stage = REFERENCE if instrument and staged(options.staged, options.budget, rounds, config, len(names)) else ALL_NOTES
    reference_objectives = {}
    if stage == REFERENCE:
        reference = tgt.notes[tgt.reference]
        reference_objectives = {name: _make_objective(reference, name, dict(options.fitness)) for name in names}
    searched = reference_objectives or objectives
    starts = {name: start_genomes(obj, analysis=options.analysis_starts) for name, obj in searched.items()}
    if state is not None:
        seed_entropy = state["seed"]
        evolutions: dict[str, Evolution] = state["evolutions"]
        plan: HalvingPlan = state["plan"]
        history: list[dict] = state["history"]
        if options.budget != plan.budget:  # --budget on a resumed match: a new total for the rest of the run
            plan.change_budget(options.budget, evolutions)
    else:
        seed_entropy = seed_sequence(options.seed).entropy
        evolutions = {
            name: Evolution(name, GeneInfo.from_space(obj.space), config, budget=0, seed=synth_seed(seed_entropy, name),
                            final=False, start_genomes=starts.get(name))
            for name, obj in searched.items()
        }
        plan = HalvingPlan(names, options.budget, min_rounds=min_rounds(stage == REFERENCE))
        history = []

    ck_path = outputs.checkpoint
    deadline = None if options.time_limit_s is None else t0 + float(options.time_limit_s)
    target_path = str(getattr(tgt, "path", target_ref))
    notes = ([(f.path, int(f.velocity), f.note) for f in tgt.files] if instrument else None)

    saver = PeriodicCheckpoint(ck_path, "match", lambda: {
        "options": options, "outputs": outputs, "target_path": target_path,
        "target_sha256": getattr(tgt, "sha256", None), "seed": seed_entropy,
        "evolutions": evolutions, "plan": plan, "history": history, "stage": stage,
        **({"notes": notes} if notes else {}),
    }, checkpoint_every)
    was_staged = stage == REFERENCE or any(r.get("stage") == REFERENCE for r in history)

    def on_record(record: dict) -> None:
        record = dict(record, total_evaluations=sum(ev.evaluations for ev in evolutions.values()),
                      round=plan.round, synths=len(plan.survivors), **({"stage": stage} if was_staged else {}))
        history.append(record)
        reporter.generation(record)
        saver.generation()

    reporter.start({"budget": options.budget, "synths": names, "target": target_path, "seed": seed_entropy,
                    "population": config.population, "n_jobs": n_jobs, "resumed": state is not None,
                    "rounds": plan.rounds})
    cut = None
    signals = StopSignals() if handle_signals else None
    evaluator = Evaluator({**objectives, **{reference_key(n): o for n, o in reference_objectives.items()}}, n_jobs,
                          config.genomes_per_task)
    comps = components_function(objectives)
    reference_comps = components_function(reference_objectives)

    def evaluate(name, genomes):
        return evaluator(reference_key(name) if stage == REFERENCE else name, genomes)

    def stage_comps(name, genomes):
        return (reference_comps if stage == REFERENCE else comps)(name, genomes)

    found = evolutions
    try:
        if signals is not None:
            signals.__enter__()
        should_stop = signals if signals is not None else None
        while cut is None:
            if not plan.started:
                if stage == REFERENCE and plan.final:
                    switch(evolutions, plan.survivors, objectives, evaluator, comps)
                    stage = ALL_NOTES
                plan.start_round(evolutions)
            for name in plan.survivors:
                ev = evolutions[name]
                if options.generations is not None and not ev.done and ev.generation >= options.generations:
                    ev.finish("generations")
                label = f"{name}, round {plan.round + 1} of {plan.rounds}" if plan.rounds > 1 else name
                reporter.start({"stage": label + (", the reference note" if stage == REFERENCE else "")})
                cut = run_steps(ev, evaluate, stage_comps, should_stop=should_stop, deadline=deadline, on_record=on_record,
                                max_generations=options.generations)
                if cut is not None:
                    break
            if cut is not None or plan.final:
                break
            plan.end_round(evolutions)
        if stage == REFERENCE:  # cut short on the reference note: the results are scored on every note all the same
            found = copy.deepcopy(evolutions)
            switch(found, plan.survivors, objectives, evaluator, comps)
    finally:
        evaluator.close()
        if signals is not None:
            signals.__exit__(None, None, None)
    interrupted = signals.received if signals is not None else None
    if cut == "interrupted" and interrupted is None:
        interrupted = 2
    if all(ev.best_genome is None for ev in found.values()):
        raise EvolutionError("the match stopped before any evaluation; give it a larger budget or more time")

    evaluations = sum(ev.evaluations for ev in found.values())
    seconds = time.monotonic() - t0
    best_name = min((n for n in names if found[n].best_genome is not None),
                    key=lambda n: (found[n].best_fitness, names.index(n)))
    stop_reason = cut or found[best_name].stop_reason
    picks = _top_candidates(found, names, max(outputs.top, 5))
    info = {
        "target": tgt.name if instrument else Path(target_path).name, "target_sha256": getattr(tgt, "sha256", None),
        "budget": options.budget,
        "evaluations": evaluations, "seed": seed_entropy, "gascar_version": __version__,
        "created": datetime.now(timezone.utc).replace(microsecond=0).isoformat(), "seconds": round(seconds, 3),
    }
    presets = []
    for rank, (name, sid, genome, fit) in enumerate(picks, start=1):
        obj = objectives[name]
        comp = {k: float(np.asarray(v).reshape(-1)[0]) for k, v in comps(name, genome[None, :]).items()}
        judged = _judged(obj, genome, tgt)
        presets.append(_preset(obj, genome, dict(info, fitness=float(fit), components=comp, species=int(sid), rank=rank,
                                                 **judged)))
    best_name, best_sid, best_genome, best_fit = picks[0]
    result = MatchResult(
        preset=presets[0], fitness=float(best_fit), components=dict(presets[0].match.get("components", {})),
        synth=best_name, genome=best_genome, others=presets[1:],
        standings={n: float(found[n].best_fitness) for n in names if found[n].best_genome is not None},
        history=history, evaluations=evaluations, seconds=seconds, seed=seed_entropy, stop_reason=stop_reason,
        interrupted=interrupted, target_path=target_path, outputs=outputs,
        analysis=tgt.summary() if hasattr(tgt, "summary") else {}, options=options,
        starts=_starts_line(starts, tgt, options.analysis_starts, left_out),
    )
    if outputs.preset is not None or outputs.render is not None:
        result.files, written_to, failure = _write_or_fall_back(result, picks, objectives, outputs, ck_path)
        if failure is not None:
            result.output_error = f"{failure}; saved in {written_to.preset.parent} instead"
            result.outputs = outputs = written_to
            ck_path = ck_path if ck_path is None or _folder_takes_files(ck_path) else None
    if ck_path is not None or interrupted is not None:
        result.checkpoint = saver.save(ck_path if ck_path is not None else outputs.checkpoint_path())
    reporter.end(result.summary())
    return result


def _folder_takes_files(path: Path) -> bool:
    try:
        check_writable(path)
    except OutputError:
        return False
    return True


def _write_or_fall_back(result, picks, objectives, outputs: MatchOutputs, checkpoint: Path | None):
    """Write the results where asked; if that fails at the end of a search, beside the checkpoint or in the
    current folder (the search is never lost to a full disk or a folder that went away).

    Returns
    -------
    files : list of Path
    outputs : MatchOutputs
        Where they went.
    failure : OutputError or None
        Why they are not where asked.
    """
    try:
        return write_results(result, picks, objectives, outputs), outputs, None
    except OutputError as exc:
        if outputs.preset is None:
            raise
        failure = exc
    folders = ([checkpoint.parent] if checkpoint is not None else []) + [Path.cwd(), Path(tempfile.gettempdir())]
    for folder in folders:
        alt = outputs.moved_to(folder / outputs.preset.name)
        if alt.preset.resolve() == outputs.preset.resolve():
            continue
        try:
            return write_results(result, picks, objectives, alt), alt, failure
        except OutputError:
            continue
    raise failure


def _judged(objective, genome: np.ndarray, target) -> dict:
    """``lsd_db`` and ``verdict`` of a genome's render against the target (:mod:`gascar.closeness`), if it has samples
    (an instrument's objective judges each note: its ``judged``).
    """
    from .closeness import judged_lsd_db, verdict

    own = getattr(objective, "judged", None)
    if own is not None:
        return own(genome)
    samples = getattr(target, "samples", None)
    if samples is None:
        return {}
    lsd = round(judged_lsd_db(samples, np.asarray(objective.render(genome[None, :]))[0], int(target.sample_rate)), 4)
    return {"lsd_db": lsd, "verdict": verdict(lsd)}


def _objectives(target, names: list[str], fitness_options: Mapping, *, auto: bool) -> tuple[dict, dict]:
    """Each synth's objective for ``target``; with ``auto``, a voice the target's analysis cannot build is left out.

    Returns
    -------
    objectives : dict of str to objective
    left_out : dict of str to str
        The voices left out of ``auto`` and why.

    Raises
    ------
    SynthError
        For a voice asked by name (not ``auto``) that the analysis cannot build.
    """
    objectives, left_out = {}, {}
    for name in names:
        try:
            objectives[name] = _make_objective(target, name, fitness_options)
        except SynthError as exc:
            from .synths import get_synth

            if not auto or len(names) == 1 or not get_synth(name).carries_data:
                raise
            left_out[name] = exc.reason or exc.message
    return objectives, left_out


def _starts_line(starts: dict, target, analysis: bool, left_out: Mapping[str, str]) -> str:
    """The summary's line on where the first populations began (when analysis-driven starts were asked), and on the
    voices ``auto`` left out because the target's analysis cannot build them ('' when there is neither).
    """
    parts = []
    if analysis:
        seeded = [name for name, g in starts.items() if g is not None]
        if seeded:
            parts.append(f"starts: from the target's analysis ({', '.join(seeded)}) and uniform random genomes")
        else:
            from .synths.starts import uniform_reason

            parts.append(f"starts: uniform random genomes ({uniform_reason(target) or 'no synth proposed one'})")
    if left_out:
        whys = sorted(set(left_out.values()))
        parts.append(f"left out of --synth auto: {', '.join(left_out)} (the target's analysis gives no voice: "
                     f"{'; '.join(whys)})")
    return "; ".join(parts)


def _preset(objective, genome: np.ndarray, info: dict):
    """The objective's preset for ``genome`` with the ``match`` block filled in."""
    for key in ("metric", "weights"):
        value = getattr(objective, key, None)
        if value is not None and key not in info:
            info[key] = value
    return objective.preset(genome, **info)


def _top_candidates(evolutions: dict[str, Evolution], names: list[str], k: int) -> list[tuple[str, int, np.ndarray, float]]:
    """Up to ``k`` good genomes that differ: species bests first, then far-apart hall-of-fame members.

    Returns
    -------
    list of (synth, species_id, genome (n_genes,), fitness), best first
    """
    cands = []
    for name in names:
        ev = evolutions[name]
        if ev.best_genome is None:
            continue
        cands.append((ev.best_fitness, names.index(name), 0, name, ev.best_species_id, ev.best_genome))
        for sid, g, f in ev.species_bests():
            cands.append((f, names.index(name), 1, name, sid, g))
        hg, hf = ev.hall_of_fame()
        for g, f in zip(hg, hf):
            cands.append((float(f), names.index(name), 2, name, -1, g))
    cands.sort(key=lambda c: (c[0], c[1], c[2]))
    picked: list[tuple[str, int, np.ndarray, float]] = []
    for kinds, strict in (({0, 1}, True), ({2}, True), ({0, 1, 2}, False)):
        for f, _, kind, name, sid, g in cands:
            if len(picked) >= k:
                break
            if kind in kinds and _differs(evolutions[name], name, g, picked, strict=strict):
                picked.append((name, sid, g, float(f)))
    return picked


def _differs(ev: Evolution, name: str, genome: np.ndarray, picked: list, *, strict: bool) -> bool:
    same = [g for n, _, g, _ in picked if n == name]
    if not same:
        return True
    if any(np.array_equal(genome, g) for g in same):
        return False
    if not strict:
        return True
    d = ev.species_distance(genome, np.stack(same))
    limit = 0.5 * (ev.species_threshold if ev.species_threshold is not None else 0.1)
    return bool(np.all(d > limit))
