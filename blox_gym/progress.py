"""Progress bars for long work, on a terminal and in logs alike.

On a terminal, :func:`progress_bar` is a plain tqdm bar.  Where stderr is no terminal (CI
logs, ``| cat``, a file), tqdm's own default would stay silent (or redraw with carriage
returns that a log shows as one line); here the bar writes one plain line every
``LOG_INTERVAL_S`` seconds instead, also while a single step takes minutes, and nothing for
work done within that time.  Every long loop of the library and the command line uses it.
"""

from __future__ import annotations

import sys
import threading
from typing import Any, Iterable, TextIO

LOG_INTERVAL_S = 5.0  # seconds between lines in a log


def progress_bar(iterable: Iterable | None = None, *, enabled: bool | None = True,
                 interval_s: float | None = None, **kwargs: Any):
    """A tqdm bar over ``iterable`` (or with ``total=``, updated by hand); tqdm's keyword
    arguments (``desc``, ``unit``, ``total``, ``initial``, ...) pass through.

    ``enabled=False`` shows nothing; ``None`` or ``True`` shows it: redrawn in place on a
    terminal, one line every ``interval_s`` seconds (default ``LOG_INTERVAL_S``) elsewhere.
    """
    from tqdm import autonotebook, std
    from tqdm.auto import tqdm

    stream = kwargs.pop("file", None) or sys.stderr
    if enabled is False:
        return tqdm(iterable, disable=True, **kwargs)
    if _is_terminal(stream) or autonotebook.tqdm is not std.tqdm:  # a terminal or a notebook
        return tqdm(iterable, file=stream, **kwargs)
    every = LOG_INTERVAL_S if interval_s is None else interval_s
    return _log_bar_class()(iterable, file=_Lines(stream), mininterval=every, delay=every,
                            ascii=True, dynamic_ncols=False, ncols=100, heartbeat_s=every,
                            **kwargs)


def _is_terminal(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


class _Lines:
    """A stream for tqdm that turns its in-place redraws into separate lines."""

    def __init__(self, stream: TextIO):
        self.stream = stream
        self.last = ""

    def write(self, text: str) -> None:
        line = text.replace("\r", "").strip()
        if line and line != self.last:  # the closing redraw repeats the last update
            self.stream.write(line + "\n")
            self.last = line

    def flush(self) -> None:
        self.stream.flush()


_LOG_BAR = None


def _log_bar_class():
    """tqdm with a heartbeat thread: a line every ``heartbeat_s`` seconds even when no step
    finishes in that time (tqdm alone redraws only on updates)."""
    global _LOG_BAR
    if _LOG_BAR is not None:
        return _LOG_BAR
    from tqdm import tqdm

    class LogBar(tqdm):
        def __init__(self, *args: Any, heartbeat_s: float = LOG_INTERVAL_S, **kwargs: Any):
            super().__init__(*args, **kwargs)
            self._stop = threading.Event()
            if not self.disable:
                threading.Thread(target=self._beat, args=(heartbeat_s,), daemon=True,
                                 name=f"progress heartbeat {self.desc}").start()

        def _beat(self, every: float) -> None:
            while not self._stop.wait(every):
                if self.disable:
                    return
                if self._time() - self.last_print_t >= every:  # no update line meanwhile
                    self.refresh()

        def close(self) -> None:
            self._stop.set()
            super().close()

    _LOG_BAR = LogBar
    return LogBar
