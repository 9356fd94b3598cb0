"""The Store contract for fixed-window rate-limit counters (``Store.hit``), on every backend.

Racing hits are counted exactly, whether they share one store or come from a second store on the same database
(as another replica would); past windows go with the sweep on SQL and by TTL on Redis.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from spotify_mcp.store.base import RATE_KEY_MAX_LENGTH, Store, rate_window
from spotify_mcp.store.postgres import PostgresStore
from spotify_mcp.store.redis_store import RedisStore
from spotify_mcp.store.sqlite import SqliteStore

from .builders import NOW, race
from .pg import DisposableSchemaStore, schema_url
from .redis_support import DisposableRedisStore, raw_client, store_url

pytestmark = pytest.mark.anyio

MINUTE = 60.0


def twin(store: Store, tmp_path: Path) -> Store:
    """A second store on the same database as ``store``, with its own connections, like another replica."""
    if isinstance(store, DisposableSchemaStore):
        return PostgresStore(schema_url(store.schema))
    if isinstance(store, DisposableRedisStore):
        return RedisStore(store_url(store.test_prefix))
    assert isinstance(store, SqliteStore)
    return SqliteStore(tmp_path / "store.db")


# -- counting --------------------------------------------------------------------------------------
async def test_hits_are_counted_within_a_window(store: Store) -> None:
    assert [await store.hit("register:10.0.0.1", MINUTE, NOW + i) for i in range(5)] == [1, 2, 3, 4, 5]


async def test_the_next_window_starts_again_at_one(store: Store) -> None:
    start, end = rate_window("k", MINUTE, NOW + 10)
    for _ in range(3):
        await store.hit("k", MINUTE, start)
    assert await store.hit("k", MINUTE, end - 0.001) == 4
    assert await store.hit("k", MINUTE, end) == 1
    assert await store.hit("k", MINUTE, end + MINUTE - 1) == 2
    assert await store.hit("k", MINUTE, end + 5 * MINUTE) == 1


async def test_windows_are_aligned_to_multiples_of_their_length(store: Store) -> None:
    assert rate_window("k", MINUTE, NOW + 59.5) == (NOW, NOW + MINUTE)
    assert rate_window("k", 3600, NOW + 59.5) == (NOW, NOW + 3600)
    assert rate_window("k", 7, 100) == (98, 105)
    await store.hit("k", MINUTE, NOW + 59)
    assert await store.hit("k", MINUTE, NOW) == 2  # same window, whichever moment of it


async def test_keys_do_not_share_counts(store: Store) -> None:
    keys = ["token:10.0.0.1", "token:10.0.0.2", "revoke:10.0.0.1", "tools:u1", "tools:u1:", "x" * RATE_KEY_MAX_LENGTH]
    for n, key in enumerate(keys, start=1):
        for _ in range(n):
            await store.hit(key, MINUTE, NOW)
    assert [await store.hit(key, MINUTE, NOW) for key in keys] == [n + 1 for n in range(1, len(keys) + 1)]


async def test_one_key_over_two_window_lengths_keeps_two_counts(store: Store) -> None:
    # NOW is a multiple of both lengths, so both windows start at NOW.
    assert await store.hit("k", MINUTE, NOW) == 1
    assert await store.hit("k", 3600, NOW) == 1
    assert await store.hit("k", MINUTE, NOW) == 2


async def test_fractional_windows_and_times_are_exact(store: Store) -> None:
    assert await store.hit("k", 0.5, NOW + 0.25) == 1
    assert await store.hit("k", 0.5, NOW + 0.49) == 2
    assert await store.hit("k", 0.5, NOW + 0.5) == 1


async def test_racing_hits_on_one_key_sum_exactly(store: Store) -> None:
    # 30 racers: the Redis store's pool holds 32 connections and refuses more at once.
    counts = await race(30, lambda i: store.hit("tools:u1", MINUTE, NOW + i * 0.1))
    assert sorted(counts) == list(range(1, 31))


async def test_racing_hits_from_two_replicas_sum_exactly(store: Store, tmp_path: Path) -> None:
    other = twin(store, tmp_path)
    try:
        replicas = (store, other)
        counts = await race(40, lambda i: replicas[i % 2].hit("token:10.0.0.1", MINUTE, NOW))
        assert sorted(counts) == list(range(1, 41))
        assert await other.hit("token:10.0.0.1", MINUTE, NOW) == 41
    finally:
        await other.close()


async def test_a_bad_key_or_window_is_refused(store: Store) -> None:
    for key in ("", "x" * (RATE_KEY_MAX_LENGTH + 1)):
        with pytest.raises(ValueError, match="key"):
            await store.hit(key, MINUTE, NOW)
    for window in (0.0, -1.0, math.inf, math.nan):
        with pytest.raises(ValueError, match="window"):
            await store.hit("k", window, NOW)


# -- cleaning up -----------------------------------------------------------------------------------
async def test_sweep_removes_windows_that_have_ended_and_keeps_the_current_one(store: Store) -> None:
    if isinstance(store, RedisStore):
        pytest.skip("Redis counters expire by TTL (see the test below)")
    await store.hit("old", MINUTE, NOW - MINUTE)
    await store.hit("old", MINUTE, NOW - 2 * MINUTE)
    await store.hit("current", MINUTE, NOW)
    await store.hit("hourly", 3600, NOW)
    assert await store.sweep(NOW + 1) == 2
    assert await store.sweep(NOW + 1) == 0
    assert await store.hit("current", MINUTE, NOW + 1) == 2
    assert await store.hit("hourly", 3600, NOW + 1) == 2
    assert await store.hit("old", MINUTE, NOW - MINUTE) == 1  # a swept window counts from scratch
    assert await store.sweep(NOW + 3600) == 3


async def test_redis_counters_expire_at_the_end_of_their_window_plus_the_margin(store: Store) -> None:
    if not isinstance(store, DisposableRedisStore):
        pytest.skip("SQL stores sweep past windows (see the test above)")
    far = 4_000_000_000.0  # after Redis's own clock, so the TTL follows the window, not the clamp
    start, end = rate_window("tools:u1", MINUTE, far + 30)
    await store.hit("tools:u1", MINUTE, far + 30)
    await store.hit("tools:u1", MINUTE, far + 31)
    key = f"{store.prefix}rate:{start!r}:{end!r}:tools:u1"
    async with raw_client() as client:
        assert await client.get(key) == "2"
        assert await client.pexpiretime(key) == math.ceil(end * 1000) + store.ttl_margin_ms
    # A window already over by Redis's clock still outlives the caller's decision by the margin.
    past_start, past_end = rate_window("past", MINUTE, 1_000_000_000.0)
    await store.hit("past", MINUTE, 1_000_000_000.0)
    async with raw_client() as client:
        ttl = await client.pttl(f"{store.prefix}rate:{past_start!r}:{past_end!r}:past")
    assert 0 < ttl <= store.ttl_margin_ms
    assert await store.sweep(far + 3600) == 0
