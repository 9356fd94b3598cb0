"""Time as a dependency, so that expiry logic is testable without sleeping."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """A source of the current Unix time in seconds."""

    def now(self) -> float:
        """Return the current Unix time in seconds."""
        ...


class SystemClock:
    """The real wall clock."""

    def now(self) -> float:
        """Return the current Unix time in seconds."""
        return time.time()


class ManualClock:
    """A clock that only moves when told to; used by tests and the emulator's tests."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self._now = start

    def now(self) -> float:
        """Return the frozen time."""
        return self._now

    def advance(self, seconds: float) -> None:
        """Move the clock forward."""
        self._now += seconds
