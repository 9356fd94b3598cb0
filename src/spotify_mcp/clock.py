"""Time as a dependency, so that expiry logic is testable without sleeping."""

from __future__ import annotations

import time
from typing import Protocol

import anyio
import anyio.lowlevel


class Clock(Protocol):
    """A source of the current Unix time in seconds."""

    def now(self) -> float:
        """Return the current Unix time in seconds."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of this clock's time."""
        ...


class SystemClock:
    """The real wall clock."""

    def now(self) -> float:
        """Return the current Unix time in seconds."""
        return time.time()

    async def sleep(self, seconds: float) -> None:
        """Really wait."""
        await anyio.sleep(seconds)


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

    async def sleep(self, seconds: float) -> None:
        """Move the clock forward by ``seconds`` at once, letting other tasks run."""
        self._now += max(seconds, 0.0)
        await anyio.lowlevel.checkpoint()
