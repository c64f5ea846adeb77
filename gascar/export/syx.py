"""DX7 system-exclusive files: single voices (163 bytes) and 32-voice banks (4104 bytes).

Writers turn dx7 presets into the bytes Dexed, DX7s and TX802s load;
readers validate every byte they read and raise :class:`PresetError`
naming the file and what is wrong.

Formats (Yamaha DX7 sysex, device channel 1)
    Single voice: ``F0 43 00 00 01 1B``, the 155-byte voice (VCED, the
    engine's own layout, :func:`gascar.synths.dx7.voice_bytes`), a
    checksum, ``F7``. Bank: ``F0 43 00 09 20 00``, 32 packed voices of 128
    bytes (VMEM), a checksum, ``F7``. The checksum is the two's complement
    of the data's sum, low 7 bits.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .. import fileio
from ..errors import PresetError
from ..synths import dx7

VOICE_HEADER = bytes([0xF0, 0x43, 0x00, 0x00, 0x01, 0x1B])
BANK_HEADER = bytes([0xF0, 0x43, 0x00, 0x09, 0x20, 0x00])
VOICE_FILE_SIZE = 163
BANK_FILE_SIZE = 4104
BANK_VOICES = 32
PACKED_SIZE = 128


def checksum(data: bytes) -> int:
    """DX7 sysex checksum of the data bytes: the two's complement of their sum, low 7 bits."""
    return (-sum(data)) & 0x7F


# -- packing (VCED 155 <-> VMEM 128) ------------------------------------------------------------


def pack_voice(voice: bytes) -> bytes:
    """A 155-byte VCED voice as the 128 bytes a bank stores (VMEM), fields sharing bytes as the DX7 packs them."""
    v = bytes(voice)
    out = bytearray(PACKED_SIZE)
    for op in range(6):  # operator 6 first, as in the voice
        s, d = op * 21, op * 17
        out[d : d + 11] = v[s : s + 11]  # rates, levels, break point, depths
        out[d + 11] = (v[s + 12] << 2) | v[s + 11]  # right curve, left curve
        out[d + 12] = (v[s + 20] << 3) | v[s + 13]  # detune, rate scaling
        out[d + 13] = (v[s + 15] << 2) | v[s + 14]  # key velocity, amp mod sensitivity
        out[d + 14] = v[s + 16]  # output level
        out[d + 15] = (v[s + 18] << 1) | v[s + 17]  # coarse, mode
        out[d + 16] = v[s + 19]  # fine
    out[102:110] = v[126:134]  # pitch EG
    out[110] = v[134]  # algorithm
    out[111] = (v[136] << 3) | v[135]  # osc key sync, feedback
    out[112:116] = v[137:141]  # LFO speed, delay, pitch and amp depth
    out[116] = (v[143] << 4) | (v[142] << 1) | v[141]  # pitch mod sensitivity, wave, LFO sync
    out[117] = v[144]  # transpose
    out[118:128] = v[145:155]  # name
    return bytes(out)


def unpack_voice(packed: bytes) -> bytes:
    """The inverse of :func:`pack_voice`: 128 VMEM bytes to a 155-byte VCED voice.

    Bit fields are taken as stored; values beyond a field's DX7 range come
    through, for :func:`gascar.synths.dx7.voice_values` to report.
    """
    p = bytes(packed)
    out = bytearray(dx7.VOICE_SIZE)
    for op in range(6):
        s, d = op * 21, op * 17
        out[s : s + 11] = p[d : d + 11]
        out[s + 11], out[s + 12] = p[d + 11] & 0x03, (p[d + 11] >> 2) & 0x03
        out[s + 13], out[s + 20] = p[d + 12] & 0x07, (p[d + 12] >> 3) & 0x0F
        out[s + 14], out[s + 15] = p[d + 13] & 0x03, (p[d + 13] >> 2) & 0x07
        out[s + 16] = p[d + 14]
        out[s + 17], out[s + 18] = p[d + 15] & 0x01, (p[d + 15] >> 1) & 0x1F
        out[s + 19] = p[d + 16]
    out[126:134] = p[102:110]
    out[134] = p[110] & 0x1F
    out[135], out[136] = p[111] & 0x07, (p[111] >> 3) & 0x01
    out[137:141] = p[112:116]
    out[141], out[142], out[143] = p[116] & 0x01, (p[116] >> 1) & 0x07, (p[116] >> 4) & 0x07
    out[144] = p[117]
    out[145:155] = p[118:128]
    return bytes(out)


# -- writing ------------------------------------------------------------------------------------


def preset_voice(preset, name: str | None = None) -> bytes:
    """The 155-byte voice of a dx7 preset.

    Parameters
    ----------
    preset : gascar.preset.Preset
        A preset of the ``dx7`` synth.
    name : str, optional
        Voice name (10 characters); default: the preset's name, else its
        target's file stem, else ``GASCAR``.

    Raises
    ------
    PresetError
        For a preset of another synth.
    """
    if preset.synth != dx7.DX7.name:
        raise PresetError(f"only dx7 presets become DX7 voices; this preset is for the {preset.synth} synth "
                          f"(match with --synth dx7 to get one)")
    if name is None:
        target = (preset.match or {}).get("target") or ""
        name = preset.name or Path(str(target)).stem or "GASCAR"
    return dx7.voice_bytes(preset.physical(), name=name)[0].tobytes()


def voice_message(voice: bytes) -> bytes:
    """A single-voice sysex message (163 bytes) of a 155-byte voice."""
    voice = bytes(voice)
    if len(voice) != dx7.VOICE_SIZE:
        raise PresetError(f"a DX7 voice has {dx7.VOICE_SIZE} bytes, got {len(voice)}")
    return VOICE_HEADER + voice + bytes([checksum(voice), 0xF7])


def bank_message(voices: Sequence[bytes]) -> bytes:
    """A 32-voice bank sysex message (4104 bytes); slots after the given voices hold Dexed's INIT VOICE."""
    if not 1 <= len(voices) <= BANK_VOICES:
        raise PresetError(f"a DX7 bank holds 1 to {BANK_VOICES} voices, got {len(voices)}")
    init = init_voice()
    slots = [bytes(v) for v in voices] + [init] * (BANK_VOICES - len(voices))
    payload = b"".join(pack_voice(v) for v in slots)
    return BANK_HEADER + payload + bytes([checksum(payload), 0xF7])


def init_voice() -> bytes:
    """Dexed's INIT VOICE: algorithm 1, operator 1 alone at full level, everything else at rest."""
    return dx7.voice_bytes(dx7.PARAMS.default_physical(), name=dx7.INIT_NAME)[0].tobytes()


def write_voice(path: str | os.PathLike, preset, name: str | None = None) -> Path:
    """Write a dx7 preset as a single-voice .syx file, atomically; return the path."""
    return fileio.write_bytes(path, voice_message(preset_voice(preset, name)))


def write_bank(path: str | os.PathLike, presets: Sequence, names: Sequence[str] | None = None) -> Path:
    """Write up to 32 dx7 presets as a 32-voice bank .syx file (INIT VOICE after them), atomically."""
    names = list(names) if names is not None else [None] * len(presets)
    return fileio.write_bytes(path, bank_message([preset_voice(p, n) for p, n in zip(presets, names)]))


# -- reading ------------------------------------------------------------------------------------


def read_voices(path: str | os.PathLike) -> list[bytes]:
    """Every voice of a .syx file (one for a single voice, 32 for a bank), checked byte for byte.

    Returns
    -------
    list of bytes
        155-byte VCED voices, as stored (the values are checked by :func:`read_preset`).

    Raises
    ------
    PresetError
        Naming the file: missing or unreadable, not sysex, neither a
        163-byte voice nor a 4104-byte bank, a wrong header or end byte, a
        bad checksum.
    """
    p = Path(path)
    if not p.exists():
        raise PresetError("no such file", path=p)
    if p.is_dir():
        raise PresetError("is a directory, expected a DX7 .syx file", path=p)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise PresetError(f"cannot read: {exc.strerror or exc}", path=p) from None
    if not data:
        raise PresetError("file is empty; expected a DX7 .syx voice or bank", path=p)
    if data[0] != 0xF0:
        raise PresetError(f"not sysex: the first byte is 0x{data[0]:02X}, a .syx file starts with 0xF0", path=p)
    if len(data) == VOICE_FILE_SIZE:
        header, body = VOICE_HEADER, data[6:161]
    elif len(data) == BANK_FILE_SIZE:
        header, body = BANK_HEADER, data[6:4102]
    else:
        raise PresetError(f"{len(data)} bytes: a DX7 .syx file is a single voice ({VOICE_FILE_SIZE} bytes) "
                          f"or a 32-voice bank ({BANK_FILE_SIZE} bytes)", path=p)
    kind = "voice" if header is VOICE_HEADER else "bank"
    # The third byte carries the device channel (0 .. 15): any is accepted.
    if data[1] != header[1] or (data[2] & 0xF0) != 0 or data[3:6] != header[3:6]:
        raise PresetError(f"not a DX7 {kind} dump: header {data[:6].hex(' ').upper()}, expected "
                          f"{header.hex(' ').upper()}", path=p)
    if data[-1] != 0xF7:
        raise PresetError(f"the sysex message does not end with 0xF7 (last byte 0x{data[-1]:02X}): the file is cut or damaged",
                          path=p)
    if any(b > 0x7F for b in body):
        raise PresetError("a data byte has its top bit set: not valid sysex data", path=p)
    if checksum(body) != data[-2]:
        raise PresetError(f"bad checksum: stored 0x{data[-2]:02X}, the data sums to 0x{checksum(body):02X}; "
                          "the file is damaged", path=p)
    if kind == "voice":
        return [bytes(body)]
    return [unpack_voice(body[i * PACKED_SIZE : (i + 1) * PACKED_SIZE]) for i in range(BANK_VOICES)]


def read_preset(path: str | os.PathLike, voice: int | None = None):
    """A dx7 preset from a .syx file: its single voice, or voice ``voice`` (1 .. 32) of a bank.

    The preset renders at the default settings (C4, 1.5 s held to the end,
    22,050 Hz) unless changed; a .syx file carries no note.

    Raises
    ------
    PresetError
        Naming the file (and voice): any problem of :func:`read_voices`, a
        voice number out of range or missing for a bank, and values GASCAR's
        dx7 synth cannot play exactly (out of range, sample-and-hold LFO,
        a transpose other than C3). Key velocity and keyboard level scaling
        are the synth's keyboard parameters: the preset holds those that are
        not neutral.
    """
    from ..preset import Preset

    voices = read_voices(path)
    if voice is None:
        if len(voices) > 1:
            raise PresetError(f"a bank of {len(voices)} voices: choose one with --voice 1 .. {len(voices)}", path=path)
        voice = 1
    if isinstance(voice, bool) or not isinstance(voice, (int, np.integer)) or not 1 <= voice <= len(voices):
        what = "single voice" if len(voices) == 1 else f"bank of {len(voices)} voices"
        raise PresetError(f"voice {voice!r} is out of range: the file is a {what} (voices 1 .. {len(voices)})", path=path)
    physical, name, problems = dx7.voice_values(voices[int(voice) - 1])
    if problems:
        where = f"voice {voice} ({name!r})" if len(voices) > 1 else f"voice {name!r}"
        more = f" and {len(problems) - 3} more" if len(problems) > 3 else ""
        raise PresetError(f"{where} uses what GASCAR's dx7 synth does not play: {'; '.join(problems[:3])}{more}. "
                          "Load it in Dexed instead", path=path)
    synth = dx7.DX7()
    params = synth.params.values_to_json(physical)
    params.update({s.name: s.to_json(physical[s.name]) for s in synth.keyboard if physical[s.name] != s.default_value()})
    return Preset(synth=synth.name, params=params, name=name)
