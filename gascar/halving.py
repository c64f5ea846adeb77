"""Successive halving over synths: the budget plan of ``synth="auto"`` and each synth's random stream.

Each round gives the surviving synths equal shares of an equal part of what
is left, then keeps the better half (by best fitness so far), until one
synth remains; its last round ends with the CMA-ES refinement. A plan may
ask for more rounds than halving needs (``min_rounds``: a staged instrument
match of one synth has two, the first on the reference note alone). Runs
continue across rounds (nothing is restarted), and each synth's random
stream depends only on the seed and the synth's name, so ``--synth fm
--seed 3`` starts exactly like the fm run inside ``auto``.
"""

from __future__ import annotations

import math
import zlib

import numpy as np

from .evolve import Evolution


def synth_seed(seed_entropy: int, synth: str) -> np.random.SeedSequence:
    """The random stream of one synth's run: depends on the seed and the synth's name only."""
    return np.random.SeedSequence(seed_entropy, spawn_key=(zlib.crc32(synth.encode("utf-8")),))


def halving_rounds(n_synths: int) -> int:
    """Rounds of successive halving (keep the better half, rounded up) until one synth is left, plus its final round."""
    rounds, n = 1, n_synths
    while n > 1:
        n = math.ceil(n / 2)
        rounds += 1
    return rounds


class HalvingPlan:
    """Successive-halving state: the round, the survivors, and what each may spend."""

    def __init__(self, synths: list[str], budget: int, *, min_rounds: int = 1):
        self.synths = list(synths)
        self.budget = int(budget)
        self.survivors = list(synths)
        self.round = 0
        self.rounds = max(halving_rounds(len(synths)), int(min_rounds))
        self.started = False

    @property
    def final(self) -> bool:
        """The last round: one synth left (and, with ``min_rounds``, the last of them)."""
        return len(self.survivors) == 1 and self.round >= self.rounds - 1

    def start_round(self, evolutions: dict[str, Evolution]) -> None:
        """Give each survivor its share of an equal part of the budget left."""
        spent = sum(ev.evaluations for ev in evolutions.values())
        left = max(0, self.budget - spent)
        rounds_left = max(1, self.rounds - self.round)
        part = left if self.final else left // rounds_left
        share, extra = divmod(part, len(self.survivors))
        for i, name in enumerate(self.survivors):
            ev = evolutions[name]
            ev.set_budget(ev.evaluations + share + (1 if i < extra else 0), final=self.final)
        self.started = True

    def change_budget(self, budget: int, evolutions: dict[str, Evolution]) -> None:
        """A new total budget (a resumed match's ``--budget``): what is left is shared again from here.

        The round under way restarts its shares from what has been spent; a
        budget already spent ends the run at the next step.
        """
        self.budget = int(budget)
        if not self.started:
            return
        spent = sum(ev.evaluations for ev in evolutions.values())
        if spent >= self.budget:
            for name in self.survivors:
                ev = evolutions[name]
                ev.set_budget(ev.evaluations, final=self.final)
                if not ev.done:
                    ev.finish("budget")
        else:
            self.start_round(evolutions)

    def end_round(self, evolutions: dict[str, Evolution]) -> None:
        """Keep the better half of the survivors (order of the synth list on ties)."""
        keep = math.ceil(len(self.survivors) / 2)
        ranked = sorted(self.survivors, key=lambda s: (evolutions[s].best_fitness, self.synths.index(s)))
        kept = set(ranked[:keep])
        self.survivors = [s for s in self.survivors if s in kept]
        self.round += 1
        self.started = False
