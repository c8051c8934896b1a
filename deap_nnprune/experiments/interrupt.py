"""Ctrl-C during a run: finish up to the next checkpoint, then stop.

The first SIGINT (or SIGTERM) only sets a flag; the monitors that the
algorithms call once per generation see it and stop the run right after a
generation whose checkpoint is on disk, so no work is lost. A second SIGINT
stops at once (losing at most ``run.checkpoint_every`` generations).
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["requested", "reset", "stop_on_signals"]

_STATE = {"requested": False}


def requested() -> bool:
    """Whether a stop was asked for."""
    return _STATE["requested"]


def reset() -> None:
    _STATE["requested"] = False


def _handler(signum, frame) -> None:
    if _STATE["requested"]:
        raise KeyboardInterrupt
    _STATE["requested"] = True
    print(
        "deap-nnprune: stopping after the next checkpoint (press Ctrl-C again to stop now)", file=sys.stderr, flush=True
    )


@contextmanager
def stop_on_signals() -> Iterator[None]:
    """Install the handler for SIGINT and SIGTERM (main thread only), restore the old ones after."""
    reset()
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, _handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
        reset()
