"""Fixtures for the in-process authorization-flow tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from spotify_mcp.clock import ManualClock
from tests.support import Harness, harness


@pytest.fixture
def clock() -> ManualClock:
    """A clock the test moves by hand."""
    return ManualClock()


@pytest.fixture
async def h(tmp_path: Path, clock: ManualClock) -> AsyncIterator[Harness]:
    """A running server wired to the emulator."""
    async with harness(tmp_path, clock=clock) as running:
        yield running
