"""Choosing and checking the torch device that networks and data live on."""

from __future__ import annotations

import torch

__all__ = ["resolve_device"]

DeviceLike = str | torch.device | None


def resolve_device(device: DeviceLike = None) -> torch.device:
    """Return a usable ``torch.device``, refusing one this machine does not have.

    ``None`` means the CPU. Checked up front, so a run never starts work on a
    device that is missing.

    >>> resolve_device("cpu")
    device(type='cpu')
    """
    if device is None:
        return torch.device("cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise ValueError(f"device={device!r} is not a valid torch device ({error})") from None
    if resolved.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        index = 0 if resolved.index is None else resolved.index
        if index >= count:
            have = f"{count} CUDA device(s)" if count else "no CUDA device"
            raise ValueError(f"device={device!r} is not available: this machine has {have}; use device='cpu'")
    elif resolved.type not in ("cpu", "mps"):
        raise ValueError(f"device={device!r} is not supported; use 'cpu' or 'cuda[:N]'")
    elif resolved.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"device={device!r} is not available on this machine; use device='cpu'")
    return resolved


def module_device(module: torch.nn.Module) -> torch.device:
    """The device of a module's first parameter (CPU for a module without parameters)."""
    for param in module.parameters():
        return param.device
    return torch.device("cpu")
