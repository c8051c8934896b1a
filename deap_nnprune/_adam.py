"""Adam whose state lives in the network's buffers.

The first and second moments are the ``<name>_exp_avg`` and
``<name>_exp_avg_sq`` buffers of each :class:`~deap_nnprune.MaskedLinear`,
and the step count is its ``adam_step`` buffer. No optimiser object is ever
built, so nothing is rebuilt per batch and the state travels with the
individual through clones, pickles and processes.

The update is torch's Adam (L2 ``weight_decay`` added to the gradient)::

    m = b1*m + (1-b1)*g;  v = b2*v + (1-b2)*g²
    p -= lr / (1-b1^t) * m / (sqrt(v) / sqrt(1-b2^t) + eps)

A pruned entry has zero weight, zero gradient (the forward pass multiplies by
the mask) and zero moments, so its update is exactly zero.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional, Sequence

import torch
from torch import Tensor

from ._validation import check_choice, check_float, check_int

__all__: list[str] = []

OPTIMIZER_STATES = ("persistent", "fresh_per_batch")


@dataclass(frozen=True)
class AdamSettings:
    """Hyper-parameters of one training call, validated once."""

    betas: tuple[float, float] = (0.5, 0.999)
    eps: float = 1e-8
    weight_decay: float = 0.0
    optimizer_state: str = "persistent"
    lr_step_size: Optional[int] = None
    lr_gamma: float = 0.1

    def __post_init__(self) -> None:
        try:
            b1, b2 = self.betas
        except (TypeError, ValueError):
            raise ValueError(f"betas must be a pair of floats, got {self.betas!r}") from None
        check_float("betas[0]", b1, low=0.0, high=1.0)
        check_float("betas[1]", b2, low=0.0, high=1.0)
        if b1 == 1.0 or b2 == 1.0:
            raise ValueError(f"betas must be < 1, got {self.betas!r}")
        check_float("eps", self.eps, low=0.0, low_open=True)
        check_float("weight_decay", self.weight_decay, low=0.0)
        check_choice("optimizer_state", self.optimizer_state, OPTIMIZER_STATES)
        if self.lr_step_size is not None:
            check_int("lr_step_size", self.lr_step_size, minimum=1)
        check_float("lr_gamma", self.lr_gamma, low=0.0, low_open=True)

    @property
    def fresh_per_batch(self) -> bool:
        return self.optimizer_state == "fresh_per_batch"

    def scheduled_lr(self, lr: float, step: int) -> float:
        """StepLR: ``lr * gamma ** (step // lr_step_size)`` (step counted before the update)."""
        if self.lr_step_size is None:
            return lr
        return lr * self.lr_gamma ** (step // self.lr_step_size)


@torch.no_grad()
def adam_update(
    params: Sequence[Tensor],
    grads: Sequence[Tensor],
    exp_avgs: Sequence[Tensor],
    exp_avg_sqs: Sequence[Tensor],
    steps: Sequence[int],
    lrs: Sequence[float],
    settings: AdamSettings,
) -> None:
    """One Adam update of every tensor in *params*, in place, with foreach kernels.

    *steps* are the step numbers of this update (1 for the first), *lrs* the
    learning rates already scheduled, one per parameter.
    """
    b1, b2 = settings.betas
    grads = list(grads)
    if settings.weight_decay:
        grads = torch._foreach_add(grads, params, alpha=settings.weight_decay)
    if settings.fresh_per_batch:
        torch._foreach_zero_(list(exp_avgs))
        torch._foreach_zero_(list(exp_avg_sqs))
        steps = [1] * len(params)
    torch._foreach_lerp_(list(exp_avgs), grads, 1.0 - b1)
    torch._foreach_mul_(list(exp_avg_sqs), b2)
    torch._foreach_addcmul_(list(exp_avg_sqs), grads, grads, value=1.0 - b2)
    step_sizes = [-lr / (1.0 - b1**t) for lr, t in zip(lrs, steps)]
    denom = torch._foreach_sqrt(list(exp_avg_sqs))
    torch._foreach_div_(denom, [math.sqrt(1.0 - b2**t) for t in steps])
    torch._foreach_add_(denom, settings.eps)
    torch._foreach_addcdiv_(list(params), list(exp_avgs), denom, step_sizes)
