"""What only the PostgreSQL backend promises: replicas racing, migrations, schemas, failures, URLs."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import anyio
import asyncpg
import pytest
from anyio.abc import SocketAttribute, SocketStream

from spotify_mcp.store import PostgresStore, open_store
from spotify_mcp.store.base import CodeRedemption, RedeemOutcome, RotateOutcome, SchemaTooNewError, StoreError
from spotify_mcp.store.postgres_schema import CURRENT_VERSION, MIGRATIONS
from spotify_mcp.store.postgres_target import PostgresTarget
from spotify_mcp.store.sqlite_schema import CURRENT_VERSION as SQLITE_VERSION

from . import pg
from .builders import NOW, auth_request, client, code, credentials, grant, issue, pair, race, token
from .pg import POSTGRES_DSN, connect, require_postgres, run_sql, schema_url, scratch_schema

pytestmark = pytest.mark.anyio

Replicas = tuple[PostgresStore, PostgresStore]
BLOCKED_BY_THIS_SESSION = (
    "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pg_backend_pid() = ANY (pg_blocking_pids(pid)))"
)


@pytest.fixture
async def schema(anyio_backend: str) -> AsyncIterator[str]:
    """A fresh schema name on the test server, dropped after the test."""
    async with scratch_schema() as name:
        yield name


@pytest.fixture
async def replicas(schema: str) -> AsyncIterator[Replicas]:
    """Two stores with pools of their own on one migrated schema, as two server processes would have."""
    async with PostgresStore(schema_url(schema)) as first, PostgresStore(schema_url(schema)) as second:
        await first.migrate()
        yield first, second


# -- migrations ------------------------------------------------------------------------------------
async def test_an_empty_schema_migrates_from_version_zero_to_the_current_one(schema: str) -> None:
    async with PostgresStore(schema_url(schema)) as store:
        assert await store.schema_version() == 0
        await store.migrate()
        assert await store.schema_version() == CURRENT_VERSION == len(MIGRATIONS)
    rows = await run_sql(f'SELECT version FROM "{schema}".schema_migrations ORDER BY version')
    assert [row["version"] for row in rows] == list(range(1, CURRENT_VERSION + 1))


def test_schema_versions_are_numbered_like_sqlite_ones() -> None:
    assert CURRENT_VERSION == SQLITE_VERSION


async def test_two_replicas_migrating_an_empty_schema_at_once_both_succeed(schema: str) -> None:
    async with PostgresStore(schema_url(schema)) as first, PostgresStore(schema_url(schema)) as second:
        async with anyio.create_task_group() as group:
            group.start_soon(first.migrate)
            group.start_soon(second.migrate)
        assert await first.schema_version() == await second.schema_version() == CURRENT_VERSION
    rows = await run_sql(f'SELECT version FROM "{schema}".schema_migrations')
    assert len(rows) == CURRENT_VERSION


async def test_every_lookup_path_has_an_index(replicas: Replicas, schema: str) -> None:
    rows = await run_sql(
        "SELECT t.relname AS table_name, a.attname AS column_name FROM pg_index i"
        " JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace"
        " JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = ANY (i.indkey) WHERE n.nspname = $1",
        schema,
    )
    indexed = {(row["table_name"], row["column_name"]) for row in rows}
    assert {
        ("tokens", "token_hash"),
        ("tokens", "grant_id"),
        ("tokens", "expires_at"),
        ("auth_requests", "upstream_state_hash"),
        ("auth_requests", "expires_at"),
        ("auth_codes", "code_hash"),
        ("auth_codes", "expires_at"),
        ("grants", "user_id"),
        ("spotify_credentials", "user_id"),
    } <= indexed


async def test_a_schema_from_a_newer_release_is_refused(replicas: Replicas, schema: str) -> None:
    first, _ = replicas
    await run_sql(f'INSERT INTO "{schema}".schema_migrations (version, applied_at) VALUES ($1, 0)', CURRENT_VERSION + 1)
    assert await first.schema_version() == CURRENT_VERSION + 1
    with pytest.raises(SchemaTooNewError, match="upgrade spotify-mcp"):
        await first.migrate()
    with pytest.raises(SchemaTooNewError, match=schema):
        await open_store(schema_url(schema))


async def test_stores_on_different_schemas_of_one_database_do_not_see_each_other(replicas: Replicas) -> None:
    first, _ = replicas
    async with scratch_schema() as other_schema, PostgresStore(schema_url(other_schema)) as other:
        await other.migrate()
        await first.add_client(client("mine"))
        await other.add_client(client("theirs"))
        assert [c.client_id for c in await first.list_clients()] == ["mine"]
        assert [c.client_id for c in await other.list_clients()] == ["theirs"]


# -- replicas racing -------------------------------------------------------------------------------
async def test_two_replicas_racing_to_redeem_one_code_get_one_token_set(replicas: Replicas, schema: str) -> None:
    await replicas[0].add_code(code())

    async def attempt(i: int) -> tuple[str, CodeRedemption]:
        made = grant(f"g{i}")
        return made.grant_id, await replicas[i % 2].redeem_code("code1", made, pair(made), NOW)

    results = await race(10, attempt)
    winners = [grant_id for grant_id, r in results if r.outcome is RedeemOutcome.REDEEMED]
    assert len(winners) == 1
    losers = [r for _, r in results if r.outcome is not RedeemOutcome.REDEEMED]
    assert losers == [CodeRedemption(RedeemOutcome.REPLAYED, first_grant_id=winners[0])] * 9
    tokens = await run_sql(f'SELECT token_hash FROM "{schema}".tokens ORDER BY token_hash')
    assert [row["token_hash"] for row in tokens] == [f"at-{winners[0]}", f"rt-{winners[0]}"]


async def test_two_replicas_racing_to_rotate_one_refresh_token_rotate_it_once(replicas: Replicas) -> None:
    made, _, refresh = await issue(replicas[0])
    outcomes = await race(
        10, lambda i: replicas[i % 2].rotate_refresh_token(refresh.token_hash, pair(made, f"-{i}"), NOW)
    )
    assert outcomes.count(RotateOutcome.ROTATED) == 1
    assert RotateOutcome.REUSED in outcomes
    assert set(outcomes) <= {RotateOutcome.ROTATED, RotateOutcome.REUSED, RotateOutcome.UNKNOWN}
    assert await replicas[1].get_grant("g1") is None


async def test_two_replicas_racing_to_approve_one_request_approve_it_once(replicas: Replicas) -> None:
    await replicas[0].add_auth_request(auth_request())
    outcomes = await race(
        10,
        lambda i: replicas[i % 2].approve_auth_request(
            "r1",
            upstream_state_hash=f"state-{i}",
            upstream_verifier_sealed="sealed",
            binding_hash="binding",
            expires_at=NOW + 600,
            now=NOW,
        ),
    )
    assert outcomes.count(True) == 1


async def test_two_replicas_racing_for_one_upstream_state_take_it_once(replicas: Replicas) -> None:
    await replicas[0].add_auth_request(auth_request())
    await replicas[0].approve_auth_request(
        "r1", upstream_state_hash="s", upstream_verifier_sealed="v", binding_hash="b", expires_at=NOW + 600, now=NOW
    )
    taken = await race(10, lambda i: replicas[i % 2].take_auth_request_by_state("s", NOW))
    assert [request.request_id for request in taken if request is not None] == ["r1"]


async def test_two_replicas_racing_to_refresh_one_user_write_once(replicas: Replicas) -> None:
    await replicas[0].put_spotify_credentials(credentials())
    leases = await race(10, lambda i: replicas[i % 2].acquire_refresh_lease("u1", f"owner-{i}", NOW + 30, NOW))
    assert leases.count(True) == 1
    writes = await race(
        10, lambda i: replicas[i % 2].update_spotify_credentials(credentials(version=2, access=f"at-{i}"), 1)
    )
    assert writes.count(True) == 1


async def test_concurrent_fresh_logins_each_move_the_version_on(replicas: Replicas) -> None:
    await race(10, lambda i: replicas[i % 2].put_spotify_credentials(credentials(access=f"login-{i}")))
    stored = await replicas[0].get_spotify_credentials("u1")
    assert stored is not None
    assert stored.version == 10


async def test_a_dead_replicas_lease_is_taken_over_once_it_expires(schema: str, replicas: Replicas) -> None:
    _, survivor = replicas
    async with PostgresStore(schema_url(schema)) as doomed:
        await doomed.put_spotify_credentials(credentials())
        assert await doomed.acquire_refresh_lease("u1", "doomed", NOW + 30, NOW) is True
    assert await survivor.acquire_refresh_lease("u1", "survivor", NOW + 60, NOW + 29) is False
    assert await survivor.acquire_refresh_lease("u1", "survivor", NOW + 60, NOW + 30) is True


async def test_more_racers_than_pooled_connections_wait_their_turn(schema: str, replicas: Replicas) -> None:
    async with PostgresStore(schema_url(schema), max_size=2) as small:
        await small.add_code(code())
        outcomes = await race(10, lambda i: small.redeem_code("code1", grant(f"g{i}"), [], NOW))
    assert [o.outcome for o in outcomes].count(RedeemOutcome.REDEEMED) == 1


# -- failures mid-operation ------------------------------------------------------------------------
async def test_a_failed_transaction_is_rolled_back_and_reported_without_secrets(replicas: Replicas) -> None:
    store, _ = replicas
    await store.add_code(code())
    made = grant()
    twins = [token("secret-token-hash", made), token("secret-token-hash", made)]
    with pytest.raises(StoreError, match="redeem an authorization code: UniqueViolationError") as caught:
        await store.redeem_code("code1", made, twins, NOW)
    assert "secret-token-hash" not in str(caught.value)
    assert await store.get_code("code1") == code()
    assert await store.get_grant("g1") is None
    made, _, _ = await issue(store, "g2")
    assert await store.get_grant("g2") == made


async def test_tokens_must_belong_to_an_existing_grant(replicas: Replicas) -> None:
    store, _ = replicas
    _, _, refresh = await issue(store)
    orphan = token("orphan", grant("no-such-grant"))
    with pytest.raises(StoreError, match="ForeignKeyViolationError"):
        await store.rotate_refresh_token(refresh.token_hash, [orphan], NOW)
    assert await store.get_token(refresh.token_hash) == refresh
    assert await store.rotate_refresh_token(refresh.token_hash, [], NOW) is RotateOutcome.ROTATED


async def test_a_statement_that_outlives_the_command_timeout_writes_nothing(schema: str, replicas: Replicas) -> None:
    await replicas[0].add_code(code())
    other = await connect()
    try:
        async with other.transaction():
            await other.execute(f"SELECT 1 FROM \"{schema}\".auth_codes WHERE code_hash = 'code1' FOR UPDATE")
            async with PostgresStore(schema_url(schema), command_timeout=0.2) as impatient:
                with pytest.raises(StoreError, match="redeem an authorization code: TimeoutError"):
                    await impatient.redeem_code("code1", grant(), pair(grant()), NOW)
    finally:
        await other.close()
    assert await replicas[0].get_code("code1") == code()
    assert await replicas[0].get_grant("g1") is None


async def test_a_cancelled_redemption_still_finishes_its_transaction(schema: str, replicas: Replicas) -> None:
    store, _ = replicas
    await store.add_code(code())
    other = await connect()
    try:
        await other.execute("BEGIN")
        await other.execute(f"SELECT 1 FROM \"{schema}\".auth_codes WHERE code_hash = 'code1' FOR UPDATE")
        async with anyio.create_task_group() as group:
            group.start_soon(store.redeem_code, "code1", grant(), pair(grant()), NOW)
            with anyio.fail_after(10):
                while not await other.fetchval(BLOCKED_BY_THIS_SESSION):
                    await anyio.wait_all_tasks_blocked()
            group.cancel_scope.cancel()
            with anyio.CancelScope(shield=True):
                await other.execute("COMMIT")
    finally:
        await other.close()
    assert await store.get_code("code1") == dataclasses.replace(code(), grant_id="g1")
    assert await store.get_grant("g1") == grant()


async def test_sweep_clears_expired_leases_without_counting_them(schema: str, replicas: Replicas) -> None:
    store, _ = replicas
    for user_id, until in (("expired", NOW), ("live", NOW + 1)):
        await store.put_spotify_credentials(credentials(user_id))
        await store.acquire_refresh_lease(user_id, "owner", until, NOW - 1)
    await store.add_code(code(expires_at=NOW))
    assert await store.sweep(NOW) == 1
    rows = await run_sql(f'SELECT user_id, lease_owner FROM "{schema}".spotify_credentials ORDER BY user_id')
    assert [(row["user_id"], row["lease_owner"]) for row in rows] == [("expired", None), ("live", "owner")]


# -- reaching the server ---------------------------------------------------------------------------
async def test_an_unreachable_server_is_a_store_error_naming_it_without_the_password(anyio_backend: str) -> None:
    url = "postgresql://admin:hunter2@127.0.0.1:1/spotify?schema=tenant"
    async with PostgresStore(url, connect_timeout=2) as store:
        with pytest.raises(StoreError, match=r"127\.0\.0\.1:1/spotify") as caught:
            await store.ping()
    assert "hunter2" not in str(caught.value)
    with pytest.raises(StoreError, match="could not connect") as caught:
        await open_store(url)
    assert "hunter2" not in str(caught.value)


async def test_a_server_that_never_answers_times_out_as_a_store_error(anyio_backend: str) -> None:
    async def ignore(stream: SocketStream) -> None:
        async with stream:
            await anyio.sleep_forever()

    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    port = listener.extra(SocketAttribute.local_port)
    async with listener, anyio.create_task_group() as group:
        group.start_soon(listener.serve, ignore)
        async with PostgresStore(f"postgresql://admin:hunter2@127.0.0.1:{port}/db", connect_timeout=0.2) as store:
            with pytest.raises(StoreError, match=rf"127\.0\.0\.1:{port}/db could not connect: TimeoutError") as caught:
                await store.ping()
        assert "hunter2" not in str(caught.value)
        group.cancel_scope.cancel()


async def test_a_missing_database_is_a_store_error_naming_it(anyio_backend: str) -> None:
    url = urlsplit(POSTGRES_DSN)._replace(path="/no_such_database").geturl()
    await require_postgres()
    async with PostgresStore(url) as store:
        with pytest.raises(StoreError, match=r"no_such_database.*InvalidCatalogNameError"):
            await store.migrate()


async def test_a_closed_store_raises_store_error(replicas: Replicas) -> None:
    store, _ = replicas
    await store.ping()
    await store.close()
    await store.close()
    with pytest.raises(StoreError, match="closed"):
        await store.ping()


async def test_an_unreachable_test_server_fails_the_tests_under_ci_and_skips_them_elsewhere(
    monkeypatch: pytest.MonkeyPatch, anyio_backend: str
) -> None:
    monkeypatch.setitem(pg._reachability, "outcome", "ConnectionRefusedError: nothing listens")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI is set"):
        await require_postgres()
    monkeypatch.setenv("CI", "")
    with pytest.raises(pytest.skip.Exception, match="unreachable"):
        await require_postgres()


# -- URLs ------------------------------------------------------------------------------------------
def test_the_schema_parameter_is_read_from_the_url_and_not_sent_to_the_server() -> None:
    target = PostgresTarget.parse("postgresql://app:pw@db.internal:6543/spotify?sslmode=require&schema=tenant_a")
    assert target.schema == "tenant_a"
    assert target.dsn == "postgresql://app:pw@db.internal:6543/spotify?sslmode=require"
    assert target.where == "db.internal:6543/spotify"


def test_the_schema_defaults_to_public_and_the_port_to_5432() -> None:
    target = PostgresTarget.parse("postgres://app@db/spotify")
    assert target.schema == "public"
    assert target.where == "db:5432/spotify"


@pytest.mark.parametrize(
    ("url", "where"),
    [
        ("postgresql://app:hunter2@[::1]/spotify", "[::1]:5432/spotify"),
        ("postgresql://app:hunter2@primary:5433,standby:5433/spotify", "primary:5433,standby:5433/spotify"),
        ("postgresql:///spotify?host=/run/postgresql&password=hunter2", "/run/postgresql:5432/spotify"),
        ("postgresql://app:hunter2@db", "db:5432/(default)"),
    ],
)
def test_the_server_is_named_without_the_password_however_the_url_spells_it(url: str, where: str) -> None:
    target = PostgresTarget.parse(url)
    assert target.where == where
    assert target.scrub(f"rejected hunter2 for {where}") == f"rejected *** for {where}"


@pytest.mark.parametrize(
    "schema", ["Tenant", "1tenant", "pg_catalog", "tenant-a", "x;drop", "t" * 64, "", '"quoted"', "a&schema=b"]
)
def test_a_schema_that_is_not_a_plain_identifier_is_refused_without_echoing_the_password(schema: str) -> None:
    with pytest.raises(ValueError, match="schema") as caught:
        PostgresTarget.parse(f"postgresql://app:hunter2@db/spotify?schema={schema}")
    assert "hunter2" not in str(caught.value)


def test_a_malformed_url_is_refused_without_echoing_the_password() -> None:
    with pytest.raises(ValueError, match="malformed") as caught:
        PostgresTarget.parse("postgresql://app:hunter2@db/spotify?sslmode")
    assert "hunter2" not in str(caught.value)


async def test_open_store_migrates_a_postgresql_url(schema: str) -> None:
    for url in (schema_url(schema), schema_url(schema).replace("postgresql://", "postgres://", 1)):
        store = await open_store(url)
        try:
            assert isinstance(store, PostgresStore)
            assert await store.schema_version() == CURRENT_VERSION
        finally:
            await store.close()


@pytest.mark.parametrize("url", ["mysql://admin:hunter2@db/spotify", "store.db"])
async def test_an_unknown_scheme_names_the_supported_ones_without_echoing_the_url(url: str, anyio_backend: str) -> None:
    with pytest.raises(ValueError, match="postgresql://") as caught:
        await open_store(url)
    assert "sqlite:///" in str(caught.value)
    assert "hunter2" not in str(caught.value)


def test_a_driver_error_is_described_without_the_values_it_quotes() -> None:
    target = PostgresTarget.parse("postgresql://app:hunter2@db/spotify")
    refused = asyncpg.DataError(
        "invalid input for query argument $3 in element #0 of executemany() sequence: 'sealed-blob' (expected str)"
    )
    assert (
        target.describe(refused)
        == "DataError: invalid input for query argument $3 in element #0 of executemany() sequence"
    )
    assert target.describe(OSError("password hunter2 rejected")) == "OSError: password *** rejected"
    assert target.describe(TimeoutError()) == "TimeoutError"
