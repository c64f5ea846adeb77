"""``gascar batch``: parse and validate the options, pack them, call :func:`gascar.batch.run_batch`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from . import cli
from ._common import aggregate_option, analysis_options, build_match_options, check_synth, engine_options, weights_option

#: Failed targets listed on stderr at the end (the rest are in summary.csv).
SHOW_FAILURES = 10


@cli.command("batch")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("-o", "--output", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path), metavar="OUTDIR",
              help="Output folder: <relative path>.preset.json and .render.wav per target, mirroring FOLDER, "
                   "plus summary.csv and summary.json.")
@click.option("--synth", default=None, callback=check_synth, metavar="NAME|auto",
              help="Synth to match with; auto (default) shares each target's budget between all synths.")
@click.option("--top", type=click.IntRange(1, 20), default=1, show_default=True,
              help="Write the N best presets per target that sound different.")
@click.option("--budget", type=click.IntRange(min=1), metavar="EVALS", help="Objective evaluations per target (default 30000).")
@click.option("--time", "time_limit_s", type=click.FloatRange(min=0, min_open=True), metavar="SECONDS",
              help="Stop each target after this wall time (results then depend on the machine's speed).")
@engine_options
@click.option("--seed", type=click.IntRange(min=0),
              help="Batch seed; each target's seed derives from it and the target's path (default: drawn, then kept in "
                   "summary.json for reruns).")
@click.option("-j", "--jobs", "n_jobs", type=int, default=None,
              help="Targets matched at once, one per worker process (default: all cores).")
@click.option("--scheduler", metavar="tcp://HOST:PORT",
              help="Run on an existing Dask distributed cluster (pip install 'gascar[cluster]'); workers must see "
                   "FOLDER and OUTDIR at the same paths.")
@click.option("--report", is_flag=True, help="Write an HTML report per target and OUTDIR/index.html.")
@click.option("--instruments", is_flag=True,
              help="FOLDER holds one folder per instrument: each folder's sound files are matched as the notes of one "
                   "instrument (as gascar match --notes), one preset per folder.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no summary.")
@weights_option
@analysis_options
@aggregate_option
@click.pass_context
def batch_command(ctx, folder, out_dir, synth, top, budget, time_limit_s, generations, population, engine, speciation, refine,
                  restart_after, target_fitness, patience, analysis_starts, seed, n_jobs, scheduler, report, instruments, quiet, weights,
                  unpitched, max_duration_s, aggregate, staged):
    """Match every sound file under FOLDER (recursively); write presets, renders and a summary to OUTDIR.

    With --instruments, match each folder directly under FOLDER as one
    instrument (its notes named like cello_C3_v100.wav) instead. Bad files are recorded in the summary and skipped. Rerunning skips
    finished targets and resumes interrupted ones. Exit code 0 when every
    target succeeded, 1 when some failed, 130 when interrupted.
    """
    from ..batch import BatchOptions, run_batch
    if (aggregate is not None or staged is not None) and not instruments:
        raise click.UsageError("--aggregate and --staged/--all-notes are for instruments; a batch of single files has none "
                               "(--instruments matches a folder per instrument)")
    if instruments and unpitched:
        raise click.UsageError("--unpitched applies to one file; every note of an instrument needs a pitch")
    if scheduler is not None and "://" not in scheduler:
        raise click.BadParameter(f"expected an address like tcp://host:8786, got {scheduler!r}", param_hint="--scheduler")
    if scheduler is not None and ctx.get_parameter_source("n_jobs") == click.core.ParameterSource.COMMANDLINE:
        raise click.UsageError("--jobs does not apply with --scheduler: the cluster's workers decide")
    options = BatchOptions(match=build_match_options(ctx.params), top=top, n_jobs=n_jobs, scheduler=scheduler, report=report,
                           progress=not quiet, instruments=instruments)
    result = run_batch(folder, out_dir, options)
    if not quiet:
        _summary(result, out_dir)
    failed = result.failed
    if failed:
        click.echo(f"gascar: {len(failed)} of {len(result.rows)} targets failed:", err=True)
        for r in failed[:SHOW_FAILURES]:
            click.echo(f"  {r['target']}: {r['error']}", err=True)
        if len(failed) > SHOW_FAILURES:
            click.echo(f"  ... and {len(failed) - SHOW_FAILURES} more (see {out_dir / 'summary.csv'})", err=True)
    if result.interrupted is not None:
        click.echo("gascar: batch interrupted; finished targets are kept, rerun the same command to continue", err=True)
    ctx.exit(result.exit_code)


def _summary(result, out_dir: Path) -> None:
    ok = result.count("ok")
    parts = [f"{ok} matched" + (f" ({result.reused} from an earlier run)" if result.reused else "")]
    if result.failed:
        parts.append(f"{len(result.failed)} failed")
    pending = result.count("pending") + result.count("interrupted")
    if pending:
        parts.append(f"{pending} not finished")
    click.echo(f"{len(result.rows)} targets: " + ", ".join(parts) + f"; {result.ignored} other files ignored; seed {result.seed}")
    verdicts: dict[str, int] = {}
    for r in result.rows:
        if r["status"] == "ok" and r.get("verdict"):
            verdicts[r["verdict"]] = verdicts.get(r["verdict"], 0) + 1
    if verdicts:
        from ..closeness import VERDICTS, scale

        click.echo("how close: " + ", ".join(f"{verdicts[w]} {w}" for w, _ in VERDICTS if w in verdicts)
                   + f" (judged log-spectral distance: {scale()})")
    click.echo(f"summary: {result.summary_csv}")
    if result.index is not None:
        click.echo(f"report: {result.index}")
    sys.stdout.flush()
