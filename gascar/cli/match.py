"""``gascar match``: parse and validate the options, pack them, call :func:`gascar.matching.match`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from . import cli
from ._common import (
    OPTION_FIELDS,
    analysis_options,
    build_match_options,
    check_synth,
    engine_options,
    instrument_options,
    pitch_options,
    weights_option,
)

_RUN_OPTIONS = (*OPTION_FIELDS, "f0_hz", "note", "weights", "velocities", "notes_dir")


@cli.command("match")
@click.argument("targets", nargs=-1, type=click.Path(exists=True))
@click.option("-o", "--output", type=click.Path(dir_okay=False), metavar="PRESET.json",
              help="Best preset. Default: <target stem>.preset.json in the current folder; "
                   "with --top N the k-th best goes to <stem>.<k>.preset.json.")
@click.option("--render", "render_path", type=click.Path(dir_okay=False), metavar="OUT.wav",
              help="Render of the best preset. Default: <stem>.render.wav beside the preset.")
@click.option("--no-render", is_flag=True, help="Write no render.")
@click.option("--synth", default=None, callback=check_synth, metavar="NAME|auto",
              help="Synth to match with; auto (default) shares the budget between all synths by successive halving.")
@click.option("--top", type=click.IntRange(1, 20), default=1, show_default=True,
              help="Write the N best presets that sound different (bests of different species), each with its render.")
@click.option("--budget", type=click.IntRange(min=1), metavar="EVALS",
              help="Objective evaluations, all synths together (default 30000); --synth vital alone: 1200; with "
                   "--resume, a new total.")
@click.option("--time", "time_limit_s", type=click.FloatRange(min=0, min_open=True), metavar="SECONDS",
              help="Stop after this wall time (the result then depends on the machine's speed); with --resume, "
                   "the continuation's.")
@engine_options
@click.option("--seed", type=click.IntRange(min=0), help="Random seed: the same seed gives the same preset, whatever --jobs is.")
@click.option("-j", "--jobs", "n_jobs", type=int, default=None, help="Worker processes (default: all cores).")
@click.option("--checkpoint", type=click.Path(dir_okay=False), metavar="PATH",
              help="Save the run here every few generations and at exit (an interrupted run always saves <stem>.ckpt).")
@click.option("--resume", type=click.Path(exists=True, dir_okay=False), metavar="PATH",
              help="Continue a checkpointed match (no TARGET; its settings come from the checkpoint, except --budget and "
                   "--time). With -o every file of the continuation goes beside the new preset.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no summary.")
@click.option("--log", "log_path", type=click.Path(dir_okay=False), metavar="FILE", help="Write one JSON line per generation.")
@click.option("--report", is_flag=True,
              help="Also write <stem>.report.html beside the preset: spectrograms, envelopes, fitness per generation, "
                   "parameters and players for target and match.")
@click.option("--export", "export_formats", multiple=True, type=click.Choice(["sfz"]),
              help="Also export each preset written: sfz, an SFZ instrument in <stem>-sfz/ beside the preset "
                   "(see gascar export).")
@weights_option
@pitch_options
@analysis_options
@instrument_options
@click.pass_context
def match_command(ctx, targets, output, render_path, no_render, synth, top, budget, time_limit_s, generations, population,
                  engine, speciation, refine, restart_after, target_fitness, patience, analysis_starts, seed, n_jobs, checkpoint, resume, quiet,
                  log_path, report, export_formats, weights, f0_hz, note, unpitched, max_duration_s, notes_dir, velocities,
                  aggregate, staged):
    """Evolve a preset that sounds like TARGET; write it with its render.

    The target's pitch is detected; --f0 or --note overrides the detector.
    Several TARGETs (or --notes DIR) are the notes of one instrument: one
    preset is matched to all of them, each note at its own pitch and
    velocity (a name like cello_C3_v100.wav gives both).
    Interrupt with Ctrl-C to keep the best preset so far and a checkpoint
    (exit code 130; 143 for SIGTERM); continue with --resume.
    """
    from ..evolve.reporting import JsonLinesLog, ProgressBar, Reporters
    from ..matching import MatchOutputs, default_outputs, match

    for t in targets:
        if Path(t).is_dir():
            from ..errors import GascarError

            raise GascarError(f"is a folder; to match every file in it use gascar batch {t} -o OUT, or to match its files "
                              f"as the notes of one instrument gascar match --notes {t}", path=t)
    files = list(targets)
    if notes_dir is not None:
        if files:
            raise click.UsageError("give either sound files or --notes DIR, not both")
        from ..instrument import discover_notes

        files = [str(p) for p in discover_notes(notes_dir)]
    instrument = len(files) > 1
    if velocities and not instrument:
        raise click.UsageError("--velocity gives the velocity of a note of an instrument; give several files (or --notes DIR)")
    target = None
    if instrument:
        from ..instrument import instrument_name, note_files

        target = note_files(files, velocities)
        stem_path = instrument_name(target) + ".wav"
    elif files:
        target = stem_path = files[0]
    if no_render and render_path is not None:
        raise click.UsageError("give either --render or --no-render, not both")
    continuation = {}
    if resume is not None:
        from ..matching import RESUME_SETTINGS

        if target is not None or files:
            raise click.UsageError("with --resume the target comes from the checkpoint; leave TARGET (and --notes) out")
        given = [name for name in _RUN_OPTIONS
                 if ctx.get_parameter_source(name) == click.core.ParameterSource.COMMANDLINE]
        fixed = [n for n in given if n not in RESUME_SETTINGS]
        if fixed:
            special = {"time_limit_s": "--time", "f0_hz": "--f0", "max_duration_s": "--max-duration",
                       "velocities": "--velocity", "notes_dir": "--notes"}
            flags = ", ".join(special.get(n, "--" + n.replace("_", "-")) for n in fixed)
            raise click.UsageError(f"a resumed match keeps its checkpoint's settings (--budget, a new total, and --time, "
                                   f"for the continuation, may change); drop {flags}")
        continuation = {n: {"budget": budget, "time_limit_s": time_limit_s}[n] for n in given}
        options = None
        outputs = None
        changed = [n for n in ("output", "render_path", "no_render", "checkpoint", "top")
                   if ctx.get_parameter_source(n) == click.core.ParameterSource.COMMANDLINE]
        if changed:  # new output places for the resumed run: every file follows -o
            from ..evolve import load_checkpoint

            saved = load_checkpoint(resume, "match")["outputs"]
            base = saved.moved_to(Path(output)) if output else saved
            outputs = MatchOutputs(
                preset=base.preset,
                render=None if no_render else (Path(render_path) if render_path else base.render),
                top=top if "top" in changed else saved.top,
                checkpoint=Path(checkpoint) if checkpoint else base.checkpoint,
            )
    else:
        if target is None:
            raise click.UsageError("missing TARGET (a sound file; several, or --notes DIR, for an instrument), or --resume PATH")
        options = build_match_options(ctx.params)
        outputs = default_outputs(stem_path, preset=output, render=render_path, no_render=no_render, top=top,
                                  checkpoint=checkpoint)
    reporters = Reporters(None if quiet else ProgressBar(), JsonLinesLog(log_path) if log_path else None)
    try:
        result = match(target, options=options, outputs=outputs, n_jobs=n_jobs, reporter=reporters,
                       resume=resume, **continuation)
    finally:
        reporters.close()
    if result.output_error:
        click.echo(f"gascar: error: {result.output_error}", err=True)
    if report and result.interrupted is None:
        _write_report(result)
    if export_formats and result.interrupted is None:
        _export(result, export_formats)
    if not quiet:
        _summary(result)
    ctx.exit(result.exit_code)


def _write_report(result) -> None:
    from ..report import write_match_report

    outputs = result.outputs
    if outputs is None or outputs.preset is None:
        raise click.UsageError("--report needs a preset file (-o)")
    page = write_match_report(result, target_path=result.target_path, preset_path=outputs.preset_path(1),
                              render_path=outputs.render_path(1))
    result.files.append(page)


def _export(result, formats) -> None:
    from ..export.sfz import export_preset_file

    outputs = result.outputs
    if outputs is None or outputs.preset is None:
        raise click.UsageError("--export needs a preset file (-o)")
    written = {str(p) for p in result.files}
    for rank in range(1, outputs.top + 1):
        path = outputs.preset_path(rank)
        if str(path) in written and "sfz" in formats:
            result.files.append(export_preset_file(path).path)


def _notes_table(notes: list, result) -> None:
    """One line per note of an instrument match: the note, its velocity, its file, how close, how loud."""
    echo = click.echo
    from ..instrument_objective import AGGREGATE_WORDS

    agg = (result.preset.match or {}).get("aggregate", "mean")
    agg = AGGREGATE_WORDS.get(agg, agg)
    echo(f"{len(notes)} notes, one preset (fitness: the {agg} of the notes' plus their relative level; the preset plays "
         f"{notes[0]['note'] if len(notes) == 1 else 'each at its pitch'}; its file is written for the middle note):")
    width = max(len(n["target"]) for n in notes)
    for n in notes:
        echo(f"  {n['note']:>4} v{n['velocity']:<3} {n['target']:<{width}}  {n['verdict']:<14} judged {n['lsd_db']:5.1f} dB, "
             f"level {n['level_db']:+.1f} dB")


def _summary(result) -> None:
    echo = click.echo
    comps = ", ".join(f"{k} {v:.4g}" for k, v in result.components.items())
    status = "interrupted" if result.interrupted else result.stop_reason
    echo(f"best: {result.synth}, fitness {result.fitness:.4g}" + (f" ({comps})" if comps else ""))
    if result.lsd_db is not None:
        from ..closeness import scale

        echo(f"{result.verdict}: judged {result.lsd_db:.1f} dB from the target (log-spectral distance; {scale()})")
    gain_db = result.preset.render.gain_db if result.preset is not None else 0.0
    if gain_db:
        echo(f"level: output gain {gain_db:+.1f} dB in the preset plays it at the target's loudness"
             + ({"dx7": "; a .syx cannot carry it: raise Dexed's output by as much",
                 "vital": "; the .vital plays at the voice's own level: raise Vital's output by as much"}.get(result.synth, "")))
    notes = (result.preset.match or {}).get("notes") if result.preset is not None else None
    if notes:
        _notes_table(notes, result)
    pitch = "" if notes else result.pitch_advice()
    if pitch:
        echo(pitch)
    if result.starts:
        echo(result.starts)
    if result.synth == "dx7":
        from ..synths.dx7 import pitch_line

        echo(pitch_line(result.preset.render.f0_hz, result.analysis.get("f0_hz")))
    if result.synth == "vital":
        from ..synths.vital import pitch_line as vital_pitch_line

        echo(vital_pitch_line(result.preset.render.f0_hz))
    if len(result.standings) > 1:
        echo("synths: " + ", ".join(f"{k} {v:.4g}" for k, v in sorted(result.standings.items(), key=lambda kv: kv[1])))
    echo(f"{result.evaluations} evaluations in {result.seconds:.1f} s, seed {result.seed}, stopped: {status}")
    for p in result.files:
        echo(f"wrote {p}")
    if result.checkpoint is not None:
        echo(f"checkpoint {result.checkpoint}" + (f" (resume: gascar match --resume {result.checkpoint})" if result.interrupted else ""))
    sys.stdout.flush()
