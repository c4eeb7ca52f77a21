"""Where blox-gym keeps its cache and default tables; atomic writes, target locks and leftovers.

Temporary siblings of a target carry the writing process's id (``.NAME.partial-PID-XXXX``,
``.NAME.old-PID-XXXX``, ``.NAME.PID-XXXX.tmp``), so that the next write to the same target can
remove those of processes that died (killed) without touching those of a live writer.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import threading
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

_LEFTOVER = re.compile(r"\.(?:partial|old)-([0-9]+)-[0-9a-f]+$|\.([0-9]+)-[^.]+\.tmp$")
_GUARD = threading.Lock()
_HELD: dict[str, list] = {}  # lock file -> [thread lock, open file, depth]


def cache_dir() -> Path:
    """``$BLOX_GYM_DATA``, else ``$XDG_CACHE_HOME/blox-gym``, else ``~/.cache/blox-gym``."""
    root = os.environ.get("BLOX_GYM_DATA")
    if not root:
        base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
        root = Path(base) / "blox-gym"
    path = Path(root).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def umask() -> int:
    """The process's file-creation mask (read from /proc where possible, without changing it)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except OSError:
        pass
    with _GUARD:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def sibling(path: str | os.PathLike, kind: str) -> Path:
    """A fresh name next to ``path`` for a ``partial`` (being written) or ``old`` (being replaced)
    copy, tagged with this process's id."""
    path = Path(path)
    return path.parent / f".{path.name}.{kind}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def remove_leftovers(path: str | os.PathLike) -> list[Path]:
    """Delete the temporary siblings of ``path`` left by processes that no longer run; return them."""
    path = Path(path)
    prefix = f".{path.name}."
    removed = []
    if not path.parent.is_dir():
        return removed
    for entry in path.parent.iterdir():
        if not entry.name.startswith(prefix):
            continue
        match = _LEFTOVER.search(entry.name[len(prefix) - 1:])
        if match is None or _alive(int(match.group(1) or match.group(2))):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        removed.append(entry)
    return removed


@contextmanager
def target_lock(path: str | os.PathLike) -> Iterator[None]:
    """Hold the exclusive lock of ``path`` (the file ``.NAME.lock`` beside it) inside the block.

    Other processes (and threads) wait; the same thread may nest it.  Writers of stores take
    it around their existence check and final rename, so these form one step.
    """
    import fcntl

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    key = str(path.parent.resolve() / f".{path.name}.lock")
    with _GUARD:
        entry = _HELD.setdefault(key, [threading.RLock(), None, 0])
    with entry[0]:
        if entry[2] == 0:
            entry[1] = open(key, "a")
            fcntl.flock(entry[1], fcntl.LOCK_EX)
        entry[2] += 1
        try:
            yield
        finally:
            entry[2] -= 1
            if entry[2] == 0:
                entry[1].close()  # releases the flock
                entry[1] = None


def atomic_write(path: str | os.PathLike, write: Callable[[str], object]) -> None:
    """Call ``write(tmp)`` on a temporary file next to ``path``, then rename it to ``path``;
    on any error the temporary file is removed and ``path`` is left as it was.  The file gets
    the permissions ``open()`` would give it (0666 less the umask)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{os.getpid()}-",
                               suffix=".tmp")
    os.close(fd)
    try:
        os.chmod(tmp, 0o666 & ~umask())
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_save_npy(path: Path, array: np.ndarray) -> None:
    """Write ``array`` to ``path`` through a temporary file and a rename."""
    def write(tmp: str) -> None:
        with open(tmp, "wb") as f:  # a file object: np.save would add ".npy" to a name
            np.save(f, array)

    atomic_write(path, write)
