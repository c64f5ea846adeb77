"""The GASCAR error hierarchy: every expected failure is a ``GascarError``.

The CLI turns these into one line, ``gascar: error: <file>: <what is wrong>``,
and the error's :attr:`~GascarError.exit_code`: 2 (a usage error) unless
the class says otherwise. Messages say what was wrong, with the value, and
what to do.
"""

from __future__ import annotations

import os


class GascarError(Exception):
    """Base of every error GASCAR raises on purpose.

    Parameters
    ----------
    message
        What is wrong, and where possible what to do about it.
    path
        The file the problem is about, if any; the CLI prefixes it.
    """

    #: Exit code of the ``gascar`` command for this error.
    exit_code = 2

    def __init__(self, message: str, *, path: str | os.PathLike | None = None):
        super().__init__(message)
        self.message = message
        self.path = os.fspath(path) if path is not None else None

    def __str__(self) -> str:
        if self.path is not None:
            return f"{self.path}: {self.message}"
        return self.message


class AudioError(GascarError):
    """An audio file cannot be read, or holds nothing that can be matched."""


class PresetError(GascarError):
    """A preset file is malformed, or does not fit its synth."""


class ParameterError(GascarError):
    """A parameter value or specification is invalid."""


class SynthError(GascarError):
    """An unknown synth, or a render request a synth cannot honour.

    ``reason``: for a voice the target's analysis cannot build, the analysis's own reason (else None).
    """

    def __init__(self, message: str, *, path: str | os.PathLike | None = None, reason: str | None = None):
        super().__init__(message, path=path)
        self.reason = reason


class AnalysisError(GascarError):
    """A target cannot be analysed (pitch, duration, features)."""


class FitnessError(GascarError):
    """Invalid fitness options (unknown component, negative weight ...)."""


class EvolutionError(GascarError):
    """Invalid evolution settings, or a checkpoint that cannot be resumed."""


class BatchError(GascarError):
    """A batch run cannot start or its output folder is unusable."""


class BenchmarkError(GascarError):
    """A benchmark cannot run as asked."""


class MidiError(GascarError):
    """A MIDI file cannot be read, or holds no notes to play."""


class ExportError(GascarError):
    """A preset cannot be exported as asked (bad options, unusable output folder)."""


class OutputError(GascarError):
    """Results cannot be written as asked: an invalid output setting, a full disk, an unwritable folder.

    Exit code 1: the command was right, the machine could not take its results.
    """

    exit_code = 1
