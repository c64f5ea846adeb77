"""Checkpoint files: the whole state of a run, pickled, written atomically.

A checkpoint is a pickle of ``{"format", "version", "kind", "gascar_version",
"state"}``; ``state`` holds plain numpy arrays, the run's numpy Generator,
species, hall of fame and logbook. It is written through
:func:`gascar.fileio.atomic_path`, so an interrupted write never leaves a
broken file. Only load checkpoints you wrote: pickles can run code.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path

from .. import __version__
from ..errors import EvolutionError
from ..fileio import atomic_path

FORMAT = "gascar-checkpoint"
VERSION = 1


def save_checkpoint(path: str | os.PathLike, kind: str, state: object) -> Path:
    """Write ``state`` to ``path`` atomically.

    Parameters
    ----------
    path
        Destination file.
    kind
        What the state is (``"evolve"``, ``"match"``); checked on load.
    state
        Any picklable object.
    """
    doc = {"format": FORMAT, "version": VERSION, "kind": kind, "gascar_version": __version__, "state": state}
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            pickle.dump(doc, fh, protocol=pickle.HIGHEST_PROTOCOL)
            fh.flush()
            os.fsync(fh.fileno())
    return Path(path)


def load_checkpoint(path: str | os.PathLike, kind: str) -> object:
    """Read a checkpoint written by :func:`save_checkpoint` and return its state.

    Raises
    ------
    EvolutionError
        With the path, for a missing, unreadable or foreign file, or a
        checkpoint of another kind or a newer format.
    """
    p = Path(path)
    if not p.is_file():
        raise EvolutionError("no such checkpoint file", path=p)
    try:
        with open(p, "rb") as fh:
            doc = pickle.load(fh)
    except Exception as exc:  # noqa: BLE001 - any unpickling failure means "not a checkpoint"
        raise EvolutionError(f"not a readable GASCAR checkpoint ({type(exc).__name__}: {exc})", path=p) from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise EvolutionError("not a GASCAR checkpoint", path=p)
    if doc.get("version", 0) > VERSION:
        raise EvolutionError(f"checkpoint format {doc.get('version')} is newer than this GASCAR reads ({VERSION})", path=p)
    if doc.get("kind") != kind:
        raise EvolutionError(f"this is a {doc.get('kind')!r} checkpoint, expected {kind!r}", path=p)
    return doc["state"]


class PeriodicCheckpoint:
    """Saves a run's state every ``every`` generations and on demand: the checkpointing both
    :func:`gascar.evolve.evolve` and :func:`gascar.match` do around :func:`gascar.evolve.run.run_steps`.

    Parameters
    ----------
    path : path or None
        Where :meth:`generation` saves; ``None`` saves only when :meth:`save` is given a path.
    kind : str
        The checkpoint's kind (:func:`save_checkpoint`).
    state : callable
        Returns the state to save, at the moment of saving.
    every : int
        Generations between two saves (counted from the start of this process's run).
    """

    def __init__(self, path, kind: str, state, every: int):
        self.path = None if path is None else Path(path)
        self.kind = kind
        self.state = state
        self.every = max(1, int(every))
        self.since = 0

    def generation(self) -> None:
        """A generation ended: save if ``every`` have passed since the last save."""
        self.since += 1
        if self.path is not None and self.since >= self.every:
            self.save()

    def save(self, path=None) -> Path | None:
        """Save now (to ``path``, default the checkpoint's own); the path written, or None without one."""
        path = self.path if path is None else path
        if path is None:
            return None
        self.since = 0
        return save_checkpoint(path, self.kind, self.state())
