"""Where a match writes its presets and renders (the ranked file names of ``top``), and writing them."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import validate
from .errors import OutputError

#: Most presets ``top`` may ask for.
MAX_TOP = 20


@dataclass(frozen=True)
class MatchOutputs:
    """Where a match writes its results.

    Attributes
    ----------
    preset : Path or None
        Best preset; the k-th best (``top``) goes to ``<stem>.<k>.preset.json``.
    render : Path or None
        Render of the best preset; ``None`` writes none. The k-th goes to
        ``<stem>.<k>.wav`` (``<stem>.<k>.render.wav``) beside it.
    top : int
        Number of presets (and renders) to write, from different species.
    checkpoint : Path or None
        Checkpoint file; when None, an interrupted run still writes one
        beside the preset (``<stem>.ckpt``) so it can be resumed.
    """

    preset: Path | None = None
    render: Path | None = None
    top: int = 1
    checkpoint: Path | None = None

    def __post_init__(self) -> None:
        validate.whole(self.top, "top", low=1, high=MAX_TOP, error=OutputError, what=f"between 1 and {MAX_TOP}")

    def preset_path(self, rank: int) -> Path | None:
        return None if self.preset is None else _ranked(self.preset, rank, ".preset.json")

    def render_path(self, rank: int) -> Path | None:
        if self.render is None:
            return None
        return _ranked(self.render, rank, ".render.wav" if self.render.name.endswith(".render.wav") else ".wav")

    def paths(self) -> list[Path]:
        """Every file this match may write: each rank's preset and render, and the checkpoint."""
        out = []
        for rank in range(1, self.top + 1):
            out += [p for p in (self.preset_path(rank), self.render_path(rank)) if p is not None]
        ck = self.checkpoint_path()
        return out + ([ck] if ck is not None else [])

    def check_writable(self) -> None:
        """Raise :class:`OutputError` at once if any file of :meth:`paths` could not be written (before a search)."""
        for path in self.paths():
            check_writable(path)

    def moved_to(self, preset: Path) -> MatchOutputs:
        """The same outputs beside ``preset``: render and checkpoint take their names from it (a resumed run's ``-o``)."""
        stem = _stem(Path(preset), ".preset.json")
        render = None if self.render is None else Path(preset).with_name(stem + ".render.wav")
        checkpoint = None if self.checkpoint is None else Path(preset).with_name(stem + ".ckpt")
        return MatchOutputs(preset=Path(preset), render=render, top=self.top, checkpoint=checkpoint)

    def checkpoint_path(self) -> Path | None:
        if self.checkpoint is not None:
            return self.checkpoint
        if self.preset is None:
            return None
        return self.preset.with_name(_stem(self.preset, ".preset.json") + ".ckpt")


def check_writable(path: str | os.PathLike) -> None:
    """Raise :class:`OutputError` if ``path`` could not be written: its folder (or the nearest existing one,
    for a folder still to be made) must take a new file, and ``path`` must not be a folder.

    Probes by creating and removing a temporary file, so a read-only file system, a missing permission or a
    file where a folder should be are all found (``os.access`` would not see the first as root).
    """
    import tempfile

    path = Path(path)
    if path.is_dir():
        raise OutputError("is a folder, expected a file path", path=path)
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise OutputError(f"cannot write here: {folder} is not a folder", path=path)
    try:
        with tempfile.TemporaryFile(dir=folder, prefix=".gascar-probe."):
            pass
    except OSError as exc:
        raise OutputError(f"cannot write here: {exc.strerror or exc}", path=path) from None


def _stem(path: Path, suffix: str) -> str:
    name = path.name
    for suf in (suffix, ".json", ".render.wav", ".wav"):
        if name.endswith(suf) and len(name) > len(suf):
            return name[: -len(suf)]
    return path.stem


def _ranked(path: Path, rank: int, suffix: str) -> Path:
    if rank == 1:
        return path
    real_suffix = suffix if path.name.endswith(suffix) else path.suffix
    return path.with_name(f"{_stem(path, suffix)}.{rank}{real_suffix}")


def default_outputs(target_path: str | os.PathLike, *, preset=None, render=None, no_render: bool = False, top: int = 1,
                    checkpoint=None) -> MatchOutputs:
    """The CLI's default files: ``<target stem>.preset.json`` in the current folder, its render beside it.

    The render defaults to ``<stem>.render.wav`` beside the preset (never
    onto the target itself).
    """
    preset_path = Path(preset) if preset is not None else Path(Path(target_path).stem + ".preset.json")
    if no_render:
        render_path = None
    elif render is not None:
        render_path = Path(render)
    else:
        render_path = preset_path.with_name(_stem(preset_path, ".preset.json") + ".render.wav")
    return MatchOutputs(preset=preset_path, render=render_path, top=top, checkpoint=None if checkpoint is None else Path(checkpoint))


def write_results(result, picks: list, objectives: Mapping, outputs: MatchOutputs) -> list[Path]:
    """Write the top presets, their files in their synth's own format (dx7: .syx) and renders; return the paths written.

    The dx7 presets also go into one 32-voice bank, ``<stem>.bank.syx`` (the file Dexed's cartridge manager loads).

    Parameters
    ----------
    result : gascar.matching.MatchResult
    picks : list of (synth, species_id, genome (n_genes,), fitness)
        The presets' genomes, best first (rank 1 is ``result.preset``).
    objectives : mapping of synth name to Objective
        What renders each genome.
    outputs : MatchOutputs
    """
    from .audio import write_audio
    from .export import write_native, write_native_bank

    files = []
    presets = [result.preset, *result.others]
    for rank, (preset, (name, _, genome, _)) in enumerate(zip(presets[: outputs.top], picks[: outputs.top]), start=1):
        p = outputs.preset_path(rank)
        if p is not None:
            files.append(preset.save(p))
            native = write_native(preset, p)
            if native is not None:
                files.append(native)
        r = outputs.render_path(rank)
        if r is not None:
            obj = objectives[name]
            sequence = getattr(obj, "render_sequence", None)  # an instrument: every note, one after another
            audio = sequence(genome) if sequence is not None else np.asarray(obj.render(genome[None, :]))[0]
            audio = audio * np.float32(preset.render.gain)  # at the preset's level
            sr = int(getattr(obj.target, "sample_rate", preset.render.sample_rate))
            files.append(write_audio(r, audio, sr))
    if outputs.preset is not None:
        bank = write_native_bank(presets[: outputs.top], outputs.preset_path(1))
        if bank is not None:
            files.append(bank)
    return files
