"""Per-generation hooks passed to the algorithms as ``stats``: progress, Ctrl-C, extra columns.

The algorithms call ``stats.compile(...)`` once per generation (and per
trial), after the generation's step and before its checkpoint. A monitor
counts those calls to know the generation, moves the progress bar, and, once
Ctrl-C was pressed, raises ``KeyboardInterrupt`` at the first generation
that follows one whose checkpoint is on disk. The fields a monitor returns
go into the logbook, and so into checkpoints.
"""

from __future__ import annotations

from typing import Optional

from deap import tools

from ..capacity import capacity, paper_capacity
from ..evaluation import evaluate_l1
from . import interrupt

__all__ = ["CoevolutionMonitor", "CanonicalMonitor"]


class _Monitor:
    fields: tuple[str, ...] = ()

    def __init__(self, calls_per_generation: int, resumed_gen: Optional[int], checkpoint_every: int, bar) -> None:
        self.per_gen = calls_per_generation
        self.first_gen = 0 if resumed_gen is None else resumed_gen + 1
        self.saved_gen = 0 if resumed_gen is None else resumed_gen  # last generation safe on disk
        self.every, self.bar, self.calls = checkpoint_every, bar, 0

    def tick(self, best: float) -> None:
        gen = self.first_gen + self.calls // self.per_gen
        first_of_generation = self.calls % self.per_gen == 0
        self.calls += 1
        if gen < 1:
            return
        if first_of_generation:
            previous = gen - 1
            if previous >= 1 and previous % self.every == 0:
                self.saved_gen = previous
            if interrupt.requested() and self.saved_gen == previous:
                raise KeyboardInterrupt
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix(best_l1=f"{best:.4f}", refresh=False)


class CoevolutionMonitor(_Monitor):
    """``stats`` for coevolution: called once per trial and generation with the trial's encoders."""

    def __init__(self, trials: int, resumed_gen: Optional[int], checkpoint_every: int, bar) -> None:
        super().__init__(trials, resumed_gen, checkpoint_every, bar)

    def compile(self, encoders) -> dict:
        self.tick(min(e.fitness.values[0] for e in encoders))
        return {}


class CanonicalMonitor(_Monitor):
    """``stats`` for the (1+λ) loop: records the kept parent's train L1, capacities and learning rate.

    It makes the loop's own choice, ``selBest(offspring [+ parent], 1)``, so
    the columns describe the parent the loop keeps.
    """

    fields = ("train_l1", "capacity_encoder", "capacity_decoder", "lr_effective", "paper_capacity")

    def __init__(self, data, elitist: bool, step_size: Optional[int], gamma: float, resumed_gen: Optional[int],
                 checkpoint_every: int, bar, parent=None) -> None:
        super().__init__(1, resumed_gen, checkpoint_every, bar)
        self.data, self.elitist, self.step_size, self.gamma = data, elitist, step_size, gamma
        self.parent = parent

    def effective_lr(self, individual) -> float:
        """The rate of the individual's last Adam step, StepLR applied."""
        lr = float(individual.learning_rate)
        if self.step_size is None:
            return lr
        steps = int(individual.encoder.layers[0].adam_step)
        return lr * self.gamma ** (max(steps - 1, 0) // self.step_size)

    def compile(self, offspring) -> dict:
        pool = list(offspring) + ([self.parent] if self.elitist and self.parent is not None else [])
        self.parent = parent = tools.selBest(pool, 1)[0]
        self.tick(parent.fitness.values[0])
        return dict(train_l1=evaluate_l1(parent, self.data.train)[0], capacity_encoder=capacity(parent.encoder),
                    capacity_decoder=capacity(parent.decoder), lr_effective=self.effective_lr(parent),
                    paper_capacity=paper_capacity(parent))
