"""The periodic sweep deletes what expired, on its interval, and survives a failing store."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from spotify_mcp.clock import ManualClock
from spotify_mcp.store.sqlite import SqliteStore
from spotify_mcp.store.sweeper import sweep_forever, sweep_once
from tests.store.builders import NOW, auth_request, client

pytestmark = pytest.mark.anyio


class Stop(Exception):
    """Ends the loop after the planned number of sweeps."""


async def prepared(tmp_path: Path) -> SqliteStore:
    store = SqliteStore(tmp_path / "s.db")
    await store.migrate()
    await store.add_client(client())
    await store.add_auth_request(auth_request("old", expires_at=NOW + 10))
    await store.add_auth_request(auth_request("later", expires_at=NOW + 1000))
    return store


async def test_each_interval_sweeps_what_has_expired_by_then(tmp_path: Path) -> None:
    store = await prepared(tmp_path)
    clock = ManualClock(NOW)
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) > 2:
            raise Stop
        clock.advance(600)

    try:
        with pytest.raises(Stop):
            await sweep_forever(store, clock, 600, sleep)
        assert waits == [600, 600, 600]
        assert await store.get_auth_request("old", NOW) is None
        assert await store.get_auth_request("later", NOW) is None
    finally:
        await store.close()


async def test_a_failing_store_is_logged_not_raised(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    store = await prepared(tmp_path)
    await store.close()
    with caplog.at_level(logging.WARNING):
        assert await sweep_once(store, ManualClock(NOW + 10_000)) == 0
    assert "store sweep failed" in caplog.text
