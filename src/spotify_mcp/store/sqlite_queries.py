"""The SQLite backend's queries: running statements, and mapping records to rows and back."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Sequence
from enum import StrEnum
from typing import Any, TypeVar, get_type_hints

import aiosqlite

from spotify_mcp.store.records import (
    AuthCodeRecord,
    AuthRequestRecord,
    ClientRecord,
    GrantRecord,
    SpotifyCredentials,
    TokenRecord,
)

Params = dict[str, Any]
R = TypeVar("R")


def join_scopes(scopes: tuple[str, ...]) -> str:
    """Store scopes as one space-separated string."""
    return " ".join(scopes)


def split_scopes(text: str) -> tuple[str, ...]:
    """Read scopes back from their space-separated form."""
    return tuple(text.split())


def insert_sql(table: str, params: Params) -> str:
    """Build an INSERT for ``table`` naming every key of ``params`` (keys are ours, never user input)."""
    columns = ", ".join(params)
    values = ", ".join(f":{name}" for name in params)
    return f"INSERT INTO {table} ({columns}) VALUES ({values})"  # noqa: S608


def _converters(cls: type[Any]) -> dict[str, tuple[Callable[[Any], Any], Callable[[Any], Any]]]:
    """Per field of a record: how to write it to a column and read it back."""
    converters: dict[str, tuple[Callable[[Any], Any], Callable[[Any], Any]]] = {}
    for name, hint in get_type_hints(cls).items():
        if hint == tuple[str, ...]:
            converters[name] = (join_scopes, split_scopes)
        elif isinstance(hint, type) and issubclass(hint, StrEnum):
            converters[name] = (lambda value: value.value, hint)
        elif hint is bool:
            converters[name] = (int, bool)
        else:
            converters[name] = (_same, _same)
    return converters


def _same(value: Any) -> Any:
    return value


_CONVERTERS: dict[type[Any], dict[str, tuple[Callable[[Any], Any], Callable[[Any], Any]]]] = {
    cls: _converters(cls)
    for cls in (ClientRecord, AuthRequestRecord, AuthCodeRecord, GrantRecord, TokenRecord, SpotifyCredentials)
}


def to_params(record: Any) -> Params:
    """Return the row values of a record: one column per field, named like the field."""
    return {name: write(getattr(record, name)) for name, (write, _) in _CONVERTERS[type(record)].items()}


def from_row(cls: type[R], row: sqlite3.Row) -> R:
    """Rebuild a record of type ``cls`` from its row."""
    return cls(**{name: read(row[name]) for name, (_, read) in _CONVERTERS[cls].items()})


PUT_CREDENTIALS_SQL = """
INSERT INTO spotify_credentials (user_id, display_name, access_token_sealed, refresh_token_sealed,
    expires_at, scopes, authorized_at, updated_at, version)
VALUES (:user_id, :display_name, :access_token_sealed, :refresh_token_sealed,
    :expires_at, :scopes, :authorized_at, :updated_at, :version)
ON CONFLICT (user_id) DO UPDATE SET
    display_name = excluded.display_name,
    access_token_sealed = excluded.access_token_sealed,
    refresh_token_sealed = excluded.refresh_token_sealed,
    expires_at = excluded.expires_at,
    scopes = excluded.scopes,
    authorized_at = excluded.authorized_at,
    updated_at = excluded.updated_at,
    version = MAX(excluded.version, spotify_credentials.version + 1)
"""

LIST_CREDENTIALS_SQL = "SELECT * FROM spotify_credentials ORDER BY authorized_at, user_id"
"""Every user's credentials, oldest first."""

CAS_CREDENTIALS_SQL = """
UPDATE spotify_credentials SET
    display_name = :display_name,
    access_token_sealed = :access_token_sealed,
    refresh_token_sealed = :refresh_token_sealed,
    expires_at = :expires_at,
    scopes = :scopes,
    authorized_at = :authorized_at,
    updated_at = :updated_at,
    version = :version
WHERE user_id = :user_id AND version = :expected_version
"""

GRANT_EXPIRY_SQL = """
SELECT count(*) AS tokens, sum(expires_at IS NULL) AS forever, max(expires_at) AS latest FROM tokens WHERE grant_id = ?
"""
"""How many tokens a grant has, whether one never expires, and the latest expiry."""


HIT_SQL = """
INSERT INTO rate_limit_windows (key, window_start, window_end, hits) VALUES (?, ?, ?, 1)
ON CONFLICT (key, window_start, window_end) DO UPDATE SET hits = hits + 1
RETURNING hits
"""
"""Count one event in a rate-limit window and return the window's count (under the write lock)."""


def describe(exc: sqlite3.Error) -> str:
    """Name an sqlite error without its parameters (SQLite's messages never carry bound values)."""
    name = getattr(exc, "sqlite_errorname", None) or type(exc).__name__
    return f"{name}: {exc}"


async def fetch_all(db: aiosqlite.Connection, sql: str, params: Sequence[Any] | Params = ()) -> list[sqlite3.Row]:
    """Run a query and fetch every row in one trip to the connection's thread."""
    return list(await db.execute_fetchall(sql, params))


async def fetch_one(db: aiosqlite.Connection, sql: str, params: Sequence[Any] | Params = ()) -> sqlite3.Row | None:
    """Run a query expected to match at most one row."""
    rows = await fetch_all(db, sql, params)
    return rows[0] if rows else None


async def run(db: aiosqlite.Connection, sql: str, params: Sequence[Any] | Params = ()) -> int:
    """Run a statement and return how many rows it changed."""
    async with db.execute(sql, params) as cursor:
        return cursor.rowcount


async def insert(db: aiosqlite.Connection, table: str, params: Params) -> None:
    """Insert one row."""
    await run(db, insert_sql(table, params), params)


async def read_version(db: aiosqlite.Connection) -> int:
    """Read the applied schema version, 0 when the database has none."""
    meta = await fetch_one(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'")
    if meta is None:
        return 0
    row = await fetch_one(db, "SELECT COALESCE(MAX(version), 0) AS version FROM schema_migrations")
    return 0 if row is None else int(row["version"])


async def delete_grant(db: aiosqlite.Connection, grant_id: str) -> None:
    """Delete a grant and its tokens (the foreign key would cascade; being explicit costs nothing)."""
    await run(db, "DELETE FROM tokens WHERE grant_id = ?", (grant_id,))
    await run(db, "DELETE FROM grants WHERE grant_id = ?", (grant_id,))


async def rollback(db: aiosqlite.Connection) -> None:
    """Roll back the open transaction, if SQLite has not already done so."""
    with contextlib.suppress(sqlite3.Error):
        await run(db, "ROLLBACK")
