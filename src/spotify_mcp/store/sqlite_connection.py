"""The SQLite backend's connection: one aiosqlite connection, opened on first use and lent to one operation at a time.

``transaction`` wraps an operation in ``BEGIN IMMEDIATE``, which takes SQLite's write lock up front, so the
single-use operations stay atomic even against another process on the same file (WAL mode, ``busy_timeout``).
``connection`` lends it without a transaction: reads, and writes of one statement, which SQLite makes atomic by
itself (one trip to aiosqlite's thread instead of three). Both are shielded from cancellation once they hold the
connection, so a cancelled caller never leaves a transaction open behind it.

``read`` runs a single query on the event loop's own thread, through a second, query-only connection, once
the file is in WAL mode: a WAL reader never waits for a writer (it reads the last committed snapshot), and a
point lookup costs tens of microseconds, less than the trip to aiosqlite's thread and back. Should SQLite
still answer busy (busy timeout 0 on that connection), the query goes through the serialized connection.
A ``":memory:"`` database is private to its connection, so there every query takes that path.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import aiosqlite
import anyio

from spotify_mcp.store.base import StoreError
from spotify_mcp.store.sqlite_queries import describe, fetch_all, rollback, run

MEMORY = ":memory:"
_BUSY = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})


class SqliteConnection:
    """A serialized aiosqlite connection to one file (or ``":memory:"``)."""

    def __init__(self, path: str, *, busy_timeout: float = 5.0) -> None:
        self.path = path
        self._busy_timeout_ms = int(busy_timeout * 1000)
        self._lock = anyio.Lock()
        self._db: aiosqlite.Connection | None = None
        self._closed = False
        self._reader: sqlite3.Connection | None = None

    async def _connect(self) -> aiosqlite.Connection:
        if self._closed:
            raise StoreError("the SQLite store is closed")
        if self._db is None:
            pending = aiosqlite.connect(self.path, isolation_level=None)
            try:
                db = await pending
            except BaseException:
                # aiosqlite stops its worker thread without waiting; join it so it can't outlive the loop.
                await anyio.to_thread.run_sync(pending._thread.join)
                raise
            try:
                db.row_factory = sqlite3.Row
                await fetch_all(db, f"PRAGMA busy_timeout = {self._busy_timeout_ms}")
                mode = await fetch_all(db, "PRAGMA journal_mode = WAL")
                await fetch_all(db, "PRAGMA foreign_keys = ON")
                await fetch_all(db, "PRAGMA synchronous = NORMAL")
                wal = self.path != MEMORY and bool(mode) and str(mode[0][0]).lower() == "wal"
                reader = _query_only(self.path) if wal else None
            except BaseException:
                await db.close()
                raise
            self._db, self._reader = db, reader
        return self._db

    @asynccontextmanager
    async def _lend(self, what: str, *, write: bool) -> AsyncIterator[aiosqlite.Connection]:
        async with self._lock:
            with anyio.CancelScope(shield=True):
                try:
                    db = await self._connect()
                    if write:
                        await run(db, "BEGIN IMMEDIATE")
                except sqlite3.Error as exc:
                    raise StoreError(f"SQLite store could not {what}: {describe(exc)}") from exc
                try:
                    yield db
                    if write:
                        await run(db, "COMMIT")
                except BaseException as exc:
                    if write:
                        await rollback(db)
                    if isinstance(exc, sqlite3.Error):
                        raise StoreError(f"SQLite store could not {what}: {describe(exc)}") from exc
                    raise

    def transaction(self, what: str) -> contextlib.AbstractAsyncContextManager[aiosqlite.Connection]:
        """Hold the connection for one operation inside one IMMEDIATE transaction (``what`` names it in errors)."""
        return self._lend(what, write=True)

    def connection(self, what: str) -> contextlib.AbstractAsyncContextManager[aiosqlite.Connection]:
        """Hold the connection for reads, or for a write of a single statement, without a transaction."""
        return self._lend(what, write=False)

    async def read(self, what: str, sql: str, params: Sequence[object] = ()) -> list[sqlite3.Row]:
        """Run one query and return its rows, on this thread when SQLite can answer at once (see the module)."""
        if self._closed:
            raise StoreError("the SQLite store is closed")
        if self._db is None:
            async with self.connection(what):
                pass
        if self._reader is not None:
            try:
                return self._reader.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                if getattr(exc, "sqlite_errorcode", 0) & 0xFF not in _BUSY:
                    raise StoreError(f"SQLite store could not {what}: {describe(exc)}") from exc
        async with self.connection(what) as db:
            return await fetch_all(db, sql, params)

    async def close(self) -> None:
        """Close the connection; later operations raise StoreError."""
        async with self._lock:
            with anyio.CancelScope(shield=True):
                self._closed = True
                reader, self._reader = self._reader, None
                if reader is not None:
                    reader.close()
                db, self._db = self._db, None
                if db is not None:
                    try:
                        await db.close()
                    except sqlite3.Error as exc:
                        raise StoreError(f"SQLite store could not close: {describe(exc)}") from exc


def _query_only(path: str) -> sqlite3.Connection:
    """A second connection to the file for ``read``: never writes, never waits for a lock."""
    reader = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        reader.row_factory = sqlite3.Row
        reader.execute("PRAGMA busy_timeout = 0")
        reader.execute("PRAGMA query_only = ON")
    except BaseException:
        reader.close()
        raise
    return reader
