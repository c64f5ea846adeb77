"""``gascar bench``: render speed, start-up time, evaluation throughput, batch throughput, match quality."""

from __future__ import annotations

from pathlib import Path

import click

from .. import fileio
from ..bench import report_text
from . import cli
from ._common import check_synth


def _emit(out_dir: Path | None, name: str, title: str, table: str) -> None:
    text = report_text(title, table)
    click.echo(text)
    if out_dir is not None:
        fileio.write_text(out_dir / f"{name}.md", text)


@cli.group("bench")
def bench_group() -> None:
    """Benchmarks (never timed tests): speed, throughput and match quality per budget."""


@bench_group.command("render")
@click.option("--synth", "synths", multiple=True, help="Synth(s) to measure (default: all).")
@click.option("--voices", default=256, show_default=True, type=click.IntRange(1, 100000), help="Batch size.")
@click.option("--repeats", default=5, show_default=True, type=click.IntRange(1, 100))
@click.option("-o", "--output", "out_dir", type=click.Path(path_type=Path), help="Also write the table to this folder.")
def bench_render_command(synths, voices, repeats, out_dir) -> None:
    """Voices per second per synth: 1 s voices at 22.05 kHz, one process."""
    from ..bench.render import bench_render, format_table

    rows = bench_render(synths=list(synths) or None, n_voices=voices, repeats=repeats)
    _emit(out_dir, "bench-render", "Render speed (`gascar bench render`)", format_table(rows))


@bench_group.command("startup")
@click.option("--repeats", default=7, show_default=True, type=click.IntRange(1, 100), help="Timed runs of each command.")
@click.option("-o", "--output", "out_dir", type=click.Path(path_type=Path), help="Also write the table to this folder.")
def bench_startup_command(repeats, out_dir) -> None:
    """Start-up time of gascar --help and gascar synths (fresh processes, median) and the heavy libraries they import."""
    from ..bench.startup import bench_startup, format_table

    rows = bench_startup(repeats=repeats)
    _emit(out_dir, "bench-startup", "Start-up time (`gascar bench startup`)", format_table(rows))


@bench_group.command("closeness")
@click.option("--presets", "presets_dir", type=click.Path(path_type=Path, file_okay=False), default=Path("presets"),
              show_default=True, help="Folder of presets (the same sound changed; pairs of one synth and of different synths).")
@click.option("--real-dir", type=click.Path(path_type=Path, file_okay=False), default=Path("targets"), show_default=True,
              help="Folder of real instrument notes (pairs of unrelated sounds).")
@click.option("-o", "--output", "out_dir", type=click.Path(path_type=Path), help="Also write the table and the pairs here.")
def bench_closeness_command(presets_dir, real_dir, out_dir) -> None:
    """The judged LSD of the same sound, two presets of one synth and unrelated sounds: the verdicts' thresholds."""
    from ..bench.closeness import bench_closeness, format_table

    rows = bench_closeness(out_dir, presets_dir, real_dir)
    _emit(out_dir, "bench-closeness", "What the judged distance means (`gascar bench closeness`)", format_table(rows))


@bench_group.command("playback")
@click.option("--synth", "synths", multiple=True, help="Synth(s) to measure (default: all).")
@click.option("--repeats", default=3, show_default=True, type=click.IntRange(1, 100))
@click.option("-o", "--output", "out_dir", type=click.Path(path_type=Path), help="Also write the table to this folder.")
def bench_playback_command(synths, repeats, out_dir) -> None:
    """Seconds per synth, on one CPU: SFZ export with the defaults, and a 30 s 4-voice MIDI phrase at 44.1 kHz."""
    from ..bench.playback import bench_playback, format_table

    rows = bench_playback(synths=list(synths) or None, repeats=repeats)
    _emit(out_dir, "bench-playback", "SFZ export and MIDI playback speed (`gascar bench playback`)", format_table(rows))


@bench_group.command("fitness")
@click.option("--synth", "synths", multiple=True, help="Synth(s) to measure (default: all).")
@click.option("--jobs", "n_jobs_list", multiple=True, type=click.IntRange(1, 256), help="Job counts (default: 1 and 2).")
@click.option("--repeats", default=5, show_default=True, type=click.IntRange(1, 100))
@click.option("-o", "--output", "out_dir", type=click.Path(path_type=Path), help="Also write the table to this folder.")
def bench_fitness_command(synths, n_jobs_list, repeats, out_dir) -> None:
    """Evaluations per second (render + features + distance), 1 s targets, by job count."""
    from ..bench.fitness import bench_fitness, format_table

    rows = bench_fitness(synths=list(synths) or None, n_jobs_list=tuple(n_jobs_list) or (1, 2), repeats=repeats)
    _emit(out_dir, "bench-fitness", "Evaluation throughput (`gascar bench fitness`)", format_table(rows))


@bench_group.command("batch")
@click.option("-o", "--output", "out_dir", type=click.Path(path_type=Path), help="Also write the table to this folder.")
@click.option("--quick", is_flag=True, help="Fewer, smaller targets.")
def bench_batch_command(out_dir, quick) -> None:
    """Batch throughput (targets per minute) with 1 and 2 workers."""
    from ..bench.batch import bench_batch, format_table

    rows = bench_batch(quick=quick)
    _emit(out_dir, "bench-batch", "Batch throughput (`gascar bench batch`)", format_table(rows))


def _match_config(out_dir, suites, methods, budgets, seeds, synths, per_synth, real_dir, real_synth, jobs, quick,
                  real_budgets=(), target_seed=0):
    from ..bench.match import DEFAULT_METHODS, BenchConfig
    from ..evolve.parallel import resolve_jobs

    if quick:
        cfg = BenchConfig(out_dir=out_dir, budgets=(1000,), seeds=1, per_synth=1, ablation_budgets=(1000,), real_budgets=None)
    else:
        cfg = BenchConfig(out_dir=out_dir)
    cfg.suites = tuple(suites) or cfg.suites
    cfg.methods = tuple(methods) or DEFAULT_METHODS
    cfg.budgets = tuple(budgets) or cfg.budgets
    cfg.seeds = seeds or cfg.seeds
    cfg.synths = tuple(synths)
    cfg.per_synth = per_synth or cfg.per_synth
    cfg.real_dir = real_dir
    cfg.real_synth = real_synth
    cfg.n_jobs = resolve_jobs(jobs)
    cfg.target_seed = target_seed
    if budgets and not quick:
        cfg.ablation_budgets = tuple(b for b in cfg.ablation_budgets if b in budgets) or (max(budgets),)
        if cfg.real_budgets is not None:
            cfg.real_budgets = tuple(b for b in cfg.real_budgets if b in budgets) or None
    if real_budgets:
        cfg.real_budgets = tuple(real_budgets)
    return cfg


#: ``--target-seed``, shared by ``bench match`` (and so ``bench all``) and ``bench defaults``.
target_seed_option = click.option(
    "--target-seed", type=click.IntRange(0, 2**31 - 1), default=0, show_default=True,
    help="Seed of the in-domain targets: 0 is the benchmark's; another gives held-out sounds (named <synth>-s<seed>-NN) "
         "to check a change on before measuring it on the benchmark's own.")


def _canonical_weights(ctx, param, value):
    """``--weights`` of the benchmarks: validated, then every component's weight spelt out (so runs record what they used)."""
    if value is None:
        return None
    from ..errors import FitnessError
    from ..fitness import parse_weights

    try:
        return ",".join(f"{k}={v:g}" for k, v in parse_weights(value).items())
    except FitnessError as e:
        raise click.BadParameter(str(e)) from None


#: ``--weights``, shared by ``bench match`` and ``bench basin``.
weights_option = click.option(
    "--weights", metavar="NAME=W,...", callback=_canonical_weights,
    help="Fitness weights of the searches (as gascar match --weights; others keep their default). The judge is unchanged; "
         "runs are kept apart from the default weights' in the runs file.")


def match_options(f):
    """Options of ``gascar bench match`` (shared with ``bench all``)."""
    from ..bench.match import ALL_METHODS

    opts = [
        click.option("--suite", "suites", multiple=True, type=click.Choice(["indomain", "musical", "real"]),
                     help="Suites (default: all; musical: sounds from a synth's musical prior, dx7 only)."),
        click.option("--method", "methods", multiple=True, type=click.Choice(ALL_METHODS), help="Methods (default: all available)."),
        click.option("--budget", "budgets", multiple=True, type=click.IntRange(10, 10**7), help="Evaluation budgets (default: 1000, 5000, 20000)."),
        click.option("--seeds", type=click.IntRange(1, 100), help="Seeds per method, target and budget (default 3)."),
        click.option("--synth", "synths", multiple=True, help="Synths of the in-domain suite (default: all)."),
        click.option("--per-synth", type=click.IntRange(1, 1000), help="In-domain targets per synth (default 4)."),
        target_seed_option,
        click.option("--real-dir", type=click.Path(path_type=Path, file_okay=False), default=Path("targets"), show_default=True,
                     help="Folder of the real suite."),
        click.option("--real-synth", default="subtractive", show_default=True, help="Synth every method matches to real targets."),
        click.option("--real-budget", "real_budgets", multiple=True, type=click.IntRange(10, 10**7),
                     help="Budgets at which the real suite runs (default: 1000 and 5000; the largest budget is for in-domain recovery)."),
        click.option("--jobs", type=click.IntRange(1, 256), help="Runs in parallel (default: all cores)."),
        click.option("--quick", is_flag=True, help="One seed, one target per synth, budget 1000: a few minutes."),
    ]
    for o in reversed(opts):
        f = o(f)
    return f


@bench_group.command("match")
@match_options
@weights_option
@click.option("-o", "--output", "out_dir", type=click.Path(path_type=Path), default=Path("bench-out"), show_default=True,
              help="Folder for runs.jsonl, the table, the JSON and the plot (reused to resume).")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@click.option("--readme", "readme", type=click.Path(path_type=Path, dir_okay=False), metavar="[FILE]",
              is_flag=False, flag_value=Path("docs/benchmarks.md"),
              help="Also rewrite the benchmark block of FILE (between its gascar bench match markers) with the tables; "
                   "--readme alone rewrites docs/benchmarks.md.")
def bench_match_command(suites, methods, budgets, seeds, synths, per_synth, target_seed, real_dir, real_synth, real_budgets, jobs,
                        quick, out_dir, quiet, readme=None, weights=None) -> None:
    """Match quality per evaluation budget: every method on the same objective, judged fairly.

    Resumes from OUTPUT/runs.jsonl when interrupted.
    """
    from ..bench.match import run_bench

    cfg = _match_config(out_dir, suites, methods, budgets, seeds, synths, per_synth, real_dir, real_synth, jobs, quick,
                        real_budgets, target_seed)
    cfg.weights = weights
    run_bench(cfg, progress=not quiet, readme=readme)
    if readme is not None:
        click.echo(f"rewrote the benchmark block of {readme}")
    table = (out_dir / "bench-match.md").read_text(encoding="utf-8")
    _emit(out_dir, "bench-match-report", "Match quality per budget (`gascar bench match`)", table)
    click.echo(f"runs: {out_dir / 'runs.jsonl'}; plot: {out_dir / 'convergence.png'}")


@bench_group.command("defaults")
@click.option("--synth", "synths", multiple=True, help="Synths that make the in-domain targets (default: the synths --synth auto tries).")
@click.option("--per-synth", default=4, show_default=True, type=click.IntRange(1, 1000), help="In-domain targets per synth.")
@click.option("--seeds", default=3, show_default=True, type=click.IntRange(1, 100), help="Seeds per target.")
@click.option("--budget", "budgets", multiple=True, type=click.IntRange(10, 10**7),
              help="Override the default budget (quick checks; with --real-dir, several give a quality-against-time curve).")
@target_seed_option
@click.option("--real-dir", type=click.Path(path_type=Path, file_okay=False, exists=True),
              help="Match the sound files of this folder (real notes) instead of in-domain sounds.")
@click.option("--analysis-starts", "analysis_starts", is_flag=True,
              help="With --real-dir: match with --analysis-starts (recorded apart from the default matches).")
@click.option("--match-synth", "match_synth", callback=check_synth,
              help="With --real-dir: match with --synth NAME (recorded apart from the default matches).")
@click.option("--jobs", type=click.IntRange(1, 256), help="Workers of each match (default: all cores).")
@click.option("-o", "--output", "out_dir", type=click.Path(path_type=Path), default=Path("bench-out"), show_default=True,
              help="Folder for defaults-runs.jsonl and the table (reused to resume; in-domain targets shared with bench match).")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
def bench_defaults_command(synths, per_synth, seeds, budgets, target_seed, real_dir, analysis_starts, match_synth, jobs,
                           out_dir, quiet) -> None:
    """What `gascar match TARGET --seed S` with its defaults recovers of sounds GASCAR's synths made (or of real notes).

    The synth that made a target is not told to the match (--synth auto).
    Resumes from OUTPUT/defaults-runs.jsonl (defaults-real-runs.jsonl) when interrupted.
    """
    from ..bench.defaults import bench_defaults

    if len(budgets) > 1 and real_dir is None:
        raise click.BadParameter("several budgets go with --real-dir only", param_hint="--budget")
    if (analysis_starts or match_synth) and real_dir is None:
        raise click.UsageError("--analysis-starts and --match-synth go with --real-dir only")
    bench_defaults(out_dir, synths=list(synths) or None, per_synth=per_synth, seeds=seeds,
                   budget=budgets[0] if budgets else None, n_jobs=jobs, target_seed=target_seed, progress=not quiet,
                   real_dir=real_dir, budgets=tuple(budgets), analysis_starts=analysis_starts, match_synth=match_synth)
    name = "bench-defaults-real.md" if real_dir is not None else "bench-defaults.md"
    if real_dir is not None:
        from ..bench.defaults import variant_name

        variant = variant_name(analysis_starts, match_synth)
        name = f"bench-defaults-real-{variant}.md" if variant else name
    click.echo((out_dir / name).read_text(encoding="utf-8"))  # written with the machine line


@bench_group.command("heldout")
@click.option("-o", "--output", "out_dir", type=click.Path(path_type=Path, file_okay=False), default=Path("heldout"),
              show_default=True, help="Folder for the notes (files already there are kept).")
@click.option("--soundfont", type=click.Path(path_type=Path, dir_okay=False),
              help="The FluidR3 GM soundfont (default: where Debian's fluid-soundfont-gm puts it).")
@click.option("--instruments", is_flag=True,
              help="Render the held-out instruments instead (a folder each, five notes across its range, for gascar "
                   "bench instrument OUTPUT).")
def bench_heldout_command(out_dir, soundfont, instruments) -> None:
    """Render the held-out real notes (FluidR3 GM through fluidsynth): notes no change is tuned on.

    Measure with them only: gascar bench defaults --real-dir OUTPUT, gascar bench match --suite real --real-dir OUTPUT;
    with --instruments, gascar bench instrument OUTPUT.
    """
    from ..bench.heldout import DEFAULT_SOUNDFONT, render_heldout, render_heldout_instruments

    if instruments:
        folders = render_heldout_instruments(out_dir, soundfont=soundfont or DEFAULT_SOUNDFONT)
        click.echo(f"{len(folders)} held-out instruments in {out_dir}")
        return
    paths = render_heldout(out_dir, soundfont=soundfont or DEFAULT_SOUNDFONT)
    click.echo(f"{len(paths)} held-out notes in {out_dir}")


@bench_group.command("basin")
@click.option("--synth", "synths", multiple=True, help="Synths that make the in-domain targets (default: all).")
@click.option("--per-synth", default=4, show_default=True, type=click.IntRange(1, 1000), help="In-domain targets per synth.")
@click.option("--sigma", "sigmas", multiple=True, type=click.FloatRange(0.0, 0.5),
              help="Disturbance of the answer's genes, standard deviation in gene units (default: 0.01, 0.03, 0.1).")
@click.option("--seeds", default=3, show_default=True, type=click.IntRange(1, 100), help="Disturbances per target and sigma.")
@click.option("--budget", type=click.IntRange(10, 10**7), help="Refinement evaluations per run (default: 3000).")
@target_seed_option
@click.option("--jobs", type=click.IntRange(1, 256), help="Runs in parallel (default: all cores).")
@click.option("-o", "--output", "out_dir", type=click.Path(path_type=Path), default=Path("bench-out"), show_default=True,
              help="Folder for basin-runs.jsonl and the table (reused to resume; in-domain targets shared with bench match).")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@click.option("--suite", "suites", multiple=True, type=click.Choice(["indomain", "musical"]),
              help="Targets from uniform random genomes (indomain) and/or a synth's musical prior (musical, dx7 only); "
                   "default both.")
@weights_option
def bench_basin_command(synths, per_synth, sigmas, seeds, budget, target_seed, jobs, out_dir, quiet, suites, weights=None) -> None:
    """How near its answer a search must land for refinement to finish it.

    Each in-domain target's own genes are disturbed (pitch genes kept) and
    the default engine's CMA-ES refinement runs from there; the table gives
    the judged distance before and after, and how often it came back
    near-perfect. Resumes from OUTPUT/basin-runs.jsonl when interrupted.
    """
    from ..bench.basin import DEFAULT_BUDGET, DEFAULT_SIGMAS, bench_basin

    bench_basin(out_dir, synths=list(synths) or None, per_synth=per_synth, sigmas=sigmas or DEFAULT_SIGMAS, seeds=seeds,
                budget=budget or DEFAULT_BUDGET, n_jobs=jobs, target_seed=target_seed, progress=not quiet,
                suites=tuple(suites) or ("indomain", "musical"), weights=weights)
    click.echo((out_dir / "bench-basin.md").read_text(encoding="utf-8"))  # written with the machine line


@bench_group.command("instrument")
@click.argument("instruments_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--synth", default="auto", show_default=True, help="Synth of both matches.")
@click.option("--budget", default=3000, show_default=True, type=click.IntRange(10, 10**7), help="Evaluations of each match.")
@click.option("--seeds", default=1, show_default=True, type=click.IntRange(1, 100), help="Seeds per instrument and method.")
@click.option("--only", "names", multiple=True, help="Only this instrument folder (repeat).")
@click.option("--method", "methods", multiple=True, type=click.Choice(["staged", "all notes", "middle note"]),
              help="Which matches (repeat; default: staged and middle note; 'all notes': the instrument match scoring "
                   "every note from the start).")
@click.option("--jobs", type=click.IntRange(1, 256), help="Workers of each match (default: all cores).")
@click.option("-o", "--output", "out_dir", type=click.Path(path_type=Path), default=Path("bench-out"), show_default=True,
              help="Folder for instrument-runs.jsonl and the table (reused to resume).")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
def bench_instrument_command(instruments_dir, synth, budget, seeds, names, methods, jobs, out_dir, quiet) -> None:
    """Instrument matches judged on notes they never heard, against a match of the middle note alone.

    INSTRUMENTS_DIR holds a folder per instrument (notes named like
    cello_C3_v100.wav). The lowest, middle and highest notes (and softer
    layers) are matched; the others are held out. Resumes from
    OUTPUT/instrument-runs.jsonl when interrupted.
    """
    from ..bench.instrument import DEFAULT_METHODS, bench_instrument

    bench_instrument(out_dir, instruments_dir, synth=synth, budget=budget, seeds=seeds, names=list(names) or None,
                     n_jobs=jobs, progress=not quiet, methods=tuple(methods) or DEFAULT_METHODS)
    click.echo((out_dir / "bench-instrument.md").read_text(encoding="utf-8"))  # written with the machine line


@bench_group.command("all")
@match_options
@click.option("-o", "--output", "out_dir", type=click.Path(path_type=Path), default=Path("bench-out"), show_default=True)
@click.pass_context
def bench_all_command(ctx, suites, methods, budgets, seeds, synths, per_synth, target_seed, real_dir, real_synth, real_budgets, jobs,
                      quick, out_dir) -> None:
    """Every benchmark, in order: render, playback, start-up, fitness, batch, match, defaults, basin, closeness."""
    repeats = 3 if quick else 5
    ctx.invoke(bench_render_command, synths=(), voices=256, repeats=repeats, out_dir=out_dir)
    ctx.invoke(bench_playback_command, synths=(), repeats=3, out_dir=out_dir)
    ctx.invoke(bench_startup_command, repeats=repeats, out_dir=out_dir)
    ctx.invoke(bench_fitness_command, synths=(), n_jobs_list=(), repeats=repeats, out_dir=out_dir)
    ctx.invoke(bench_batch_command, out_dir=out_dir, quick=quick)
    ctx.invoke(bench_match_command, suites=suites, methods=methods, budgets=budgets, seeds=seeds, synths=synths,
               per_synth=per_synth, target_seed=target_seed, real_dir=real_dir, real_synth=real_synth, real_budgets=real_budgets,
               jobs=jobs, quick=quick, out_dir=out_dir, quiet=False)
    cfg = _match_config(out_dir, suites, methods, budgets, seeds, synths, per_synth, real_dir, real_synth, jobs, quick)
    ctx.invoke(bench_defaults_command, synths=synths, per_synth=cfg.per_synth, seeds=cfg.seeds,
               budgets=(1000,) if quick else (), target_seed=target_seed, real_dir=None, analysis_starts=False, match_synth=None,
               jobs=None, out_dir=out_dir,
               quiet=False)
    ctx.invoke(bench_basin_command, synths=synths, per_synth=cfg.per_synth, sigmas=(), seeds=cfg.seeds,
               budget=300 if quick else None, target_seed=target_seed, jobs=jobs, out_dir=out_dir, quiet=False)
    ctx.invoke(bench_closeness_command, presets_dir=Path("presets"), real_dir=real_dir, out_dir=out_dir)
