"""Spectral modelling of a target, once per target: partial tracks, the residual noise, envelopes, trajectories.

The analysis of Serra and Smith's spectral modelling synthesis (sinusoids
plus a stochastic residual) and the descriptors feature-based synthesis
reads (Hoffman and Cook): :mod:`~gascar.sms.tracks` finds the partials and
follows them, :mod:`~gascar.sms.residual` measures the noise the partials
leave, :mod:`~gascar.sms.envelope` the amplitude envelope and its ADSR,
and :mod:`~gascar.sms.model` puts them together as a :class:`SoundModel`
(with the rolloff and centroid trajectories) whose properties starts and
spectral voices read. :func:`gascar.analysis.load_target` runs it and
caches it with the rest of the analysis.
"""

from .envelope import ADSR, amplitude_envelope, fit_adsr
from .model import MODEL_VERSION, SoundModel, analyse_sound

__all__ = ["ADSR", "MODEL_VERSION", "SoundModel", "amplitude_envelope", "analyse_sound", "fit_adsr"]
