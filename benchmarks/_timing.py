"""Wall-clock timing shared by the benchmark scripts: medians after a warm-up, GPU work included."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import torch


def sync() -> None:
    """Wait for queued GPU work, so that a wall-clock time covers it (nothing to do on the CPU)."""
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.synchronize()


def timed(run: Callable[[], object], repeats: int, warmup: int = 1) -> tuple[float, float]:
    """(median, best) wall-clock seconds of *repeats* calls after *warmup* calls."""
    for _ in range(warmup):
        run()
    sync()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        sync()
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times)


def median_seconds(run: Callable[[], object], repeats: int, warmup: int = 1) -> float:
    """Median wall-clock seconds of *repeats* calls after *warmup* calls."""
    return timed(run, repeats, warmup)[0]
