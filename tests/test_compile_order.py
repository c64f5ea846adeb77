"""A voice renders the same whatever the process compiled first (numba shares its float ** int implementation
between callers, with the first caller's fast-math flags: see gascar.dsp.partials._power)."""

from __future__ import annotations

import inspect
import os
import re
import subprocess
import sys

import numpy as np

from gascar.dsp import partials
from gascar.synths import get_synth

_RENDER = """
import sys
import numpy as np
from gascar.synths import get_synth
for name in sys.argv[1].split(","):
    s = get_synth(name)
    f0 = np.exp(np.random.default_rng(5).uniform(np.log(50), np.log(2000), 40))
    x = s.render(np.random.default_rng(4).random((40, s.n_genes)), f0, 11025, 22050, hold_s=np.full(40, 0.3))
np.save(sys.argv[2], x)
"""


def test_the_fast_math_kernel_raises_no_float_to_an_integer_power():
    source = inspect.getsource(partials._partial_kernel)
    assert not re.search(r"\*\*", source), "use _power(): numba would share a fast-math power with every later kernel"


def test_wavetable_voices_render_the_same_after_the_additive_synth_compiled_first(tmp_path):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "numba"))  # a cold cache: compiled in this order
    out = tmp_path / "x.npy"
    subprocess.run([sys.executable, "-c", _RENDER, "additive,wavetable", str(out)], env=env, check=True)
    s = get_synth("wavetable")
    f0 = np.exp(np.random.default_rng(5).uniform(np.log(50), np.log(2000), 40))
    here = s.render(np.random.default_rng(4).random((40, s.n_genes)), f0, 11025, 22050, hold_s=np.full(40, 0.3))
    assert np.array_equal(np.load(out), here)
