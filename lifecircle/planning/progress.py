"""Progress bars for the long steps of a run (reading, network, analysis, writing); silent unless enabled."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Sequence

log = logging.getLogger(__name__)

#: Steps shorter than this are not worth a bar: the bar appears only once a step takes longer.
MIN_SECONDS = 1.0


class Steps:
    """A step counter shown as a tqdm bar on stderr once the run has taken longer than a second.

    Use as a context manager; call :meth:`next` after each step. Each step is also logged (debug) with its time.
    When stderr is not a terminal (piped or redirected), no bar is drawn (its carriage returns would run into the
    summary printed after it): each step done is one whole line instead.

    Parameters
    ----------
    names
        The steps, in order.
    enabled
        Show the bar (the command line passes ``not --quiet``); the library default is off.
    """

    def __init__(self, names: Sequence[str], *, enabled: bool = False):
        self.names = list(names)
        self.enabled = enabled
        self._bar = None
        self._done = 0
        self._t0 = self._t_step = 0.0

    def __enter__(self) -> Steps:
        self._t0 = self._t_step = time.perf_counter()
        return self

    def _ensure_bar(self) -> None:
        if not _is_terminal(sys.stderr):
            return
        if self._bar is None and self.enabled and time.perf_counter() - self._t0 >= MIN_SECONDS:
            from tqdm import tqdm

            self._bar = tqdm(
                total=len(self.names), desc="lifecircle", unit="step", file=sys.stderr, leave=False, initial=self._done
            )

    def next(self) -> None:
        """Mark the current step done and show the next one."""
        now = time.perf_counter()
        name = self.names[self._done] if self._done < len(self.names) else "?"
        log.debug("%s took %.1f s", name, now - self._t_step)
        self._t_step = now
        self._ensure_bar()  # created at the steps done so far, then moved on by one
        self._done += 1
        if self.enabled and not _is_terminal(sys.stderr):
            print(f"lifecircle: [{self._done}/{len(self.names)}] {name} done", file=sys.stderr, flush=True)
        if self._bar is not None:
            self._bar.update(1)
            if self._done < len(self.names):
                self._bar.set_postfix_str(self.names[self._done])

    def __exit__(self, *exc) -> None:
        if self._bar is not None:
            self._bar.close()
            sys.stderr.flush()  # the bar is gone before anything is printed after it


def _is_terminal(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # replaced or closed streams
        return False
