"""``gascar render``: play presets to WAV files."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import click
import numpy as np

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
    midi: Path | None = None
    quiet: bool = False


def render_presets(opts: RenderOptions) -> list[Path]:
    """Render every preset; return the files written.

    One preset renders to ``output`` (a ``.wav`` path) or beside the preset;
    several render into the folder ``output`` (or beside each preset), one
    ``<stem>.wav`` each.
    """
    from ..export import load_preset

    if opts.midi is not None:
        return [render_midi(opts)]
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


#: Sample rate of a MIDI render unless --sample-rate says otherwise.
MIDI_SAMPLE_RATE = 44100
#: A MIDI file this long or longer (s) shows a progress bar.
LONG_MIDI_S = 30.0
#: Peak (-1 dBFS) a MIDI mix louder than full scale is scaled to.
MIX_PEAK = 10 ** (-1 / 20)


def render_midi(opts: RenderOptions) -> Path:
    """Play the MIDI file ``opts.midi`` with the one preset; write ``output`` or ``<preset stem>.<midi stem>.wav`` beside the preset."""
    from ..export import load_preset
    from ..midi import read_midi
    from ..playback import play_notes

    (path,) = opts.presets
    preset = load_preset(path, voice=opts.voice if path.suffix.lower() == ".syx" else None)
    notes = read_midi(opts.midi)
    sample_rate = opts.sample_rate or MIDI_SAMPLE_RATE
    stem = path.name[: -len(".preset.json")] if path.name.endswith(".preset.json") else path.stem
    out = opts.output if opts.output is not None else path.with_name(f"{stem}.{opts.midi.stem}.wav")
    if opts.output is not None and out.is_dir():
        out = out / f"{stem}.{opts.midi.stem}.wav"
    bar = None
    if not opts.quiet and max(n.end_s for n in notes) >= LONG_MIDI_S:
        from tqdm import tqdm

        bar = tqdm(total=1, unit="render", desc=opts.midi.name, file=sys.stderr, dynamic_ncols=True, leave=False)

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    try:
        audio = play_notes(preset, notes, sample_rate=sample_rate, progress=progress if bar is not None else None)
    finally:
        if bar is not None:
            bar.close()
    peak = float(np.max(np.abs(audio)))
    if peak > 1.0:  # chords add up: fit the mix under full scale, as a mixing desk would
        audio *= np.float32(MIX_PEAK / peak)
    return write_audio(out, audio, sample_rate, subtype=opts.subtype)


@cli.command("render")
@click.argument("presets", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="Output WAV (one preset) or folder (several). Default: beside each preset.")
@pitch_options
@click.option("--duration", "duration_s", type=click.FloatRange(0.001, 600.0), metavar="S", help="Length of the render in seconds.")
@click.option("--hold", "hold_s", type=click.FloatRange(0.0, 600.0), metavar="S", help="Note-off time in seconds.")
@click.option("--sample-rate", type=click.IntRange(8000, 192000), metavar="HZ",
              help="Sample rate of the render. Default: a note at the preset's own rate (its analysis rate, usually "
                   "22,050 Hz); --midi at 44,100 Hz.")
@click.option("--midi", type=click.Path(path_type=Path, dir_okay=False), metavar="FILE.mid",
              help="Play this MIDI file with the preset (one preset): every note at its pitch and velocity, note-offs "
                   "starting the release, tempo changes honoured; a mix louder than full scale is scaled to peak at "
                   "-1 dBFS. Writes <preset stem>.<midi stem>.wav beside the preset unless -o.")
@click.option("--subtype", type=click.Choice(WRITE_SUBTYPES), default="PCM_16", show_default=True, help="WAV sample format.")
@click.option("--voice", type=click.IntRange(1, 32), metavar="K", help="Voice K of DX7 .syx banks among PRESETS.")
@click.option("-q", "--quiet", is_flag=True, help="Do not list the files written.")
def render_command(presets, output, f0_hz, note, duration_s, hold_s, sample_rate, subtype, midi, voice, quiet) -> None:
    """Render PRESETS (gascar preset JSON files, DX7 .syx voices and banks, or .vital files GASCAR wrote) to WAV.

    Render settings (pitch, duration, note-off, sample rate) come from each
    preset unless overridden here; a .syx file carries none, so it plays C4
    for 1.5 s at 22,050 Hz, held to the end, unless given here. With --midi
    the preset plays a MIDI file instead, at 44,100 Hz unless --sample-rate.
    Writes 16-bit WAV unless --subtype.
    """
    if midi is not None:
        if len(presets) != 1:
            raise click.UsageError("--midi plays one preset; give exactly one PRESET")
        given = [flag for flag, v in (("--f0", f0_hz), ("--note", note), ("--duration", duration_s), ("--hold", hold_s))
                 if v is not None]
        if given:
            raise click.UsageError(f"the MIDI file sets pitch, length and note-offs; drop {', '.join(given)}")
    opts = RenderOptions(tuple(presets), output, resolve_pitch(f0_hz, note), duration_s, hold_s, sample_rate, subtype,
                         voice, midi, quiet)
    for path in render_presets(opts):
        if not quiet:
            click.echo(str(path))
