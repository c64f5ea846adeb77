"""The staged instrument match: the reference note alone first, then every note.

An instrument match scores a genome on every note, so an evaluation costs k
renders. A staged match (the default for instruments) spends its first
stage as a one-note match of the reference note
(:attr:`gascar.instrument.Instrument.reference`: the middle note at the
velocity nearest 100): one render per genome, with the objective, the random
streams and the budget plan a match of that note alone would have, so at
the same seed the first stage *is* that match, ``--synth auto``'s synth
choice (successive halving) included. At the start of the final round (one
synth left) every run is carried over to the instrument's objective
(:meth:`gascar.evolve.Evolution.carry_over`): its genomes become instrument
genomes (:meth:`~gascar.instrument_objective.InstrumentObjective.from_reference`:
the same voice, keyboard parameters neutral, note-offs moved alike) and
everything it keeps is scored again on every note, so what the match ranks
and writes is always scored on every note. The final round then searches
the full objective: what the other notes teach (key tracking, velocity
response) on top of the reference note's match.

With one synth (no choice to make) the plan gets two rounds: half the
budget on the reference note, half on every note.

The budget counts evaluations of a genome in either stage (a first-stage
evaluation renders one note, a second-stage one renders every note), the
re-scoring at the switch included. Carrying runs over needs room in the
final round: with a budget too small for it (:func:`staged`), the match
scores every note from the start, as an unstaged one does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from .evolve import EvolutionConfig, GeneInfo

#: The stages: a one-note match of the reference note, then every note.
REFERENCE = "reference"
ALL_NOTES = "all"
#: Rounds of a staged match with one synth: the reference note, then every note.
ONE_SYNTH_ROUNDS = 2


def reference_key(name: str) -> tuple[str, str]:
    """The evaluator's key of a synth's one-note objective of the reference note."""
    return (name, REFERENCE)


def min_rounds(staged: bool) -> int:
    """Rounds the budget plan needs at least: two for a staged match (one synth included), else one."""
    return ONE_SYNTH_ROUNDS if staged else 1


def carry_over_room(config: EvolutionConfig, n_synths: int) -> int:
    """Most genomes the switch scores again: the survivor's population, hall of fame, species bests and best; each
    other synth's species bests and best.
    """
    pop = int(config.population)
    return 2 * pop + int(config.hall_of_fame) + 1 + max(0, n_synths - 1) * (pop + 1)


def staged(asked: bool | None, budget: int, rounds: int, config: EvolutionConfig, n_synths: int) -> bool:
    """Whether an instrument match runs staged: unless asked not to, when the final round's share of the budget
    holds the switch's re-scoring (:func:`carry_over_room`) and a population more.
    """
    if asked is False:
        return False
    return int(budget) // max(1, int(rounds)) >= carry_over_room(config, n_synths) + int(config.population)


def switch(evolutions: Mapping, survivors: list[str], objectives: Mapping, evaluate: Callable,
           components: Callable | None = None) -> int:
    """Carry every synth's run over from the reference note to every note (in the synths' order).

    Parameters
    ----------
    evolutions : mapping of synth name to Evolution
        Runs of the reference note's one-note objective; changed in place.
    survivors : list of str
        Synths still searching (their whole state is carried over); the others keep what the results read.
    objectives : mapping of synth name to InstrumentObjective
    evaluate, components : callable
        ``evaluate(name, genomes)`` and ``components(name, genomes)`` with the instrument objectives.

    Returns
    -------
    int
        Evaluations spent (counted in the runs).
    """
    spent = 0
    for name, ev in evolutions.items():
        obj = objectives[name]
        spent += ev.carry_over(GeneInfo.from_space(obj.space), obj.from_reference, evaluate, components,
                               keep_all=name in survivors)
    return spent
