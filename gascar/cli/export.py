"""``gascar export``: write a preset in another program's format (a DX7 .syx voice, a Vital .vital preset, an SFZ instrument)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import click

from . import cli


@dataclass(frozen=True)
class ExportOptions:
    """What ``gascar export`` reads and writes: one preset, one path per format asked for."""

    preset: Path
    voice: int | None = None
    syx: Path | None = None
    bank: Path | None = None
    sfz: Path | None = None
    sfz_options: object | None = None  # gascar.export.sfz.SfzOptions
    vital: Path | None = None


def export_preset(opts: ExportOptions) -> list[Path]:
    """Read the preset (JSON, or a .syx voice) and write every format asked for; return the files written."""
    from ..export import load_preset

    preset = load_preset(opts.preset, voice=opts.voice)
    written = []
    if opts.syx is not None:
        from ..export import syx

        written.append(syx.write_voice(opts.syx, preset))
    if opts.bank is not None:
        from ..export import syx

        written.append(syx.write_bank(opts.bank, [preset]))
    if opts.vital is not None:
        from ..export import vital

        written.append(vital.write_preset(opts.vital, preset))
    if opts.sfz is not None:
        from ..export import sfz

        written.append(sfz.export_sfz(preset, opts.sfz, options=opts.sfz_options, name=sfz.file_stem(opts.preset),
                                      source=opts.preset.name).path)
    return written


def _key(ctx, param, value):
    if value is None:
        return None
    from ..errors import ParameterError
    from ..export.sfz import hz_to_key
    from ..pitch import note_to_hz

    text = str(value).strip()
    if text.isdigit():
        key = int(text)
    else:
        try:
            key = hz_to_key(note_to_hz(text))
        except ParameterError as exc:
            raise click.BadParameter(f"{exc.message}; or give a MIDI key number 0 .. 127", ctx=ctx, param=param) from None
    if not 0 <= key <= 127:
        raise click.BadParameter(f"MIDI key must be within 0 .. 127, got {key}", ctx=ctx, param=param)
    return key


@cli.command("export")
@click.argument("preset", type=click.Path(path_type=Path))
@click.option("--syx", type=click.Path(dir_okay=False, path_type=Path), metavar="OUT.syx",
              help="Write a dx7 preset as a DX7 single-voice sysex file (163 bytes) that Dexed and DX7s load.")
@click.option("--bank", type=click.Path(dir_okay=False, path_type=Path), metavar="OUT.syx",
              help="Write a dx7 preset as voice 1 of a 32-voice DX7 bank (4104 bytes), the file Dexed's cartridge "
                   "manager loads.")
@click.option("--vital", "vital_path", type=click.Path(dir_okay=False, path_type=Path), metavar="OUT.vital",
              help="Write a vital preset as a Vital preset file that Vital loads.")
@click.option("--voice", type=click.IntRange(1, 32), metavar="K", help="Voice K of a DX7 .syx bank given as PRESET.")
@click.option("--sfz", "sfz_dir", type=click.Path(path_type=Path, file_okay=False), metavar="OUTDIR",
              help="Write any preset as an SFZ instrument (OUTDIR/<name>.sfz and OUTDIR/samples/) that any sampler plays.")
@click.option("--low", "low_key", callback=_key, metavar="KEY",
              help="SFZ: lowest key, a note name (C1) or MIDI number. Default: two octaves below the preset's note.")
@click.option("--high", "high_key", callback=_key, metavar="KEY",
              help="SFZ: highest key. Default: two octaves above the preset's note.")
@click.option("--full-range", is_flag=True, help="SFZ: cover every MIDI key, 0 .. 127 (C-1 .. G9).")
@click.option("--step", type=click.IntRange(1, 24), default=3, show_default=True, metavar="SEMITONES",
              help="SFZ: semitones between sampled keys; a key then plays at most step/2 semitones from its sample.")
@click.option("--layers", type=click.IntRange(1, 16), default=4, show_default=True,
              help="SFZ: velocity layers, for synths that respond to velocity (others get one).")
@click.option("--length", "max_length_s", type=click.FloatRange(0.5, 60.0), default=8.0, show_default=True, metavar="S",
              help="SFZ: longest sample in seconds (sustained sounds loop well before it).")
@click.option("--sample-rate", type=click.IntRange(8000, 192000), default=44100, show_default=True, metavar="HZ",
              help="SFZ: sample rate of the samples.")
@click.option("--bits", type=click.Choice(["16", "24", "32f"]), default="24", show_default=True,
              help="SFZ: WAV sample format, 16- or 24-bit integer or 32-bit float.")
@click.option("-q", "--quiet", is_flag=True, help="Do not list the files written.")
def export_command(preset, syx, bank, vital_path, voice, sfz_dir, low_key, high_key, full_range, step, layers, max_length_s, sample_rate,
                   bits, quiet) -> None:
    """Write PRESET (a preset JSON file, a .syx voice or a .vital GASCAR wrote) in another program's format.

    --sfz renders the preset across the keyboard into a self-contained SFZ
    instrument: one sample every --step semitones, looped where the sound
    sustains, note-off starting the synth's own release (44,100 Hz, 24-bit
    by default).
    """
    from ..export.sfz import SfzOptions

    if syx is None and bank is None and sfz_dir is None and vital_path is None:
        raise click.UsageError("choose a format: --syx OUT.syx, --bank OUT.syx, --vital OUT.vital or --sfz OUTDIR")
    if full_range and (low_key is not None or high_key is not None):
        raise click.UsageError("give either --full-range or --low/--high, not both")
    if full_range:
        low_key, high_key = 0, 127
    subtype = {"16": "PCM_16", "24": "PCM_24", "32f": "FLOAT"}[bits]
    sfz_options = SfzOptions(low_key=low_key, high_key=high_key, step=step, velocity_layers=layers,
                             sample_rate=sample_rate, subtype=subtype, max_length_s=max_length_s)
    for path in export_preset(ExportOptions(preset=preset, voice=voice, syx=syx, bank=bank, sfz=sfz_dir, sfz_options=sfz_options,
                                            vital=vital_path)):
        if not quiet:
            click.echo(str(path))
