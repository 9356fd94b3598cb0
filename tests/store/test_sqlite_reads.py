"""SQLite lookups read the committed snapshot on the event loop's thread, and fall back when SQLite says busy."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

import anyio
import pytest

from spotify_mcp.store.base import StoreError
from spotify_mcp.store.sqlite import SqliteStore

from .builders import NOW, client, credentials, issue

pytestmark = pytest.mark.anyio


@pytest.fixture
async def db_path(tmp_path: Path, anyio_backend: str) -> Path:
    """A migrated database file holding one client, with no store left open on it."""
    path = tmp_path / "store.db"
    async with SqliteStore(path) as store:
        await store.migrate()
        await store.add_client(client())
    return path


async def test_a_lookup_sees_what_another_process_committed(db_path: Path) -> None:
    async with SqliteStore(db_path) as reader, SqliteStore(db_path) as writer:
        assert await reader.get_spotify_credentials("u1") is None
        await writer.put_spotify_credentials(credentials())
        assert await reader.get_spotify_credentials("u1") == credentials()
        made, access, _ = await issue(writer)
        assert await reader.get_token(access.token_hash) == access
        assert await reader.get_grant(made.grant_id) == made


async def test_a_lookup_reads_the_last_committed_state_while_another_process_writes(db_path: Path) -> None:
    async with SqliteStore(db_path) as store:
        with contextlib.closing(sqlite3.connect(db_path, isolation_level=None)) as other_process:
            other_process.execute("BEGIN IMMEDIATE")
            other_process.execute("UPDATE clients SET last_used_at = 42 WHERE client_id = 'c1'")
            assert (await store.get_client("c1")) == client()
            other_process.execute("COMMIT")
        assert await store.get_client("c1") == client(last_used_at=42)


async def test_a_lookup_is_not_held_up_by_this_stores_own_write_waiting_for_the_file(db_path: Path) -> None:
    async with SqliteStore(db_path) as store:
        await store.ping()
        with contextlib.closing(sqlite3.connect(db_path, isolation_level=None)) as other_process:
            other_process.execute("BEGIN IMMEDIATE")
            async with anyio.create_task_group() as group:
                group.start_soon(store.touch_client, "c1", NOW)
                await anyio.wait_all_tasks_blocked()  # touch_client holds the connection, waiting for the write lock
                with anyio.fail_after(2):  # a bound, not a timing: the old path waited the 5 s busy timeout
                    assert await store.get_client("c1") == client()
                other_process.execute("COMMIT")
        assert await store.get_client("c1") == client(last_used_at=NOW)


async def test_when_sqlite_answers_busy_the_lookup_goes_through_the_serialized_connection(
    db_path: Path, tmp_path: Path
) -> None:
    # A WAL reader is busy only in rare moments (another process recovering the WAL); stand in for one with a
    # query-only connection to a rollback-journal file that a third connection holds exclusively.
    locked = tmp_path / "locked.db"
    with contextlib.closing(sqlite3.connect(locked, isolation_level=None)) as holder:
        holder.execute("CREATE TABLE clients (client_id TEXT)")
        holder.execute("BEGIN EXCLUSIVE")
        async with SqliteStore(db_path) as store:
            await store.ping()
            busy = sqlite3.connect(locked, isolation_level=None, check_same_thread=False)
            busy.execute("PRAGMA busy_timeout = 0")
            store._db._reader = busy
            assert await store.get_client("c1") == client()
        holder.execute("ROLLBACK")
    busy.close()


async def test_a_lookup_on_a_closed_store_raises_store_error(db_path: Path) -> None:
    store = SqliteStore(db_path)
    assert await store.get_client("c1") == client()
    await store.close()
    with pytest.raises(StoreError, match="closed"):
        await store.get_client("c1")


async def test_an_in_memory_store_answers_lookups_through_its_one_connection(anyio_backend: str) -> None:
    async with SqliteStore(":memory:") as store:
        await store.migrate()
        await store.add_client(client())
        await store.put_spotify_credentials(credentials())
        assert await store.get_client("c1") == client()
        assert await store.get_spotify_credentials("u1") == credentials()
