"""The individuals a run evolves: our networks with a minimising DEAP fitness.

What ``deap.creator.create("Encoder", MaskedMLP, fitness=FitnessMin)`` would
build, written as ordinary classes of this module: nothing is added to the
user's ``deap.creator`` namespace, and a worker process that unpickles an
individual (or a checkpoint) imports them by name.

>>> encoder = Encoder((4, 2))
>>> encoder.fitness.weights, encoder.fitness.valid
((-1.0,), False)
"""

from __future__ import annotations

from deap import base

from ..network import MaskedAutoencoder, MaskedMLP

__all__ = ["FitnessMin", "Autoencoder", "Encoder", "Decoder"]


class FitnessMin(base.Fitness):
    """One objective, minimised (the validation L1)."""

    weights = (-1.0,)


class Autoencoder(MaskedAutoencoder):
    """The canonical loop's individual."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fitness = FitnessMin()


class Encoder(MaskedMLP):
    """A coevolution cell's encoder."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fitness = FitnessMin()


class Decoder(MaskedMLP):
    """A coevolution cell's decoder."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fitness = FitnessMin()
