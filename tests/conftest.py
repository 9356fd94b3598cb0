"""Shared test configuration: tests run on asyncio through anyio's pytest plugin; a clock and a harness."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from spotify_mcp.clock import ManualClock
from tests.support import Harness, harness


@pytest.fixture
def anyio_backend() -> str:
    """Run async tests on asyncio only."""
    return "asyncio"


@pytest.fixture
def clock() -> ManualClock:
    """A clock the test moves by hand."""
    return ManualClock()


@pytest.fixture
async def h(tmp_path: Path, clock: ManualClock) -> AsyncIterator[Harness]:
    """A running server wired to the Spotify emulator, in-process."""
    async with harness(tmp_path, clock=clock) as running:
        yield running
