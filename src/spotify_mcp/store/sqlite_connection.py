"""The SQLite backend's connection: one aiosqlite connection, opened on first use and lent to one operation at a time.

``transaction`` wraps an operation in ``BEGIN IMMEDIATE``, which takes SQLite's write lock up front, so the
single-use operations stay atomic even against another process on the same file (WAL mode, ``busy_timeout``).
``connection`` lends it without a transaction: reads, and writes of one statement, which SQLite makes atomic by
itself (one trip to aiosqlite's thread instead of three). Both are shielded from cancellation once they hold the
connection, so a cancelled caller never leaves a transaction open behind it.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiosqlite
import anyio

from spotify_mcp.store.base import StoreError
from spotify_mcp.store.sqlite_queries import describe, fetch_all, rollback, run


class SqliteConnection:
    """A serialized aiosqlite connection to one file (or ``":memory:"``)."""

    def __init__(self, path: str, *, busy_timeout: float = 5.0) -> None:
        self.path = path
        self._busy_timeout_ms = int(busy_timeout * 1000)
        self._lock = anyio.Lock()
        self._db: aiosqlite.Connection | None = None
        self._closed = False

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
                await fetch_all(db, "PRAGMA journal_mode = WAL")
                await fetch_all(db, "PRAGMA foreign_keys = ON")
                await fetch_all(db, "PRAGMA synchronous = NORMAL")
            except BaseException:
                await db.close()
                raise
            self._db = db
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

    async def close(self) -> None:
        """Close the connection; later operations raise StoreError."""
        async with self._lock:
            with anyio.CancelScope(shield=True):
                self._closed = True
                db, self._db = self._db, None
                if db is not None:
                    try:
                        await db.close()
                    except sqlite3.Error as exc:
                        raise StoreError(f"SQLite store could not close: {describe(exc)}") from exc
