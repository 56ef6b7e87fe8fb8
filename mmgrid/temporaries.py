"""Temporaries of atomic writes: recognisable names that record their owner, and stale cleanup.

Every temporary file or directory is named ``.mmgrid-tmp.{host}.{pid}-{start}.{random}.{name}``
next to its final path ``name``: the host and the process (its PID and start time, so that a
reused PID is not mistaken for the owner) that writes it. A temporary is *stale* when its owner
runs on this host and is gone (killed jobs leave them: SIGKILL runs no cleanup). The next writer
of the same output removes its stale temporaries; ``mmgrid clean --stale`` finds the rest. A
temporary of another host is never removed automatically: on a shared file system its owner may
still be running there. A SIGTERM is turned into an orderly exit where
:func:`exit_on_sigterm` is active (every workflow job, and `mmgrid merge`), so that the
writers remove their own temporaries.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import signal
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

PREFIX = ".mmgrid-tmp."
_PROC = Path("/proc")
_NAME = re.compile(
    r"^\.mmgrid-tmp\.(?P<host>[A-Za-z0-9_-]+)\.(?P<pid>[0-9]+)-(?P<start>[0-9]+)\."
    r"(?P<random>[a-z0-9_]+)\.(?P<name>.+)$"
)


@cache
def this_host() -> str:
    """This machine's host name as it appears in temporary names (letters, digits, ``_-``)."""
    return re.sub(r"[^A-Za-z0-9_-]", "-", socket.gethostname().split(".")[0]) or "localhost"


def process_start(pid: int) -> int | None:
    """Start time of process ``pid`` in clock ticks after boot (from Linux ``/proc``), None when
    it is gone (a zombie counts as gone: it writes nothing more); 0 when it exists but its start
    time is unknown (no ``/proc``)."""
    if not _PROC.is_dir():
        return _exists(pid)
    try:
        stat = (_PROC / str(pid) / "stat").read_text()
    except FileNotFoundError:
        return None
    except OSError:
        return 0
    # the command name (field 2) may hold spaces and parentheses: split after its last ')'
    fields = stat.rsplit(")", 1)[1].split()
    return None if fields[0] in ("Z", "X") else int(fields[19])


def _exists(pid: int) -> int | None:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # it exists, owned by another user
    return 0


def owner_tag() -> str:
    """``{host}.{pid}-{start}`` of this process."""
    pid = os.getpid()
    return f"{this_host()}.{pid}-{process_start(pid) or 0}"


@dataclass(frozen=True)
class Temporary:
    """A temporary found on disk, and what its name says about its owner."""

    path: Path
    host: str
    pid: int
    start: int
    final_name: str

    @property
    def local(self) -> bool:
        return self.host == this_host()

    @property
    def stale(self) -> bool:
        """Owned by a process of this host that is gone (a reused PID does not count)."""
        if not self.local:
            return False
        start = process_start(self.pid)
        return start is None or (self.start != 0 and start != 0 and start != self.start)

    def remove(self) -> None:
        if self.path.is_dir() and not self.path.is_symlink():
            shutil.rmtree(self.path, ignore_errors=True)
        else:
            self.path.unlink(missing_ok=True)


def parse(path: Path) -> Temporary | None:
    """The temporary named by ``path``, or None when the name is not one."""
    m = _NAME.match(path.name)
    if m is None:
        return None
    return Temporary(path, m["host"], int(m["pid"]), int(m["start"]), m["name"])


def _create(final: Path, make) -> Path:
    while True:
        path = final.parent / f"{PREFIX}{owner_tag()}.{secrets.token_hex(4)}.{final.name}"
        try:
            make(path)
        except FileExistsError:
            continue
        return path


def new_file(final: Path) -> Path:
    """Create an empty temporary file for ``final``, in its directory, with the permissions
    the umask gives (like any new file); the name ends with ``final``'s (same suffixes)."""
    return _create(
        final, lambda p: os.close(os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    )


def new_dir(final: Path) -> Path:
    """Create an empty temporary directory for ``final``, in its directory (umask permissions)."""
    return _create(final, lambda p: os.mkdir(p, 0o777))


def remove_stale_for(final: Path) -> list[Path]:
    """Remove the stale temporaries of ``final`` (same directory and name); return them."""
    removed = []
    try:
        entries = list(os.scandir(final.parent))
    except FileNotFoundError:
        return removed
    for entry in entries:
        if not entry.name.startswith(PREFIX):
            continue
        tmp = parse(Path(entry.path))
        if tmp is not None and tmp.final_name == final.name and tmp.stale:
            tmp.remove()
            removed.append(tmp.path)
    return removed


def find(root: Path) -> Iterator[Temporary]:
    """Every temporary under ``root`` (a temporary directory is not searched inside)."""
    for directory, subdirs, files in os.walk(root):
        for name in [*subdirs, *files]:
            if name.startswith(PREFIX) and (tmp := parse(Path(directory) / name)) is not None:
                yield tmp
        subdirs[:] = [d for d in subdirs if not d.startswith(PREFIX)]


@contextlib.contextmanager
def exit_on_sigterm() -> Iterator[None]:
    """While active (in the main thread), SIGTERM raises ``SystemExit(143)``, so that atomic
    writers remove their temporaries on the way out; SIGKILL cannot be caught, and what it
    leaves is removed later (see the module docstring)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def leave(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, leave)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
