"""Adam whose state lives in the network's buffers.

The first and second moments are the ``<name>_exp_avg`` and
``<name>_exp_avg_sq`` buffers of each :class:`~deap_nnprune.MaskedLinear`,
and the step count is its ``adam_step`` buffer. No optimiser object is ever
built, so nothing is rebuilt per batch and the state travels with the
individual through clones, pickles and processes.

The update is torch's own Adam kernel (L2 ``weight_decay`` added to the
gradient), called through :func:`adam_step`, the one place an update is
made: ``torch._fused_adam_`` (one pass over weights, gradients and moments),
or, on a torch without a fused kernel for the device (CPU before 2.4),
torch's functional ``torch.optim.adam.adam`` with ``foreach=True``::

    m = b1*m + (1-b1)*g;  v = b2*v + (1-b2)*g²
    p -= lr / (1-b1^t) * m / (sqrt(v) / sqrt(1-b2^t) + eps)

A pruned entry has zero weight, zero gradient (the engines zero it) and zero
moments, so its update is exactly zero.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

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
    lr_step_size: int | None = None
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
        """StepLR (:func:`step_lr`) with these settings."""
        return step_lr(lr, step, self.lr_step_size, self.lr_gamma)


def step_lr(lr: float, step: int, step_size: int | None, gamma: float) -> float:
    """StepLR, the one formula: ``lr * gamma ** (step // step_size)``, *step* counted before the update.

    >>> step_lr(1.0, 7, 5, 0.1), step_lr(1.0, 7, None, 0.1)
    (0.1, 1.0)
    """
    if step_size is None:
        return lr
    return lr * gamma ** (step // step_size)


@functools.cache
def has_fused_adam(device_type: str) -> bool:
    """Does this torch have a fused Adam kernel for *device_type* (CPU: torch >= 2.4)?"""
    try:
        x = torch.zeros(1, device=device_type)
        torch._fused_adam_(
            [x],
            [x.clone()],
            [x.clone()],
            [x.clone()],
            [],
            [torch.ones((), device=device_type)],
            lr=1e-3,
            beta1=0.9,
            beta2=0.999,
            weight_decay=0.0,
            eps=1e-8,
            amsgrad=False,
            maximize=False,
        )
    except (RuntimeError, NotImplementedError, AttributeError):
        return False
    return True


@torch.no_grad()
def adam_step(
    params: Sequence[Tensor],
    grads: Sequence[Tensor],
    exp_avgs: Sequence[Tensor],
    exp_avg_sqs: Sequence[Tensor],
    steps: Sequence[Tensor],
    lr: float,
    settings: AdamSettings,
) -> None:
    """One Adam update of every tensor in *params* at rate *lr*, in place.

    *steps* are 0-d float tensors holding each tensor's step number of this
    update (1 for the first); they are read, not changed. Bias correction
    uses each tensor's own step.

    >>> p, g = [torch.ones(3)], [torch.full((3,), 2.0)]
    >>> m, v = [torch.zeros(3)], [torch.zeros(3)]
    >>> adam_step(p, g, m, v, [torch.tensor(1.0)], 0.1, AdamSettings())
    >>> [round(x, 4) for x in p[0].tolist()]
    [0.9, 0.9, 0.9]
    """
    if not params:
        return
    b1, b2 = settings.betas
    params, grads, exp_avgs, exp_avg_sqs, steps = map(list, (params, grads, exp_avgs, exp_avg_sqs, steps))
    if has_fused_adam(params[0].device.type):
        torch._fused_adam_(
            params,
            grads,
            exp_avgs,
            exp_avg_sqs,
            [],
            steps,
            lr=lr,
            beta1=b1,
            beta2=b2,
            weight_decay=settings.weight_decay,
            eps=settings.eps,
            amsgrad=False,
            maximize=False,
        )
        return
    from torch.optim.adam import adam

    previous = [s - 1 for s in steps]  # the functional form counts the step itself
    adam(
        params,
        grads,
        exp_avgs,
        exp_avg_sqs,
        [],
        previous,
        foreach=True,
        capturable=False,
        differentiable=False,
        amsgrad=False,
        beta1=b1,
        beta2=b2,
        lr=lr,
        weight_decay=settings.weight_decay,
        eps=settings.eps,
        maximize=False,
    )
