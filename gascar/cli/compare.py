"""``gascar compare A B``: every fitness component and the total between two sounds."""

from __future__ import annotations

import json
from pathlib import Path

import click

from . import cli
from ._common import pitch_options, resolve_pitch


@cli.command("compare")
@click.argument("a", type=click.Path(path_type=Path), metavar="TARGET")
@click.argument("b", type=click.Path(path_type=Path), metavar="CANDIDATE")
@click.option("--weights", metavar="NAME=W,...", help="Component weights, e.g. stft=1,f0=0.5 (others keep their default).")
@pitch_options
@click.option("--max-duration", "max_duration_s", type=click.FloatRange(0.05, 600.0), default=4.0, show_default=True,
              metavar="S", help="Analysis window (s).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def compare_command(a, b, weights, f0_hz, note, max_duration_s, as_json) -> None:
    """Fitness of CANDIDATE against TARGET (two sound files): each component and the total.

    Lower is better; 0 means identical (after loudness normalisation). Then
    the judged log-spectral distance in dB and a verdict (near-identical,
    close, resembles, far).
    """
    from ..fitness import compare_files

    result = compare_files(a, b, weights=weights, f0_hz=resolve_pitch(f0_hz, note), max_duration_s=max_duration_s)
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    t = result["target"]
    pitch = f"f0 {t['f0_hz']:.1f} Hz ({t['note']}, {t['f0_source']})" if t["pitched"] else "unpitched"
    click.echo(f"target {a} ({t['duration_s']:.2f} s, {pitch}); candidate {b}")
    click.echo(f"{'component':<10} {'value':>8} {'weight':>7}")
    for name, value in result["components"].items():
        click.echo(f"{name:<10} {value:8.4f} {result['weights'][name]:7.3f}")
    click.echo(f"{'total':<10} {result['fitness']:8.4f}")
    from ..closeness import scale

    click.echo(f"{result['verdict']}: judged {result['lsd_db']:.1f} dB apart (log-spectral distance; {scale()})")
