"""Dynamically registered clients that are never used go away (RFC 7591 registration hygiene).

A registered client with no grant whose last use (``last_used_at``, touched at /authorize and /token; its
creation time if it was never used) is older than the TTL is deleted, with whatever pending requests it
still has. Clients known by a metadata document URL (CIMD) are never stored, so this never touches them.
Only the ``Store`` protocol's own operations are used, so every backend gets it; every replica may run it
(deleting an already-deleted client is a no-op).
"""

from __future__ import annotations

import logging

from spotify_mcp.store.base import Store
from spotify_mcp.store.records import ClientRecord

logger = logging.getLogger(__name__)


def _last_use(client: ClientRecord) -> float:
    return client.last_used_at if client.last_used_at is not None else client.created_at


async def expire_unused_clients(store: Store, now: float, ttl: float) -> list[str]:
    """Delete registered clients without grants unused for ``ttl`` seconds; return their ids (none if ttl <= 0)."""
    if ttl <= 0:
        return []
    cutoff = now - ttl
    candidates = [client.client_id for client in await store.list_clients() if _last_use(client) < cutoff]
    if not candidates:
        return []
    granted = {grant.client_id for grant in await store.list_grants()}
    removed: list[str] = []
    for client_id in candidates:
        if client_id in granted:
            continue
        # Re-read just before deleting: a client used since the listing has been touched.
        current = await store.get_client(client_id)
        if current is None or _last_use(current) >= cutoff:
            continue
        if await store.delete_client(client_id):
            removed.append(client_id)
    if removed:
        logger.info("deleted %d registered clients unused for %d days", len(removed), ttl // 86400)
    return removed
