"""A background loop that works through a backlog and sleeps until woken.

Used for work that a committed transaction leaves behind: the outbox relay,
the notification deliverer. ``wake()`` after commit gives millisecond latency;
the idle poll picks up whatever a crashed process left.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable

import eventlet
from eventlet.queue import Empty, Full, LightQueue

log = logging.getLogger(__name__)


class WakeableLoop:
    def __init__(self, name: str, step: Callable[[], bool], idle_seconds: float = 1.0):
        """``step()`` does one batch and returns True if there may be more right away."""
        self.name = name
        self.step = step
        self.idle_seconds = idle_seconds
        self._wakeups: LightQueue = LightQueue(maxsize=1)
        self._running = False

    def wake(self) -> None:
        with contextlib.suppress(Full):
            self._wakeups.put_nowait(None)

    def stop(self) -> None:
        self._running = False
        self.wake()

    def run(self) -> None:
        self._running = True
        failures = 0
        while self._running:
            try:
                more = self.step()
                failures = 0
            except Exception:
                failures += 1
                log.warning("%s failed; retrying", self.name, exc_info=True)
                eventlet.sleep(min(30.0, 0.5 * 2 ** min(failures, 6)))
                continue
            if not more:
                with contextlib.suppress(Empty):
                    self._wakeups.get(timeout=self.idle_seconds)
