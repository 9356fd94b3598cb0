"""What only the SQLite backend promises: migrations, the file on disk, several connections, URLs."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

import anyio
import pytest

from spotify_mcp.store import open_store, sqlite_path_from_url
from spotify_mcp.store.base import RedeemOutcome, RotateOutcome, SchemaTooNewError, StoreError
from spotify_mcp.store.sqlite import SqliteStore
from spotify_mcp.store.sqlite_schema import CURRENT_VERSION, MIGRATIONS, split_statements

from .builders import NOW, client, code, credentials, grant, issue, pair, race, token

pytestmark = pytest.mark.anyio


def query(path: Path, sql: str) -> list[tuple[object, ...]]:
    """Read the file with a plain sqlite3 connection, as another process would."""
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return conn.execute(sql).fetchall()


def write(path: Path, sql: str) -> None:
    """Change the file behind the store's back."""
    with contextlib.closing(sqlite3.connect(path)) as conn, conn:
        conn.execute(sql)


@pytest.fixture
async def db_path(tmp_path: Path, anyio_backend: str) -> Path:
    """A migrated database file, with no store left open on it."""
    path = tmp_path / "store.db"
    async with SqliteStore(path) as store:
        await store.migrate()
    return path


async def test_an_empty_database_migrates_from_version_zero_to_the_current_one(tmp_path: Path) -> None:
    async with SqliteStore(tmp_path / "store.db") as store:
        assert await store.schema_version() == 0
        await store.migrate()
        assert await store.schema_version() == CURRENT_VERSION == len(MIGRATIONS)
    versions = query(tmp_path / "store.db", "SELECT version FROM schema_migrations ORDER BY version")
    assert versions == [(v,) for v in range(1, CURRENT_VERSION + 1)]


async def test_the_database_runs_in_wal_mode(db_path: Path) -> None:
    assert query(db_path, "PRAGMA journal_mode") == [("wal",)]


async def test_every_lookup_path_has_an_index(db_path: Path) -> None:
    indexed = {
        (table, column)
        for (table,) in query(db_path, "SELECT name FROM sqlite_master WHERE type = 'table'")
        for (index, *_) in query(db_path, f"SELECT name FROM pragma_index_list('{table}')")
        for (_, _, column) in query(db_path, f"SELECT * FROM pragma_index_info('{index}')")
    }
    assert {
        ("tokens", "token_hash"),
        ("tokens", "grant_id"),
        ("tokens", "expires_at"),
        ("auth_requests", "upstream_state_hash"),
        ("auth_requests", "expires_at"),
        ("auth_codes", "expires_at"),
        ("grants", "user_id"),
    } <= indexed


async def test_a_database_from_a_newer_release_is_refused(db_path: Path) -> None:
    write(db_path, f"INSERT INTO schema_migrations (version, applied_at) VALUES ({CURRENT_VERSION + 1}, 0)")
    async with SqliteStore(db_path) as store:
        assert await store.schema_version() == CURRENT_VERSION + 1
        with pytest.raises(SchemaTooNewError, match="upgrade spotify-mcp"):
            await store.migrate()
    with pytest.raises(SchemaTooNewError):
        await open_store(f"sqlite:///{db_path}")


async def test_data_survives_closing_and_reopening(db_path: Path) -> None:
    async with SqliteStore(db_path) as store:
        await store.add_client(client())
        made, _, refresh = await issue(store)
        await store.put_spotify_credentials(credentials())
    async with SqliteStore(db_path) as store:
        await store.migrate()
        assert await store.get_client("c1") == client()
        assert await store.get_grant("g1") == made
        assert await store.get_token(refresh.token_hash) == refresh
        assert await store.get_spotify_credentials("u1") == credentials()


async def test_two_stores_on_one_file_still_redeem_a_code_once(db_path: Path) -> None:
    async with SqliteStore(db_path) as first, SqliteStore(db_path) as second:
        await first.add_code(code())
        stores = (first, second)

        async def attempt(i: int) -> RedeemOutcome:
            made = grant(f"g{i}")
            return (await stores[i % 2].redeem_code("code1", made, pair(made), NOW)).outcome

        outcomes = await race(10, attempt)
        assert outcomes.count(RedeemOutcome.REDEEMED) == 1
        assert outcomes.count(RedeemOutcome.REPLAYED) == 9
        assert len(await second.list_grants()) == 1


async def test_two_stores_on_one_file_still_grant_one_lease(db_path: Path) -> None:
    async with SqliteStore(db_path) as first, SqliteStore(db_path) as second:
        await first.put_spotify_credentials(credentials())
        stores = (first, second)
        outcomes = await race(10, lambda i: stores[i % 2].acquire_refresh_lease("u1", f"owner-{i}", NOW + 30, NOW))
        assert outcomes.count(True) == 1


async def test_a_failed_transaction_is_rolled_back_and_reported_without_secrets(db_path: Path) -> None:
    async with SqliteStore(db_path) as store:
        await store.add_code(code())
        made = grant()
        twins = [token("secret-token-hash", made), token("secret-token-hash", made)]
        with pytest.raises(StoreError, match="redeem an authorization code") as caught:
            await store.redeem_code("code1", made, twins, NOW)
        assert "secret-token-hash" not in str(caught.value)
        assert await store.get_code("code1") == code()
        assert await store.get_grant("g1") is None
        made, _, _ = await issue(store, "g2")
        assert await store.get_grant("g2") == made


async def test_tokens_must_belong_to_an_existing_grant(db_path: Path) -> None:
    async with SqliteStore(db_path) as store:
        _, _, refresh = await issue(store)
        orphan = token("orphan", grant("no-such-grant"))
        with pytest.raises(StoreError, match="FOREIGN KEY"):
            await store.rotate_refresh_token(refresh.token_hash, [orphan], NOW)
        assert await store.get_token(refresh.token_hash) == refresh
        assert await store.rotate_refresh_token(refresh.token_hash, [], NOW) is RotateOutcome.ROTATED


async def test_a_cancelled_operation_still_finishes_its_transaction(db_path: Path) -> None:
    async with SqliteStore(db_path) as store:
        await store.ping()
        with contextlib.closing(sqlite3.connect(db_path, isolation_level=None)) as other_process:
            other_process.execute("BEGIN IMMEDIATE")
            async with anyio.create_task_group() as group:
                group.start_soon(store.add_client, client())
                await anyio.wait_all_tasks_blocked()  # add_client now waits for the write lock
                group.cancel_scope.cancel()
                other_process.execute("COMMIT")
        assert await store.get_client("c1") == client()
        await store.add_client(client("c2"))
        assert len(await store.list_clients()) == 2


async def test_a_closed_store_raises_store_error(db_path: Path) -> None:
    store = SqliteStore(db_path)
    await store.ping()
    await store.close()
    await store.close()
    with pytest.raises(StoreError, match="closed"):
        await store.ping()


async def test_an_unopenable_database_is_a_store_error(tmp_path: Path) -> None:
    async with SqliteStore(tmp_path) as store:
        with pytest.raises(StoreError, match="unable to open"):
            await store.ping()


async def test_an_in_memory_store_works_for_its_own_connection(anyio_backend: str) -> None:
    async with SqliteStore(":memory:") as store:
        await store.migrate()
        await store.add_client(client())
        assert await store.get_client("c1") == client()


async def test_open_store_creates_a_relative_path_and_migrates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    store = await open_store("sqlite:///data/nested/store.db")
    try:
        assert await store.schema_version() == CURRENT_VERSION
    finally:
        await store.close()
    assert (tmp_path / "data" / "nested" / "store.db").is_file()


async def test_open_store_accepts_an_absolute_path(tmp_path: Path) -> None:
    target = tmp_path / "abs" / "store.db"
    url = f"sqlite:///{target}"
    assert url.startswith("sqlite:////")
    store = await open_store(url)
    try:
        await store.add_client(client())
    finally:
        await store.close()
    assert query(target, "SELECT client_id FROM clients") == [("c1",)]


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite:///store.db", "store.db"),
        ("sqlite:///data/store.db", "data/store.db"),
        ("sqlite:////var/lib/spotify-mcp/store.db", "/var/lib/spotify-mcp/store.db"),
        ("sqlite:///:memory:", ":memory:"),
    ],
)
def test_sqlite_urls_name_relative_and_absolute_paths(url: str, path: str) -> None:
    assert sqlite_path_from_url(url) == path


@pytest.mark.parametrize("url", ["sqlite://host/store.db", "sqlite:///", "sqlite:///data/", "sqlite:store.db"])
async def test_a_malformed_sqlite_url_is_refused(url: str, anyio_backend: str) -> None:
    with pytest.raises(ValueError, match="sqlite:///"):
        await open_store(url)


@pytest.mark.parametrize("url", ["mysql://admin:hunter2@db/spotify", "store.db", "mongodb://:hunter2@x/0"])
async def test_an_unknown_scheme_is_refused_without_echoing_the_url(url: str, anyio_backend: str) -> None:
    with pytest.raises(ValueError, match="this release supports") as caught:
        await open_store(url)
    assert "hunter2" not in str(caught.value)


def test_migration_scripts_split_into_whole_statements() -> None:
    statements = split_statements(MIGRATIONS[0])
    assert all(sqlite3.complete_statement(s) for s in statements)
    assert any(s.startswith("CREATE TABLE tokens") for s in statements)
    with pytest.raises(ValueError, match="incomplete"):
        split_statements("CREATE TABLE t (x INTEGER")
