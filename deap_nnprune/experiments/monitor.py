"""The runner's per-generation hooks: progress, extra columns, and a clean stop on Ctrl-C.

The algorithms call ``on_generation(gen, state)`` after every generation and
add the fields it returns to the logbook; they ask ``stop_when(gen)`` after
it and, when it says so, save a checkpoint and return early. The runner
passes the methods of these objects.
"""

from __future__ import annotations

from .._adam import step_lr
from ..capacity import capacity, paper_capacity
from ..evaluation import evaluate_l1
from . import interrupt

__all__ = ["CoevolutionMonitor", "CanonicalMonitor", "stop_requested"]


def stop_requested(gen: int) -> bool:
    """``stop_when`` for the algorithms: true once Ctrl-C (or SIGTERM) was received."""
    return interrupt.requested()


class CoevolutionMonitor:
    """Moves the progress bar by one epoch per trial and generation."""

    def __init__(self, trials: int, bar) -> None:
        self.trials, self.bar = trials, bar

    def on_generation(self, gen: int, state: dict) -> dict:
        if gen and self.bar is not None:
            self.bar.update(self.trials)
            self.bar.set_postfix(best_l1=f"{min(e.fitness.values[0] for e in state['encoders']):.4f}", refresh=False)
        return {}


class CanonicalMonitor:
    """Records the kept parent's train L1, capacities, effective learning rate and the paper's counter."""

    fields = ("train_l1", "capacity_encoder", "capacity_decoder", "lr_effective", "paper_capacity")

    def __init__(self, data, step_size: int | None, gamma: float, bar) -> None:
        self.data, self.step_size, self.gamma, self.bar = data, step_size, gamma, bar

    def effective_lr(self, individual) -> float:
        """The rate of the individual's last Adam step, StepLR applied."""
        steps = int(individual.encoder.layers[0].adam_step)
        return step_lr(float(individual.learning_rate), max(steps - 1, 0), self.step_size, self.gamma)

    def on_generation(self, gen: int, state: dict) -> dict:
        parent = state["parent"]
        if gen and self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix(best_l1=f"{parent.fitness.values[0]:.4f}", refresh=False)
        return dict(
            train_l1=evaluate_l1(parent, self.data.train)[0],
            capacity_encoder=capacity(parent.encoder),
            capacity_decoder=capacity(parent.decoder),
            lr_effective=self.effective_lr(parent),
            paper_capacity=paper_capacity(parent),
        )
