"""``gascar export``: write a preset in another program's format (a DX7 .syx voice)."""

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
    return written


@cli.command("export")
@click.argument("preset", type=click.Path(path_type=Path))
@click.option("--syx", type=click.Path(dir_okay=False, path_type=Path), metavar="OUT.syx",
              help="Write a dx7 preset as a DX7 single-voice sysex file (163 bytes) that Dexed and DX7s load.")
@click.option("--bank", type=click.Path(dir_okay=False, path_type=Path), metavar="OUT.syx",
              help="Write a dx7 preset as voice 1 of a 32-voice DX7 bank (4104 bytes), the file Dexed's cartridge "
                   "manager loads.")
@click.option("--voice", type=click.IntRange(1, 32), metavar="K", help="Voice K of a DX7 .syx bank given as PRESET.")
@click.option("-q", "--quiet", is_flag=True, help="Do not list the files written.")
def export_command(preset, syx, bank, voice, quiet) -> None:
    """Write PRESET (a preset JSON file, or a .syx voice) in another program's format."""
    if syx is None and bank is None:
        raise click.UsageError("choose a format: --syx OUT.syx or --bank OUT.syx")
    for path in export_preset(ExportOptions(preset=preset, voice=voice, syx=syx, bank=bank)):
        if not quiet:
            click.echo(str(path))
