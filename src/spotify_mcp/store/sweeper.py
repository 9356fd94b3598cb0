"""The periodic sweep that keeps SQL stores from growing without bound (Redis expires keys itself, too)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import anyio

from spotify_mcp.clock import Clock
from spotify_mcp.oauth.client_expiry import expire_unused_clients
from spotify_mcp.store.base import Store, StoreError

logger = logging.getLogger(__name__)


async def sweep_once(store: Store, clock: Clock, *, unused_client_ttl: float = 0) -> int:
    """Delete what has expired (and clients unused for ``unused_client_ttl`` seconds, if set); log store failures."""
    try:
        removed = await store.sweep(clock.now())
        removed += len(await expire_unused_clients(store, clock.now(), unused_client_ttl))
    except StoreError as exc:
        logger.warning("store sweep failed: %s", exc)
        return 0
    if removed:
        logger.info("store sweep removed %d expired records", removed)
    return removed


async def sweep_forever(
    store: Store,
    clock: Clock,
    interval: float,
    sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
    *,
    unused_client_ttl: float = 0,
) -> None:
    """Sweep every ``interval`` seconds of real time until cancelled (every replica may run one)."""
    while True:
        await sleep(interval)
        await sweep_once(store, clock, unused_client_ttl=unused_client_ttl)
