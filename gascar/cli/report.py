"""``gascar report``: rebuild HTML reports from saved results, without re-running anything."""

from __future__ import annotations

from pathlib import Path

import click

from . import cli


@cli.command("report")
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
@click.pass_context
def report_command(ctx, run_dir, quiet):
    """Rebuild the HTML reports of RUN_DIR (a gascar batch output folder, or gascar match --report results).

    Rewrites every <name>.report.html with its figures and, for a batch,
    index.html, from the presets, renders and histories saved there.
    Exit code 1 when some pages could not be written.
    """
    from ..report import rebuild_reports

    pages, index, errors = rebuild_reports(run_dir)
    if not quiet:
        click.echo(f"wrote {len(pages)} report pages" + (f"; index: {index}" if index is not None else ""))
    for err in errors:
        click.echo(f"gascar: error: {err}", err=True)
    ctx.exit(1 if errors else 0)
