"""``gascar render``: play presets to WAV files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import click

from ..audio import WRITE_SUBTYPES, write_audio
from . import cli
from ._common import pitch_options, resolve_pitch


@dataclass(frozen=True)
class RenderOptions:
    presets: tuple[Path, ...]
    output: Path | None
    f0_hz: float | None
    duration_s: float | None
    hold_s: float | None
    sample_rate: int | None
    subtype: str
    voice: int | None = None


def render_presets(opts: RenderOptions) -> list[Path]:
    """Render every preset; return the files written.

    One preset renders to ``output`` (a ``.wav`` path) or beside the preset;
    several render into the folder ``output`` (or beside each preset), one
    ``<stem>.wav`` each.
    """
    from ..export import load_preset

    single_file = len(opts.presets) == 1 and opts.output is not None and opts.output.suffix.lower() == ".wav"
    written = []
    for path in opts.presets:
        voice = opts.voice if path.suffix.lower() == ".syx" else None
        preset = load_preset(path, voice=voice).with_render(
            f0_hz=opts.f0_hz, duration_s=opts.duration_s, hold_s=opts.hold_s, sample_rate=opts.sample_rate
        )
        stem = path.name[: -len(".preset.json")] if path.name.endswith(".preset.json") else path.stem
        if voice is not None:
            stem += f".voice{voice}"
        if single_file:
            out = opts.output
        elif opts.output is not None:
            out = opts.output / f"{stem}.wav"
        else:
            out = path.with_name(f"{stem}.wav")
        written.append(write_audio(out, preset.render_audio(), preset.render.sample_rate, subtype=opts.subtype))
    return written


@cli.command("render")
@click.argument("presets", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="Output WAV (one preset) or folder (several). Default: beside each preset.")
@pitch_options
@click.option("--duration", "duration_s", type=click.FloatRange(0.001, 600.0), metavar="S", help="Length of the render in seconds.")
@click.option("--hold", "hold_s", type=click.FloatRange(0.0, 600.0), metavar="S", help="Note-off time in seconds.")
@click.option("--sample-rate", type=click.IntRange(8000, 192000), metavar="HZ", help="Sample rate of the render.")
@click.option("--subtype", type=click.Choice(WRITE_SUBTYPES), default="PCM_16", show_default=True, help="WAV sample format.")
@click.option("--voice", type=click.IntRange(1, 32), metavar="K", help="Voice K of DX7 .syx banks among PRESETS.")
@click.option("-q", "--quiet", is_flag=True, help="Do not list the files written.")
def render_command(presets, output, f0_hz, note, duration_s, hold_s, sample_rate, subtype, voice, quiet) -> None:
    """Render PRESETS (gascar preset JSON files, DX7 .syx voices and banks, or .vital files GASCAR wrote) to WAV.

    Render settings (pitch, duration, note-off, sample rate) come from each
    preset unless overridden here; a .syx file carries none, so it plays C4
    for 1.5 s at 22,050 Hz, held to the end, unless given here.
    """
    opts = RenderOptions(tuple(presets), output, resolve_pitch(f0_hz, note), duration_s, hold_s, sample_rate, subtype,
                         voice)
    for path in render_presets(opts):
        if not quiet:
            click.echo(str(path))
