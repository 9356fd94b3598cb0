"""State storage: the Store protocol, its records, and the backends."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import anyio

from spotify_mcp.store.base import SchemaTooNewError, Store, StoreError
from spotify_mcp.store.postgres import PostgresStore
from spotify_mcp.store.postgres_target import SCHEMES as POSTGRES_SCHEMES
from spotify_mcp.store.redis_store import RedisStore
from spotify_mcp.store.sqlite import SqliteStore

__all__ = [
    "PostgresStore",
    "RedisStore",
    "SchemaTooNewError",
    "SqliteStore",
    "Store",
    "StoreError",
    "open_store",
    "sqlite_path_from_url",
    "store_for_url",
]

_SQLITE_PREFIX = "sqlite:///"


def sqlite_path_from_url(url: str) -> str:
    """Return the file path of a ``sqlite:///relative.db`` or ``sqlite:////abs.db`` URL."""
    if not url.startswith(_SQLITE_PREFIX):
        raise ValueError(
            "a SQLite store URL has three slashes before a relative path and four before an absolute one, "
            "e.g. sqlite:///data/spotify-mcp.db or sqlite:////var/lib/spotify-mcp/store.db"
        )
    path = url[len(_SQLITE_PREFIX) :]
    if not path or path.endswith("/"):
        raise ValueError("the SQLite store URL names no database file, e.g. sqlite:///data/spotify-mcp.db")
    return path


def store_for_url(url: str, *, connect_timeout: float | None = None, max_connections: int | None = None) -> Store:
    """Build, without opening or migrating, the store a URL names (by scheme); ValueError for any other scheme.

    ``connect_timeout`` and ``max_connections`` override the PostgreSQL and Redis defaults where given.
    """
    scheme = urlsplit(url).scheme.lower()
    given: dict[str, Any] = {"connect_timeout": connect_timeout} if connect_timeout is not None else {}
    if scheme in POSTGRES_SCHEMES:
        return PostgresStore(url, **given, **({"max_size": max_connections} if max_connections is not None else {}))
    if scheme in ("redis", "rediss"):
        return RedisStore(url, **given)
    if scheme == "sqlite":
        return SqliteStore(sqlite_path_from_url(url))
    # Only the scheme is echoed back: the rest of a database URL may hold a password.
    raise ValueError(
        f"unsupported store URL scheme {scheme + '://' if scheme else '(none)'}: this release supports "
        "sqlite:///path/to/file.db, postgresql://user@host:port/database?schema=name (or postgres://) "
        "and redis[s]://host:port/db?prefix=name"
    )


async def open_store(url: str) -> Store:
    """Open the store a URL names (by scheme), creating and migrating its schema as needed."""
    store = store_for_url(url)
    if urlsplit(url).scheme.lower() == "sqlite":
        path = sqlite_path_from_url(url)
        if path != ":memory:":
            await anyio.Path(path).parent.mkdir(parents=True, exist_ok=True)
    try:
        await store.migrate()
    except BaseException:
        await store.close()
        raise
    return store
