"""Opening the configured store for an admin command: without migrating it, and with errors that name no secret.

``open_store`` (what ``serve`` uses) migrates the schema as it opens the store; an admin command must not, so
that ``migrations show`` can report what is pending and a listing never changes the schema behind the operator's
back. Only ``migrations apply`` migrates.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit

import anyio

from spotify_mcp.observability.health import expected_schema_version
from spotify_mcp.store import Store, sqlite_path_from_url, store_for_url
from spotify_mcp.store.postgres_target import SCHEMES as POSTGRES_SCHEMES
from spotify_mcp.store.postgres_target import PostgresTarget
from spotify_mcp.store.redis_connection import parse_redis_url

EXIT_OK = 0
EXIT_FAILED = 1
"""The command ran but did not do everything asked (unknown id, declined, incomplete rotation, failed check)."""
EXIT_CONFIG = 2
"""The configuration is wrong or the store unreachable or at the wrong schema; nothing was done."""
CONNECT_TIMEOUT = 10.0


class AdminError(Exception):
    """An admin command cannot go on; the message says why and what to do (exit code 2)."""


def store_location(url: str) -> str:
    """Name the store a URL points at, without its password: backend, place, schema or prefix."""
    scheme = urlsplit(url).scheme.lower()
    try:
        if scheme in POSTGRES_SCHEMES:
            target = PostgresTarget.parse(url)
            return f"PostgreSQL {target.where} (schema {target.schema})"
        if scheme in ("redis", "rediss"):
            redis = parse_redis_url(url)
            return f"Redis {redis.where} (prefix {redis.prefix})"
        if scheme == "sqlite":
            return f"SQLite {sqlite_path_from_url(url)}"
    except ValueError as exc:
        raise AdminError(f"SPOTIFY_MCP_STORE_URL is invalid: {exc}") from None
    raise AdminError(
        f"SPOTIFY_MCP_STORE_URL has the unsupported scheme {scheme + '://' if scheme else '(none)'}; use "
        "sqlite:///path.db, postgresql://user@host:5432/db?schema=name or redis://host:6379/0?prefix=name"
    )


def sqlite_file(url: str) -> Path | None:
    """The database file of a SQLite store URL (None for other backends and ``:memory:``)."""
    if urlsplit(url).scheme.lower() != "sqlite":
        return None
    path = sqlite_path_from_url(url)
    return None if path == ":memory:" else Path(path)


async def connect(url: str, *, create: bool = False) -> Store:
    """Build the store a URL names without migrating it; a SQLite file is created only when ``create`` is set."""
    store_location(url)  # validates the URL with a message that names no password
    path = sqlite_file(url)
    if path is not None and not await anyio.Path(path).exists():
        if not create:
            raise AdminError(
                f"there is no SQLite store at {path} yet: check SPOTIFY_MCP_STORE_URL and SPOTIFY_MCP_DATA_DIR "
                "(serve, and `spotify-mcp admin migrations apply`, create it)"
            )
        await anyio.Path(path).parent.mkdir(parents=True, exist_ok=True)
    return store_for_url(url, connect_timeout=CONNECT_TIMEOUT, max_connections=2)


async def check_schema(store: Store) -> None:
    """Refuse (AdminError) a store whose schema is not the one this release writes."""
    found, expected = await store.schema_version(), expected_schema_version(store)
    if found > expected:
        raise AdminError(
            f"the store is at schema version {found}, newer than this release's {expected}: "
            "use the spotify-mcp release that wrote it"
        )
    if found < expected:
        raise AdminError(
            f"the store is at schema version {found}, this release needs {expected}: "
            "run `spotify-mcp admin migrations apply` (serve also migrates when it starts)"
        )


@asynccontextmanager
async def opened(url: str, *, create: bool = False, current: bool = True) -> AsyncIterator[Store]:
    """Hold the store for one command, closing it afterwards; with ``current``, refuse a schema not this release's."""
    store = await connect(url, create=create)
    try:
        if current:
            await check_schema(store)
        yield store
    finally:
        with anyio.CancelScope(shield=True):
            await store.close()


def run_on_store(url: str, work: Callable[[Store], Awaitable[int]]) -> int:
    """Run ``work`` on the store at ``url`` (at this release's schema) and return its exit code."""

    async def main() -> int:
        async with opened(url) as store:
            return await work(store)

    return anyio.run(main)
