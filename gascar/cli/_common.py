"""Click helpers shared by the command modules, and the one place a command's options become a MatchOptions."""

from __future__ import annotations

import click

from ..errors import ParameterError
from ..pitch import note_to_hz


def pitch_options(f):
    """Add ``--f0 HZ`` and ``--note NAME`` (mutually exclusive) to a command."""
    f = click.option("--note", metavar="NAME", help="Pitch as a note name, e.g. C4 or F#3.")(f)
    f = click.option("--f0", "f0_hz", type=click.FloatRange(1.0, 20000.0), metavar="HZ", help="Pitch in Hz.")(f)
    return f


def resolve_pitch(f0_hz: float | None, note: str | None) -> float | None:
    """The pitch asked for by ``--f0`` / ``--note``, or ``None``."""
    if f0_hz is not None and note is not None:
        raise click.UsageError("give either --f0 or --note, not both")
    if note is not None:
        try:
            return note_to_hz(note)
        except ParameterError as exc:
            raise click.BadParameter(exc.message, param_hint="--note") from None
    return f0_hz


def _parse_weights(ctx, param, value):
    if value is None:
        return None
    from ..errors import FitnessError
    from ..fitness import parse_weights

    try:
        return parse_weights(value)
    except FitnessError as exc:
        raise click.BadParameter(exc.message, ctx=ctx, param=param) from None


def weights_option(f):
    """Add ``--weights NAME=W,...`` to a command: every component's weight (a dict), validated at parse time."""
    return click.option("--weights", metavar="NAME=W,...", callback=_parse_weights,
                        help="Fitness component weights, e.g. mel=0.5,f0=0 (others keep their default; "
                             "see gascar compare for the components).")(f)


def engine_options(f):
    """Add the evolution settings shared by ``match`` and ``batch`` (``--generations`` .. ``--analysis-starts``)."""
    opts = [
        click.option("--generations", type=click.IntRange(min=1), help="Most generations per synth."),
        click.option("--population", type=click.IntRange(min=4), help="Individuals per generation (default 48)."),
        click.option("--engine", type=click.Choice(["gascar", "ga"]), default=None,
                     help="gascar (default): GA, CMA-ES refinement, speciation on structured genomes; ga: plain GA."),
        click.option("--speciation/--no-speciation", default=None,
                     help="NEAT-style speciation (default: on for genomes with 3 or more choice or on/off genes: "
                          "the subtractive and modular synths)."),
        click.option("--refine/--no-refine", default=None,
                     help="CMA-ES refinement over the last part of the budget (default: on)."),
        click.option("--restart-after", "restart_after", type=click.IntRange(min=0), metavar="GENS",
                     help="Start the GA afresh (keeping the best) after GENS generations in which its best improved by "
                          "less than 1%; only with budget left for a full start (0: never; default 30)."),
        click.option("--target-fitness", type=click.FloatRange(min=0), metavar="F",
                     help="Stop a match once its best fitness reaches F."),
        click.option("--patience", type=click.IntRange(min=1), metavar="GENS",
                     help="Stop a match early after this many generations without improvement (default: use the whole budget)."),
        click.option("--analysis-starts", "analysis_starts", is_flag=True, default=None,
                     help="Start a quarter of each synth's first population from the target's spectral analysis "
                          "(envelope, rolloff, partials) instead of uniform random genes."),
    ]
    for o in reversed(opts):
        f = o(f)
    return f


def check_synth(ctx, param, value):
    """Click callback of ``--synth``: ``auto`` or a registered synth's name."""
    if value is None or value == "auto":
        return value
    from ..synths import list_synths

    names = list_synths()
    if value not in names:
        raise click.BadParameter(f"unknown synth {value!r}; choose auto or one of {', '.join(names)}")
    return value


#: Click parameters that are :class:`~gascar.matching.MatchOptions` fields of the same name. A new match option
#: is a field there, a click option of the same name on the commands that take it, and its name here.
OPTION_FIELDS = ("synth", "budget", "time_limit_s", "generations", "population", "engine", "speciation", "refine",
                 "restart_after", "target_fitness", "patience", "seed", "unpitched", "max_duration_s", "aggregate",
                 "analysis_starts", "staged")
#: The aggregates of an instrument match (gascar.instrument_objective.AGGREGATES; named here so --help imports no numpy).
AGGREGATES = ("mean", "max", "rms", "keys")


def analysis_options(f):
    """Add ``--unpitched`` and ``--max-duration S`` (what the analysis cannot guess) to a command."""
    f = click.option("--max-duration", "max_duration_s", type=click.FloatRange(0.05, 600.0), metavar="S",
                     help="Analysis window: use at most the first S seconds of each sound (default 4).")(f)
    f = click.option("--unpitched", is_flag=True, default=None,
                     help="The sound has no pitch (a drum, a noise): skip pitch detection, match the base frequency "
                          "as a parameter.")(f)
    return f


def _parse_velocities(ctx, param, values):
    """``--velocity FILE=VEL`` (repeatable) as a mapping of file name to MIDI velocity."""
    out: dict[str, int] = {}
    for spec in values or ():
        name, sep, value = str(spec).rpartition("=")
        if not sep or not name:
            raise click.BadParameter(f"{spec!r} must look like FILE=VELOCITY, e.g. piano_C4.wav=40", ctx=ctx, param=param)
        try:
            velocity = int(value)
        except ValueError:
            raise click.BadParameter(f"velocity of {name} must be a whole number 1 .. 127, got {value!r}", ctx=ctx,
                                     param=param) from None
        if not 1 <= velocity <= 127:
            raise click.BadParameter(f"velocity of {name} must be within 1 .. 127, got {velocity}", ctx=ctx, param=param)
        out[name] = velocity
    return out


def aggregate_option(f):
    """Add ``--aggregate`` (how an instrument match combines its notes' fitnesses) and ``--staged/--all-notes``."""
    f = click.option("--staged/--all-notes", "staged", default=None,
                     help="An instrument match searches the middle note alone until one synth is left, then every "
                          "note (default, given the budget room); --all-notes scores every note from the start.")(f)
    return click.option("--aggregate", type=click.Choice(AGGREGATES), default=None,
                        help="How an instrument match combines its notes' fitnesses: keys (default: the mean over the "
                             "keys from the lowest note to the highest), mean, max (the worst note) or rms.")(f)


def instrument_options(f):
    """Add ``--notes DIR``, ``--velocity FILE=VEL`` and ``--aggregate`` (an instrument match of several notes)."""
    f = aggregate_option(f)
    f = click.option("--velocity", "velocities", multiple=True, metavar="FILE=VEL", callback=_parse_velocities,
                     help="MIDI velocity (1-127) a note of an instrument was played at (repeat per file); default: "
                          "from the file's name (piano_C4_v40.wav), else 100.")(f)
    f = click.option("--notes", "notes_dir", type=click.Path(exists=True, file_okay=False), metavar="DIR",
                     help="Match the sound files in DIR as the notes of one instrument: one preset for all of them.")(f)
    return f


def build_match_options(params) -> object:
    """The :class:`~gascar.matching.MatchOptions` of a command's parsed parameters (``ctx.params``).

    Options left out (``None``) keep MatchOptions' defaults; ``--f0``/``--note`` become ``f0_hz``,
    ``--weights`` the fitness weights.
    """
    from ..matching import MatchOptions

    kwargs = {name: params[name] for name in OPTION_FIELDS if params.get(name) is not None}
    pitch = resolve_pitch(params.get("f0_hz"), params.get("note"))
    if pitch is not None:
        if params.get("unpitched"):
            raise click.UsageError("give either --f0/--note or --unpitched, not both")
        kwargs["f0_hz"] = pitch
    if params.get("weights") is not None:
        kwargs["fitness"] = {"weights": params["weights"]}
    return MatchOptions(**kwargs)
