"""The batch benchmark's pieces: its targets and its table (the timing itself is `gascar bench batch`)."""

from __future__ import annotations

import numpy as np
import soundfile as sf

from gascar.bench.batch import format_table, make_targets


def test_make_targets_writes_audible_notes(tmp_path):
    paths = make_targets(tmp_path, 3, 0.25)
    assert [p.name for p in paths] == ["t00.wav", "t01.wav", "t02.wav"]
    for p in paths:
        x, sr = sf.read(str(p))
        assert sr == 22050 and x.shape == (5512,) and 0.5 < np.max(np.abs(x)) <= 1.0


def test_format_table():
    rows = [{"workers": 1, "targets": 8, "duration_s": 1.0, "budget": 1200, "synth": "subtractive", "seconds": 40.0,
             "runs": [40.0, 41.0], "targets_per_min": 12.0, "speedup": 1.0, "load_before": 0.1},
            {"workers": 2, "targets": 8, "duration_s": 1.0, "budget": 1200, "synth": "subtractive", "seconds": 21.0,
             "runs": [21.0, 22.0], "targets_per_min": 22.86, "speedup": 1.9, "load_before": 1.0}]
    table = format_table(rows)
    assert "| 2 | 21.0 | 22.9 | 1.90 | 1.00 |" in table and "fastest of 2 run(s)" in table
    assert format_table([]).startswith("(no batch")
