"""Redis for the store tests: a private key prefix per store, its keys deleted on close, and the policy for
an absent server (skip locally, fail when the ``CI`` environment variable is set).

Set ``SPOTIFY_MCP_TEST_REDIS_URL`` to use another server than ``redis://127.0.0.1:6379/0``.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError

from spotify_mcp.store.base import Store
from spotify_mcp.store.redis_connection import parse_redis_url
from spotify_mcp.store.redis_store import RedisStore

REDIS_URL = os.environ.get("SPOTIFY_MCP_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")

_unreachable: str | None = None
_checked = False


def raw_client(url: str = REDIS_URL) -> Redis:
    """A plain client on the test server, to look behind a store's back."""
    return Redis.from_url(url, decode_responses=True, protocol=2, socket_connect_timeout=2, socket_timeout=5)


async def require_redis() -> None:
    """Skip the test when Redis is unreachable, or fail it when running in CI."""
    global _checked, _unreachable
    if not _checked:
        client = raw_client()
        try:
            await client.ping()
        except (RedisError, OSError) as exc:
            _unreachable = f"{type(exc).__name__}: {exc}"
        finally:
            await client.aclose()
        _checked = True
    if _unreachable is not None:
        message = f"Redis at {parse_redis_url(REDIS_URL).where} is unreachable ({_unreachable})"
        if os.environ.get("CI"):
            pytest.fail(f"{message}; CI is set, so the Redis store tests must run", pytrace=False)
        pytest.skip(f"{message}; start one or set SPOTIFY_MCP_TEST_REDIS_URL")


def unique_prefix() -> str:
    """A key prefix no other test uses."""
    return f"test-{uuid.uuid4().hex}:"


def store_url(prefix: str, url: str = REDIS_URL) -> str:
    """The test server's URL with a key prefix."""
    return f"{url}{'&' if '?' in url else '?'}prefix={prefix}"


def with_db(db: int, url: str = REDIS_URL) -> str:
    """The test server's URL on another database number."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{db}", parts.query, ""))


async def keys_under(prefix: str, url: str = REDIS_URL) -> list[str]:
    """Every key under a prefix, sorted (prefixes never hold glob characters)."""
    client = raw_client(url)
    try:
        return sorted([key async for key in client.scan_iter(match=f"{prefix}*", count=500)])
    finally:
        await client.aclose()


async def delete_prefix(prefix: str, url: str = REDIS_URL) -> None:
    """Delete every key under a prefix."""
    client = raw_client(url)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*", count=500)]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


class DisposableRedisStore(RedisStore):
    """A RedisStore on its own prefix that deletes all its keys when closed."""

    def __init__(self, url: str = REDIS_URL) -> None:
        """Open a store on a fresh prefix of the server at ``url``."""
        self.test_prefix = unique_prefix()
        self._server_url = url
        super().__init__(store_url(self.test_prefix, url))

    async def close(self) -> None:
        """Delete this store's keys, then close it."""
        try:
            await delete_prefix(self.test_prefix, self._server_url)
        finally:
            await super().close()


async def redis_store(tmp_path: Path) -> Store:
    """A Redis store on a fresh key prefix (the contract suite's factory)."""
    await require_redis()
    return DisposableRedisStore()
