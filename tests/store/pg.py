"""PostgreSQL for the store tests: a throwaway schema per test, and what to do when the server is absent.

The server is ``SPOTIFY_MCP_TEST_POSTGRES_URL`` (default: the local ``test`` database). When it cannot be
reached the tests skip, unless ``CI`` is set: there a missing database is a broken pipeline, so they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import pytest

from spotify_mcp.store.base import Store
from spotify_mcp.store.postgres import PostgresStore
from spotify_mcp.store.postgres_target import PostgresTarget

_TARGET = PostgresTarget.parse(
    os.environ.get("SPOTIFY_MCP_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
)
POSTGRES_DSN = _TARGET.dsn
"""The test server's URL without any ``?schema=``."""
_reachability: dict[str, str | None] = {}
"""The outcome of the one reachability probe per test session: None when reachable, else why not."""


async def _probe() -> str | None:
    try:
        conn = await connect()
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        return _TARGET.scrub(f"{type(exc).__name__}: {exc}")
    await conn.close()
    return None


async def require_postgres() -> None:
    """Skip the calling test when the test server is unreachable, or fail it when ``CI`` is set."""
    if "outcome" not in _reachability:
        _reachability["outcome"] = await _probe()
    problem = _reachability["outcome"]
    if problem is None:
        return
    reason = (
        f"PostgreSQL at {_TARGET.where} is unreachable ({problem}); start it, or point "
        "SPOTIFY_MCP_TEST_POSTGRES_URL at one that runs"
    )
    if os.environ.get("CI"):
        pytest.fail(f"{reason}. CI is set, so the PostgreSQL store tests must run.", pytrace=False)
    pytest.skip(reason)


def fresh_schema() -> str:
    """A schema name no other test uses."""
    return f"t_{uuid.uuid4().hex}"


def schema_url(schema: str) -> str:
    """The test server's URL with ``?schema=`` set."""
    return f"{POSTGRES_DSN}{'&' if '?' in POSTGRES_DSN else '?'}schema={schema}"


async def connect() -> asyncpg.Connection:
    """A plain connection to the test server, outside any store, as another process would open."""
    return await asyncpg.connect(POSTGRES_DSN, timeout=5)


async def run_sql(sql: str, *args: object) -> list[asyncpg.Record]:
    """Run one statement on a connection of its own."""
    conn = await connect()
    try:
        return await conn.fetch(sql, *args)
    finally:
        await conn.close()


async def drop_schema(schema: str) -> None:
    """Drop a test schema and everything in it."""
    await run_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@asynccontextmanager
async def scratch_schema() -> AsyncIterator[str]:
    """Yield the name of a fresh schema (not yet created), dropping it afterwards."""
    await require_postgres()
    schema = fresh_schema()
    try:
        yield schema
    finally:
        await drop_schema(schema)


class DisposableSchemaStore(PostgresStore):
    """A PostgresStore whose schema is dropped when it closes."""

    async def close(self) -> None:
        """Close the pool, then drop the schema."""
        try:
            await super().close()
        finally:
            await drop_schema(self.schema)


async def postgres_store(tmp_path: Path) -> Store:
    """A PostgreSQL store on a fresh schema of the test server."""
    await require_postgres()
    return DisposableSchemaStore(schema_url(fresh_schema()))
