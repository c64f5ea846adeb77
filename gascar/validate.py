"""One validator for the values that cross GASCAR's boundary (options, presets, checkpoints, the API).

Each function checks one value and returns it in its plain Python type, or
raises the caller's error class (a :class:`~gascar.errors.GascarError`) with
a message that names the value, says what it must be and shows what it got:
``budget must be a whole number >= 1, got 0``. Bools are never numbers here
(``True`` is not a budget of 1).
"""

from __future__ import annotations

import math
import numbers

from .errors import GascarError, ParameterError


def _range_text(low, high, *, low_open: bool = False, unit: str = "") -> str:
    u = f" {unit}" if unit else ""
    if low is not None and high is not None:
        return f" within {low:g} .. {high:g}{u}"
    if low is not None:
        return f" {'>' if low_open else '>='} {low:g}{u}"
    if high is not None:
        return f" <= {high:g}{u}"
    return ""


def whole(value, name: str, *, low: int | None = None, high: int | None = None, error: type[GascarError] = ParameterError,
          what: str | None = None, optional: bool = False) -> int | None:
    """``value`` as an ``int``: a whole number (numpy integers too) within ``low .. high``.

    Parameters
    ----------
    what : str, optional
        The message's description instead of "a whole number ..." (e.g. "a whole number of evaluations >= 1").
    optional : bool
        ``None`` passes (and is returned).
    """
    if value is None and optional:
        return None
    ok = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if ok and ((low is not None and value < low) or (high is not None and value > high)):
        ok = False
    if not ok:
        raise error(f"{name} must be {what or 'a whole number' + _range_text(low, high)}, got {value!r}")
    return int(value)


def number(value, name: str, *, low: float | None = None, high: float | None = None, low_open: bool = False,
           error: type[GascarError] = ParameterError, what: str | None = None, unit: str = "",
           optional: bool = False) -> float | None:
    """``value`` as a finite ``float`` within ``low .. high`` (``low_open``: strictly above ``low``).

    Parameters
    ----------
    what : str, optional
        The message's description instead of "a number ...".
    optional : bool
        ``None`` passes (and is returned).
    """
    if value is None and optional:
        return None
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    if ok and low is not None and (value <= low if low_open else value < low):
        ok = False
    if ok and high is not None and value > high:
        ok = False
    if not ok:
        raise error(f"{name} must be {what or 'a number' + _range_text(low, high, low_open=low_open, unit=unit)}, "
                    f"got {value!r}")
    return float(value)


def flag(value, name: str, *, error: type[GascarError] = ParameterError) -> bool:
    """``value`` as a ``bool`` (only ``True`` or ``False``)."""
    if not isinstance(value, bool):
        raise error(f"{name} must be true or false, got {value!r}")
    return value
