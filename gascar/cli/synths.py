"""``gascar synths``: list the synths, or one synth's parameters."""

from __future__ import annotations

import json
import shutil
import textwrap

import click

from ..synths import get_synth, list_synths
from . import cli

#: A choice parameter whose choices are longer than this is listed under the table.
MAX_RANGE_WIDTH = 32
#: Width of those lists, and of the table when the output is not a terminal.
LIST_WIDTH = 100
#: Narrowest description column (descriptions wrap within it).
MIN_DESCRIPTION_WIDTH = 30


@cli.command("synths")
@click.argument("name", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
def synths_command(name: str | None, as_json: bool) -> None:
    """List the synths, or the parameters of synth NAME."""
    if name is None:
        rows = [get_synth(n) for n in list_synths()]
        if as_json:
            doc = [{"name": s.name, "version": s.version, "n_genes": s.n_genes, "description": s.description} for s in rows]
            click.echo(json.dumps(doc, indent=2))
            return
        width = max(len(s.name) for s in rows)
        for s in rows:
            click.echo(f"{s.name:<{width}}  {s.n_genes:>3} genes  {s.description}")
        return
    synth = get_synth(name)
    if as_json:
        doc = {"name": synth.name, "version": synth.version, "n_genes": synth.n_genes, "description": synth.description,
               "params": synth.params.describe(), "keyboard": synth.keyboard.describe()}
        click.echo(json.dumps(doc, indent=2))
        return
    width = shutil.get_terminal_size((LIST_WIDTH, 24)).columns - 1
    click.echo(textwrap.fill(f"{synth.name} (version {synth.version}, {synth.n_genes} genes): {synth.description}",
                             width=max(width, MIN_DESCRIPTION_WIDTH), subsequent_indent="  "))
    rows, long_choices = [], []
    for spec in [*synth.params, *synth.keyboard]:
        if spec.scale == "choice":
            rng = " | ".join(spec.choices)
            if len(rng) > MAX_RANGE_WIDTH:  # listed under the table, so the table stays narrow
                long_choices.append(spec)
                rng = f"{len(spec.choices)} choices, below"
        else:
            rng = f"{spec.low:g} .. {spec.high:g}"
        default = spec.to_json(spec.default_value())
        rows.append((spec.name, rng, spec.scale, spec.unit, f"{default:g}" if isinstance(default, float) else str(default), spec.description))
    head = ("parameter", "range", "scale", "unit", "default", "description")
    widths = [max(len(r[i]) for r in rows + [head]) for i in range(5)]
    click.echo("  ".join(h.ljust(w) for h, w in zip(head, widths)) + "  " + head[5])
    indent = sum(widths) + 2 * len(widths)
    desc_width = max(MIN_DESCRIPTION_WIDTH, width - indent)
    for r in rows:
        lines = textwrap.wrap(r[5], width=desc_width) or [""]
        click.echo("  ".join(c.ljust(w) for c, w in zip(r, widths)) + "  " + lines[0])
        for more in lines[1:]:
            click.echo(" " * indent + more)
    if len(synth.keyboard):
        click.echo("")
        click.echo(textwrap.fill(f"The last {len(synth.keyboard)} ({', '.join(synth.keyboard.names[:3])} ...) are keyboard "
                                 "parameters: how the sound changes across notes and velocities, neutral by default and "
                                 "matched only with several notes (gascar match --notes DIR).", width=max(width, MIN_DESCRIPTION_WIDTH)))
    for spec in long_choices:
        click.echo("")
        click.echo(textwrap.fill(" | ".join(spec.choices), width=LIST_WIDTH, initial_indent=f"{spec.name}: ",
                                 subsequent_indent=" " * (len(spec.name) + 2), break_on_hyphens=False))
