"""The PostgreSQL backend's connections: a lazily opened asyncpg pool, and errors that never leak secrets."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import asyncpg
from asyncpg.pool import PoolConnectionProxy

from spotify_mcp.store.base import StoreError
from spotify_mcp.store.postgres_target import PostgresTarget

DRIVER_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError)
"""What asyncpg raises for a server that is down, slow, or refuses an operation."""


class PostgresPool:
    """An asyncpg pool on one schema, opened on first use, lending connections shielded from cancellation."""

    def __init__(
        self, target: PostgresTarget, *, min_size: int, max_size: int, connect_timeout: float, command_timeout: float
    ) -> None:
        self.target = target
        self._min_size = min_size
        self._max_size = max_size
        self._connect_timeout = connect_timeout
        self._command_timeout = command_timeout
        self._lock = anyio.Lock()
        self._pool: asyncpg.Pool | None = None
        self._closed = False

    def failure(self, doing: str, exc: BaseException) -> StoreError:
        """The StoreError for a driver error: where, what failed and why, never the password."""
        return StoreError(f"PostgreSQL store at {self.target.where} could not {doing}: {self.target.describe(exc)}")

    async def _open(self) -> asyncpg.Pool:
        if self._pool is not None:
            return self._pool
        async with self._lock:
            if self._closed:
                raise StoreError(f"the PostgreSQL store at {self.target.where} is closed")
            if self._pool is None:
                try:
                    self._pool = await asyncpg.create_pool(
                        self.target.dsn,
                        min_size=self._min_size,
                        max_size=self._max_size,
                        timeout=self._connect_timeout,
                        command_timeout=self._command_timeout,
                        server_settings={"search_path": f'"{self.target.schema}"', "application_name": "spotify-mcp"},
                        reset=_nothing_to_reset,
                    )
                except (*DRIVER_ERRORS, ValueError) as exc:
                    # Not chained: a traceback would print the driver's message unscrubbed.
                    raise self.failure("connect", exc) from None
            return self._pool

    @asynccontextmanager
    async def connection(self, doing: str) -> AsyncIterator[PoolConnectionProxy]:
        """Hold one pooled connection for one operation, shielded from cancellation once held."""
        pool = await self._open()
        try:
            async with pool.acquire(timeout=self._connect_timeout + self._command_timeout) as conn:
                with anyio.CancelScope(shield=True):
                    yield conn
        except DRIVER_ERRORS as exc:
            raise self.failure(doing, exc) from exc

    @asynccontextmanager
    async def transaction(self, doing: str) -> AsyncIterator[PoolConnectionProxy]:
        """Hold one pooled connection inside one transaction, committed unless the body raises."""
        async with self.connection(doing) as conn, conn.transaction():
            yield conn

    async def close(self) -> None:
        """Close the pool, giving connections in use up to the command timeout; later use raises StoreError."""
        async with self._lock:
            self._closed = True
            pool, self._pool = self._pool, None
        if pool is None:
            return
        with anyio.CancelScope(shield=True):
            try:
                with anyio.move_on_after(self._command_timeout):
                    await pool.close()
            except DRIVER_ERRORS as exc:
                raise self.failure("close", exc) from exc
            finally:
                pool.terminate()


async def _nothing_to_reset(conn: asyncpg.Connection) -> None:
    """Release a connection to the pool without asyncpg's reset query (a round trip on every release).

    asyncpg has already ended any transaction left open before it calls this. The store keeps no other session
    state: no ``SET``, cursor, ``LISTEN`` or session-level advisory lock (migrations take a transaction-level
    one), and the search path is a startup setting of the connection.
    """
