"""Dynamically registered clients that are never used go away (RFC 7591 registration hygiene), as do the
clients of personal access tokens that ended.

A registered client with no grant whose last use (``last_used_at``, touched at /authorize and /token; its
creation time if it was never used) is older than the TTL is deleted, with whatever pending requests it
still has. Clients known by a metadata document URL (CIMD) are never stored, so this never touches them.

Each personal access token (``account/pat.py``) is a stored client of its own (``smcp_patc_…``) with its
expiry in its metadata. Such a client is deleted, with its grant and token, once that expiry has passed, or
once it has had no grant for an hour (its token was revoked at /revoke, or its user deleted; the hour covers
the moment between storing the client and its grant). This runs whatever the TTL, and the TTL never applies
to these clients: while its grant lives, a token's client stays.

Only the ``Store`` protocol's own operations are used, so every backend gets it; every replica may run it
(deleting an already-deleted client is a no-op).
"""

from __future__ import annotations

import json
import logging

from spotify_mcp.oauth.clients import is_pat_client_id
from spotify_mcp.store.base import Store
from spotify_mcp.store.records import ClientRecord

logger = logging.getLogger(__name__)

PAT_ORPHAN_GRACE = 3600
"""Seconds a personal access token's client may exist without a grant before it is deleted."""


def _last_use(client: ClientRecord) -> float:
    return client.last_used_at if client.last_used_at is not None else client.created_at


def personal_token_expiry(client: ClientRecord) -> float:
    """When a personal access token's client ends (its metadata's ``expires_at``; already, if unreadable)."""
    try:
        expires_at = json.loads(client.metadata_json).get("expires_at")
    except (ValueError, AttributeError):
        return 0.0
    return float(expires_at) if isinstance(expires_at, int | float) and not isinstance(expires_at, bool) else 0.0


def _personal_token_ended(client: ClientRecord, granted: set[str], now: float) -> bool:
    if personal_token_expiry(client) <= now:
        return True
    return client.client_id not in granted and client.created_at < now - PAT_ORPHAN_GRACE


async def expire_unused_clients(store: Store, now: float, ttl: float) -> list[str]:
    """Delete ended personal-token clients, and registered clients without grants unused for ``ttl`` s; their ids."""
    cutoff = now - ttl
    clients = await store.list_clients()
    personal = [client for client in clients if is_pat_client_id(client.client_id)]
    candidates = [
        client.client_id
        for client in clients
        if ttl > 0 and not is_pat_client_id(client.client_id) and _last_use(client) < cutoff
    ]
    if not personal and not candidates:
        return []
    granted = {grant.client_id for grant in await store.list_grants()}
    removed: list[str] = []
    for client in personal:
        if _personal_token_ended(client, granted, now) and await store.delete_client(client.client_id):
            removed.append(client.client_id)
    unused: list[str] = []
    for client_id in candidates:
        if client_id in granted:
            continue
        # Re-read just before deleting: a client used since the listing has been touched.
        current = await store.get_client(client_id)
        if current is None or _last_use(current) >= cutoff:
            continue
        if await store.delete_client(client_id):
            unused.append(client_id)
    if removed:
        logger.info("deleted %d ended personal access tokens", len(removed))
    if unused:
        logger.info("deleted %d registered clients unused for %d days", len(unused), ttl // 86400)
    return removed + unused
