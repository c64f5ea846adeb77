"""Atomic file writing (a temporary file in the same folder, then a rename) and JSON-ready values.

Whatever GASCAR writes (presets, renders, checkpoints, reports) goes through
here, so an interrupted run never leaves a half-written file behind.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .errors import OutputError


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, *, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` on success.

    On an exception (KeyboardInterrupt included) the temporary file is
    removed and ``path`` is left as it was. The file gets the mode the
    umask gives a new file (0644 under the usual 022), not mkstemp's 0600.

    Parameters
    ----------
    path
        Final destination. Its folder is created if needed.
    suffix
        Suffix of the temporary file (default: that of ``path``), for
        writers that choose a format by extension.
    """
    dest = Path(path)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create folder: {exc.strerror or exc}", path=dest.parent) from None
    if dest.is_dir():
        raise OutputError("is a directory, expected a file path", path=dest)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=(dest.suffix if suffix is None else suffix) + ".part", dir=dest.parent)
    except OSError as exc:
        raise OutputError(f"cannot write here: {exc.strerror or exc}", path=dest) from None
    os.close(fd)
    tmp_path = Path(tmp)
    with contextlib.suppress(OSError):  # mkstemp makes 0600; the file gets the mode the umask says, as open() would
        os.chmod(tmp_path, 0o666 & ~_umask())
    try:
        yield tmp_path
        os.replace(tmp_path, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp_path.unlink()
        raise


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
        _fsync(tmp)
    return Path(path)


def write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
        _fsync(tmp)
    return Path(path)


def write_json(path: str | os.PathLike, obj: object, *, sort_keys: bool = False) -> Path:
    """Write ``obj`` as pretty-printed JSON (2-space indent, trailing newline), atomically."""
    return write_text(path, json.dumps(obj, indent=2, sort_keys=sort_keys, ensure_ascii=False, allow_nan=False) + "\n")


def json_ready(obj):
    """A JSON-ready copy of ``obj``.

    Mappings become dicts with string keys, sequences and arrays lists,
    numpy scalars Python values, non-finite floats None, anything else
    (paths ...) its string.
    """
    import numpy as np  # here: the CLI imports this module at start-up, numpy is slow to import

    def plain(obj):
        if isinstance(obj, dict):
            return {str(k): plain(v) for k, v in obj.items()}
        if hasattr(obj, "items") and callable(obj.items):
            return {str(k): plain(v) for k, v in obj.items()}
        if isinstance(obj, (list, tuple)):
            return [plain(v) for v in obj]
        if isinstance(obj, np.ndarray):
            return plain(obj.tolist())
        if isinstance(obj, np.generic):
            obj = obj.item()
        if isinstance(obj, float) and not math.isfinite(obj):
            return None
        if isinstance(obj, (str, int, float, bool)) or obj is None:
            return obj
        return str(obj)

    return plain(obj)


def _umask() -> int:
    """The process's umask (read without changing it where /proc says it, else set and restored at once)."""
    with contextlib.suppress(OSError, ValueError, StopIteration):
        with open("/proc/self/status", encoding="ascii") as fh:
            return int(next(line for line in fh if line.startswith("Umask:")).split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _fsync(path: Path) -> None:
    with contextlib.suppress(OSError), open(path, "rb") as fh:
        os.fsync(fh.fileno())
