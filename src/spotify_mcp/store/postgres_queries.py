"""The PostgreSQL backend's queries: mapping records to rows and back, and the multi-row statements."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import StrEnum
from typing import Any, TypeVar, get_type_hints

from asyncpg import Record
from asyncpg.pool import PoolConnectionProxy

from spotify_mcp.store.records import (
    AuthCodeRecord,
    AuthRequestRecord,
    ClientRecord,
    GrantRecord,
    SpotifyCredentials,
    TokenRecord,
)

R = TypeVar("R")
Converter = tuple[Callable[[Any], Any], Callable[[Any], Any]]


def _same(value: Any) -> Any:
    return value


def _converters(cls: type[Any]) -> dict[str, Converter]:
    """Per field of a record, in field order: how to write it to a column and read it back."""
    converters: dict[str, Converter] = {}
    for name, hint in get_type_hints(cls).items():
        if hint == tuple[str, ...]:
            converters[name] = (list, tuple)
        elif isinstance(hint, type) and issubclass(hint, StrEnum):
            converters[name] = (lambda value: value.value, hint)
        else:
            converters[name] = (_same, _same)
    return converters


_CONVERTERS: dict[type[Any], dict[str, Converter]] = {
    cls: _converters(cls)
    for cls in (ClientRecord, AuthRequestRecord, AuthCodeRecord, GrantRecord, TokenRecord, SpotifyCredentials)
}


def columns(cls: type[Any]) -> tuple[str, ...]:
    """The columns a record type maps to, in field order."""
    return tuple(_CONVERTERS[cls])


def to_values(record: Any) -> list[Any]:
    """Return the row values of a record, one per column in field order."""
    return [write(getattr(record, name)) for name, (write, _) in _CONVERTERS[type(record)].items()]


def from_row(cls: type[R], row: Record) -> R:
    """Rebuild a record of type ``cls`` from its row (extra columns are ignored)."""
    return cls(**{name: read(row[name]) for name, (_, read) in _CONVERTERS[cls].items()})


def insert_sql(table: str, cls: type[Any]) -> str:
    """An INSERT of every column of a record type (table and column names are ours, never user input)."""
    names = columns(cls)
    placeholders = ", ".join(f"${i}" for i in range(1, len(names) + 1))
    return f"INSERT INTO {table} ({', '.join(names)}) VALUES ({placeholders})"  # noqa: S608


async def insert(conn: PoolConnectionProxy, table: str, record: Any) -> None:
    """Insert one record."""
    await conn.execute(insert_sql(table, type(record)), *to_values(record))


async def insert_all(conn: PoolConnectionProxy, table: str, records: Sequence[Any]) -> None:
    """Insert several records of one type in one round trip."""
    if records:
        await conn.executemany(insert_sql(table, type(records[0])), [to_values(record) for record in records])


async def delete_grant(conn: PoolConnectionProxy, grant_id: str) -> None:
    """Delete a grant and its tokens (the foreign key would cascade; being explicit costs nothing)."""
    await conn.execute("DELETE FROM tokens WHERE grant_id = $1", grant_id)
    await conn.execute("DELETE FROM grants WHERE grant_id = $1", grant_id)


_CREDENTIALS = columns(SpotifyCredentials)
_CREDENTIAL_UPDATES = [name for name in _CREDENTIALS if name not in ("user_id", "version")]

PUT_CREDENTIALS_SQL = (
    insert_sql("spotify_credentials", SpotifyCredentials)
    + " ON CONFLICT (user_id) DO UPDATE SET "
    + ", ".join(f"{name} = EXCLUDED.{name}" for name in _CREDENTIAL_UPDATES)
    + ", version = GREATEST(EXCLUDED.version, spotify_credentials.version + 1)"
)
"""Insert or replace credentials; the row lock ON CONFLICT takes makes the version bump atomic."""

LIST_CREDENTIALS_SQL = 'SELECT * FROM spotify_credentials ORDER BY authorized_at, user_id COLLATE "C"'
"""Every user's credentials, oldest first (ties by user id in code-point order, as on the other backends)."""

CAS_CREDENTIALS_SQL = (
    "UPDATE spotify_credentials SET "  # noqa: S608
    + ", ".join(f"{name} = ${_CREDENTIALS.index(name) + 1}" for name in (*_CREDENTIAL_UPDATES, "version"))
    + f" WHERE user_id = ${_CREDENTIALS.index('user_id') + 1} AND version = ${len(_CREDENTIALS) + 1}"
    + " RETURNING TRUE"
)
"""Compare-and-set: parameters are the credentials' values in field order, then the expected version."""

SWEEP_SQL = """
WITH requests AS (
    DELETE FROM auth_requests WHERE expires_at <= $1 RETURNING 1
), codes AS (
    DELETE FROM auth_codes WHERE expires_at <= $1 RETURNING 1
), expired_tokens AS (
    DELETE FROM tokens WHERE expires_at IS NOT NULL AND expires_at <= $1 RETURNING 1
), windows AS (
    DELETE FROM rate_limit_windows WHERE window_end <= $1 RETURNING 1
), leases AS (
    UPDATE spotify_credentials SET lease_owner = NULL, lease_until = NULL WHERE lease_until <= $1 RETURNING 1
)
SELECT (SELECT count(*) FROM requests) + (SELECT count(*) FROM codes) + (SELECT count(*) FROM expired_tokens)
    + (SELECT count(*) FROM windows)
"""
"""Delete every expired row and clear expired leases in one statement; counts the deleted rows only."""

GRANT_EXPIRY_SQL = """
SELECT count(*) AS tokens, count(*) FILTER (WHERE expires_at IS NULL) > 0 AS forever, max(expires_at) AS latest
FROM tokens WHERE grant_id = $1
"""
"""How many tokens a grant has, whether one never expires, and the latest expiry."""

HIT_SQL = """
INSERT INTO rate_limit_windows AS w (key, window_start, window_end, hits) VALUES ($1, $2, $3, 1)
ON CONFLICT (key, window_start, window_end) DO UPDATE SET hits = w.hits + 1
RETURNING hits
"""
"""Count one event in a rate-limit window and return the window's count; the conflict's row lock serializes racers."""
