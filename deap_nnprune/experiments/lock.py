"""One writer per run folder: an exclusive lock file holding the owner's PID and host.

``run`` takes the lock of its folder before writing anything and releases it
when it ends, however it ends (a finished run, an error, Ctrl-C). A second
``run`` on a locked folder is refused with one line naming the folder and the
owner. A lock left by a process that died (``kill -9``, a power cut) is taken
over when its PID is no longer alive on this host, with a message; a lock
from another host is never taken over, since its PID cannot be checked here.

>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> with RunLock(folder):
...     (folder / LOCK_NAME).is_file()
True
>>> (folder / LOCK_NAME).exists()
False
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from pathlib import Path

__all__ = ["LOCK_NAME", "FolderLocked", "RunLock", "lock_owner", "check_unlocked"]

LOCK_NAME = ".run.lock"


class FolderLocked(ValueError):
    """The run folder is being written by another live process."""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, but belongs to someone else
        return True
    return True


def lock_owner(folder: Path) -> dict | None:
    """``{"pid", "host", "started"}`` of the folder's lock, or None when it has none (or an unreadable one)."""
    try:
        owner = json.loads((Path(folder) / LOCK_NAME).read_text(encoding="utf-8"))
        return owner if isinstance(owner, dict) and isinstance(owner.get("pid"), int) else None
    except (OSError, ValueError):
        return None


def _refusal(folder: Path, owner: dict) -> FolderLocked:
    return FolderLocked(
        f"--out {folder}: in use by another run (PID {owner['pid']} on {owner.get('host', '?')}, "
        f"lock {Path(folder) / LOCK_NAME}); wait for it to end or choose another folder"
    )


def check_unlocked(folder: Path) -> None:
    """Refuse a folder whose lock belongs to a live process (or to another host); writes nothing."""
    owner = lock_owner(folder)
    if owner is None:
        return
    if owner.get("host") != socket.gethostname() or _alive(owner["pid"]):
        raise _refusal(folder, owner)


class RunLock:
    """Context manager: hold the exclusive lock of a run folder (which must exist)."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.path = self.folder / LOCK_NAME
        self.held = False

    def __enter__(self) -> RunLock:
        me = json.dumps(dict(pid=os.getpid(), host=socket.gethostname(), started=time.time()))
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                owner = lock_owner(self.folder)
                if owner is None or (owner.get("host") == socket.gethostname() and not _alive(owner["pid"])):
                    stale = f"PID {owner['pid']}" if owner else "an unreadable lock"
                    print(
                        f"deap-nnprune: taking over the stale lock of {self.folder} ({stale} is gone)",
                        file=sys.stderr,
                        flush=True,
                    )
                    self.path.unlink(missing_ok=True)
                    continue
                raise _refusal(self.folder, owner) from None
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(me)
            self.held = True
            return self
        raise _refusal(self.folder, lock_owner(self.folder) or {"pid": "?", "host": "?"})

    def __exit__(self, *exc) -> None:
        if self.held:
            owner = lock_owner(self.folder)
            if owner is not None and owner.get("pid") == os.getpid():
                self.path.unlink(missing_ok=True)
            self.held = False
