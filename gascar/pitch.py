"""Pitch names and numbers: note names to Hz and back (A4 = 440 Hz, equal temperament).

Used at the boundary (``--note``, a preset's ``render.note``, the analysis's
``note=``) and for display; the pitch detection itself is
:func:`gascar.analysis.pitch_track`.
"""

from __future__ import annotations

from .errors import ParameterError


def note_to_hz(note: str) -> float:
    """Frequency of a note name such as ``"A4"``, ``"C#3"`` or ``"Eb5"`` (A4 = 440 Hz).

    Raises
    ------
    ParameterError
        If ``note`` is not a note name.
    """
    import librosa

    try:
        hz = float(librosa.note_to_hz(str(note).strip()))
    except Exception:
        raise ParameterError(f"{note!r} is not a note name (examples: A4, C#3, Eb5)") from None
    if not 1.0 <= hz <= 20000.0:
        raise ParameterError(f"note {note!r} ({hz:.1f} Hz) is outside 1 Hz .. 20 kHz")
    return hz


def hz_to_note(f0_hz: float) -> str:
    """The nearest note name of a frequency (``"A4"``, ``"C#3"``), in ASCII."""
    import librosa

    return str(librosa.hz_to_note(float(f0_hz), unicode=False))
