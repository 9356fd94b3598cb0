"""What only the Redis backend promises: replicas racing on one server, TTLs, key prefixes, URLs, errors."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator

import anyio
import anyio.abc
import pytest

from spotify_mcp.store import open_store
from spotify_mcp.store.base import CodeRedemption, RedeemOutcome, RotateOutcome, SchemaTooNewError, StoreError
from spotify_mcp.store.records import TokenKind
from spotify_mcp.store.redis_connection import parse_redis_url
from spotify_mcp.store.redis_store import RedisStore
from spotify_mcp.store.sqlite_schema import CURRENT_VERSION

from .builders import NOW, auth_request, client, code, credentials, grant, issue, pair, race, token
from .redis_support import (
    REDIS_URL,
    DisposableRedisStore,
    delete_prefix,
    keys_under,
    raw_client,
    require_redis,
    store_url,
    unique_prefix,
    with_db,
)

pytestmark = pytest.mark.anyio

FAR = 4_000_000_000.0
"""An expiry after Redis's own clock (year 2096), so a record's TTL follows its expiry, not the clamp."""
UNREACHABLE = "redis://:secret@127.0.0.1:1/0"


@pytest.fixture
async def store(anyio_backend: str) -> AsyncIterator[DisposableRedisStore]:
    """A migrated Redis store on a fresh prefix, its keys deleted afterwards."""
    await require_redis()
    async with DisposableRedisStore() as made:
        await made.migrate()
        yield made


async def redis_get(key: str) -> str | None:
    """Read a string key behind the store's back."""
    async with raw_client() as client:
        return await client.get(key)


async def expiry(key: str) -> tuple[int, int]:
    """A key's absolute expiry (ms since the epoch) and remaining TTL (ms); -1 when it has none."""
    async with raw_client() as client:
        return await client.pexpiretime(key), await client.pttl(key)


# -- replicas racing -------------------------------------------------------------------------------
async def test_two_replicas_with_their_own_pools_redeem_a_code_once(store: DisposableRedisStore) -> None:
    async with RedisStore(store_url(store.prefix)) as other:
        replicas = (store, other)
        await store.add_code(code())

        async def attempt(i: int) -> tuple[str, CodeRedemption]:
            made = grant(f"g{i}")
            return made.grant_id, await replicas[i % 2].redeem_code("code1", made, pair(made), NOW)

        results = await race(10, attempt)
        winners = [grant_id for grant_id, r in results if r.outcome is RedeemOutcome.REDEEMED]
        assert len(winners) == 1
        losers = [r for _, r in results if r.outcome is not RedeemOutcome.REDEEMED]
        assert losers == [CodeRedemption(RedeemOutcome.REPLAYED, first_grant_id=winners[0])] * 9
        assert [g.grant_id for g in await other.list_grants()] == winners


async def test_two_replicas_rotate_a_refresh_token_once(store: DisposableRedisStore) -> None:
    async with RedisStore(store_url(store.prefix)) as other:
        replicas = (store, other)
        made, _, refresh = await issue(store)
        outcomes = await race(
            10, lambda i: replicas[i % 2].rotate_refresh_token(refresh.token_hash, pair(made, f"-{i}"), NOW)
        )
        assert outcomes.count(RotateOutcome.ROTATED) == 1
        assert RotateOutcome.REUSED in outcomes
        assert await other.get_grant("g1") is None


async def test_two_replicas_grant_one_lease(store: DisposableRedisStore) -> None:
    async with RedisStore(store_url(store.prefix)) as other:
        replicas = (store, other)
        await store.put_spotify_credentials(credentials())
        outcomes = await race(10, lambda i: replicas[i % 2].acquire_refresh_lease("u1", f"owner-{i}", NOW + 30, NOW))
        assert outcomes.count(True) == 1


async def test_a_lease_left_by_a_dead_replica_can_be_taken_once_it_runs_out(store: DisposableRedisStore) -> None:
    async with RedisStore(store_url(store.prefix)) as dead:
        await dead.put_spotify_credentials(credentials())
        assert await dead.acquire_refresh_lease("u1", "replica-a", NOW + 30, NOW) is True
    assert await store.acquire_refresh_lease("u1", "replica-b", NOW + 60, NOW + 29.5) is False
    assert await store.acquire_refresh_lease("u1", "replica-b", NOW + 60, NOW + 30) is True
    await store.release_refresh_lease("u1", "replica-a")
    assert await store.acquire_refresh_lease("u1", "replica-c", NOW + 90, NOW + 31) is False


# -- TTLs and sweeping -----------------------------------------------------------------------------
async def test_expiring_records_get_a_redis_ttl_of_their_expiry_plus_the_margin(store: DisposableRedisStore) -> None:
    p, margin = store.prefix, store.ttl_margin_ms
    await store.add_auth_request(auth_request(expires_at=FAR))
    await store.add_code(code(expires_at=FAR + 1))
    made = grant()
    access = token("at", made, expires_at=FAR + 2)
    forever = token("rt", made, kind=TokenKind.REFRESH, expires_at=None)
    await store.redeem_code("code1", made, [access, forever], NOW)
    for key, expires_at in ((f"{p}request:r1", FAR), (f"{p}code:code1", FAR + 1), (f"{p}token:at", FAR + 2)):
        at, ttl = await expiry(key)
        assert at == math.ceil(expires_at * 1000) + margin
        assert ttl > 0
    for key in (f"{p}token:rt", f"{p}grant:g1", f"{p}schema-version"):
        assert await expiry(key) == (-1, -1)


async def test_approval_moves_the_ttl_of_the_request_and_its_state_to_the_new_expiry(
    store: DisposableRedisStore,
) -> None:
    await store.add_auth_request(auth_request(expires_at=FAR))
    await store.approve_auth_request(
        "r1", upstream_state_hash="s1", upstream_verifier_sealed="v", binding_hash="b", expires_at=FAR + 60, now=NOW
    )
    expected = math.ceil((FAR + 60) * 1000) + store.ttl_margin_ms
    assert (await expiry(f"{store.prefix}request:r1"))[0] == expected
    assert (await expiry(f"{store.prefix}request-state:s1"))[0] == expected
    assert await redis_get(f"{store.prefix}request-state:s1") == "r1"


async def test_a_record_expired_by_the_callers_clock_still_lives_until_swept(store: DisposableRedisStore) -> None:
    long_ago = code(expires_at=1_000.0)
    await store.add_code(long_ago)
    _, ttl = await expiry(f"{store.prefix}code:code1")
    assert 0 < ttl <= store.ttl_margin_ms
    assert await store.get_code("code1") == long_ago
    assert await store.sweep(1_000.0) == 1
    assert await store.get_code("code1") is None


async def test_sweep_clears_the_index_entries_of_records_redis_already_expired(store: DisposableRedisStore) -> None:
    p = store.prefix
    await issue(store)
    await store.add_auth_request(auth_request())
    async with raw_client() as behind:
        await behind.delete(f"{p}token:at-g1", f"{p}code:code-g1", f"{p}request:r1")
    assert await store.sweep(NOW + 86_400) == 1
    assert await store.get_token("rt-g1") is None
    assert await keys_under(p) == sorted(
        [f"{p}schema-version", f"{p}grant:g1", f"{p}grants", f"{p}user-grants:u1", f"{p}client-grants:c1"]
    )


async def test_cascades_leave_no_keys_behind(store: DisposableRedisStore) -> None:
    for client_id in ("c1", "c2"):
        await store.add_client(client(client_id))
    await store.add_auth_request(auth_request("pending"))
    await store.add_auth_request(auth_request("approved"))
    await store.approve_auth_request(
        "approved", upstream_state_hash="s1", upstream_verifier_sealed="v", binding_hash="b", expires_at=FAR, now=NOW
    )
    await store.add_code(code("unused"))
    made, _, refresh = await issue(store, "g1")
    await store.rotate_refresh_token(refresh.token_hash, pair(made, "-2"), NOW)
    await issue(store, "g2", client_id="c2")
    await store.put_spotify_credentials(credentials())
    await store.acquire_refresh_lease("u1", "a", NOW + 30, NOW)
    await store.delete_client("c1")
    await store.delete_user("u1")
    await store.delete_client("c2")
    assert await keys_under(store.prefix) == [f"{store.prefix}schema-version"]


# -- schema, prefixes, databases -------------------------------------------------------------------
async def test_a_fresh_prefix_is_at_version_zero_and_migrates_to_the_current_one(anyio_backend: str) -> None:
    await require_redis()
    async with DisposableRedisStore() as fresh:
        assert await fresh.schema_version() == 0
        await fresh.migrate()
        await fresh.migrate()
        assert await fresh.schema_version() == CURRENT_VERSION
        assert await redis_get(f"{fresh.prefix}schema-version") == str(CURRENT_VERSION)


async def test_keys_written_by_a_newer_release_are_refused(store: DisposableRedisStore) -> None:
    async with raw_client() as behind:
        await behind.set(f"{store.prefix}schema-version", CURRENT_VERSION + 1)
    assert await store.schema_version() == CURRENT_VERSION + 1
    with pytest.raises(SchemaTooNewError, match="upgrade spotify-mcp"):
        await store.migrate()
    assert await store.schema_version() == CURRENT_VERSION + 1
    with pytest.raises(SchemaTooNewError):
        await open_store(store_url(store.prefix))


async def test_stores_on_different_prefixes_do_not_see_each_other(store: DisposableRedisStore) -> None:
    async with DisposableRedisStore() as neighbour:
        await neighbour.migrate()
        await store.add_client(client())
        await issue(store)
        assert await neighbour.get_client("c1") is None
        assert await neighbour.list_clients() == []
        assert await neighbour.list_grants() == []
        await neighbour.delete_client("c1")
        assert await store.get_client("c1") == client()


async def test_the_database_number_in_the_url_is_honoured(anyio_backend: str) -> None:
    await require_redis()
    home = parse_redis_url(REDIS_URL).db
    elsewhere = with_db((home + 1) % 16)
    async with DisposableRedisStore(elsewhere) as store:
        await store.add_client(client())
        assert await keys_under(store.prefix, elsewhere) == [f"{store.prefix}client:c1", f"{store.prefix}clients"]
        assert await keys_under(store.prefix) == []


async def test_open_store_opens_and_migrates_a_redis_url(anyio_backend: str) -> None:
    await require_redis()
    prefix = unique_prefix()
    try:
        opened = await open_store(store_url(prefix))
        try:
            assert isinstance(opened, RedisStore)
            assert opened.prefix == prefix
            assert await opened.schema_version() == CURRENT_VERSION
        finally:
            await opened.close()
    finally:
        await delete_prefix(prefix)


# -- records, errors -------------------------------------------------------------------------------
async def test_times_and_text_round_trip_exactly(store: DisposableRedisStore) -> None:
    t = 1_795_000_000.123_456_7
    made = grant(created_at=t)
    refresh = token("rt", made, kind=TokenKind.REFRESH, expires_at=t + 0.000_000_3)
    await store.add_code(code(expires_at=t + 1))
    await store.redeem_code("code1", made, [refresh], t)
    assert await store.get_grant("g1") == made
    assert await store.get_token("rt") == refresh
    assert await store.rotate_refresh_token("rt", [], t + 0.000_000_3) is RotateOutcome.EXPIRED
    assert await store.rotate_refresh_token("rt", [], math.nextafter(t + 0.000_000_3, 0)) is RotateOutcome.ROTATED
    await store.add_client(client("zoë 🎧"))
    assert await store.get_client("zoë 🎧") == client("zoë 🎧")


async def test_a_duplicate_id_is_a_store_error_and_writes_nothing(store: DisposableRedisStore) -> None:
    await store.add_client(client())
    with pytest.raises(StoreError, match=r"add a client.*already exists"):
        await store.add_client(client(created_at=NOW + 1))
    assert await store.get_client("c1") == client()
    await store.add_code(code())
    made = grant()
    twins = [token("same-hash", made), token("same-hash", made)]
    with pytest.raises(StoreError, match="redeem an authorization code") as caught:
        await store.redeem_code("code1", made, twins, NOW)
    assert "same-hash" not in str(caught.value)
    assert await store.get_code("code1") == code()
    assert await store.get_grant("g1") is None


async def test_a_foreign_value_under_the_prefix_is_a_store_error(store: DisposableRedisStore) -> None:
    async with raw_client() as behind:
        await behind.set(f"{store.prefix}code:code1", "not a hash")
    with pytest.raises(StoreError, match="redeem an authorization code: ResponseError: WRONGTYPE"):
        await store.redeem_code("code1", grant(), pair(grant()), NOW)
    with pytest.raises(StoreError, match="read an authorization code"):
        await store.get_code("code1")
    assert await store.get_grant("g1") is None


async def test_a_closed_store_raises_store_error(anyio_backend: str) -> None:
    store = RedisStore(UNREACHABLE)
    await store.close()
    await store.close()
    with pytest.raises(StoreError, match="closed"):
        await store.ping()


async def test_an_unreachable_server_is_a_store_error_naming_it_but_not_the_password(anyio_backend: str) -> None:
    async with RedisStore(UNREACHABLE) as store:
        for operation in (store.ping, store.migrate, store.schema_version, lambda: store.get_client("c1")):
            with pytest.raises(StoreError, match=r"Redis store at 127\.0\.0\.1:1/0 could not") as caught:
                await operation()
            assert "secret" not in str(caught.value)
            assert "secret" not in str(caught.value.__cause__)
    for url in (UNREACHABLE, UNREACHABLE.replace("redis://", "rediss://")):
        with pytest.raises(StoreError, match=r"127\.0\.0\.1:1") as caught:
            await open_store(url)
        assert "secret" not in str(caught.value)


async def test_a_server_that_never_answers_is_a_store_error_after_the_read_timeout(anyio_backend: str) -> None:
    async def hold(stream: anyio.abc.SocketStream) -> None:
        async with stream:
            await anyio.sleep_forever()

    async with await anyio.create_tcp_listener(local_host="127.0.0.1") as listener, anyio.create_task_group() as group:
        group.start_soon(listener.serve, hold)
        port = listener.extra(anyio.abc.SocketAttribute.local_port)
        async with RedisStore(f"redis://:secret@127.0.0.1:{port}/0", timeout=0.2) as silent:
            with pytest.raises(
                StoreError, match=f"127\\.0\\.0\\.1:{port}/0 could not answer a ping: Timeout"
            ) as caught:
                await silent.ping()
            assert "secret" not in str(caught.value)
        group.cancel_scope.cancel()


# -- URLs ------------------------------------------------------------------------------------------
def test_a_redis_url_names_the_server_database_and_prefix_without_showing_the_password() -> None:
    target = parse_redis_url("redis://:secret@cache.internal:6380/3?prefix=team-a&socket_timeout=2")
    assert (target.host, target.port, target.db, target.prefix) == ("cache.internal", 6380, 3, "team-a:")
    assert target.url == "redis://:secret@cache.internal:6380/3?socket_timeout=2"
    assert "secret" not in repr(target)
    assert target.where == "cache.internal:6380/3"


@pytest.mark.parametrize(
    ("url", "db", "prefix"),
    [
        ("redis://localhost", 0, "spotify-mcp:"),
        ("rediss://localhost:6379/", 0, "spotify-mcp:"),
        ("redis://localhost/?db=5&prefix=a.b:c", 5, "a.b:c:"),
        ("redis://localhost/2?prefix=ends-with:", 2, "ends-with:"),
    ],
)
def test_the_database_defaults_to_zero_and_the_prefix_to_spotify_mcp(url: str, db: int, prefix: str) -> None:
    target = parse_redis_url(url)
    assert (target.db, target.prefix) == (db, prefix)


@pytest.mark.parametrize(
    "prefix", ["", "has%20space", "glob*", "glob?", "[set]", "-leading", "{tag}", "a" * 65, "caf%C3%A9"]
)
def test_a_bad_key_prefix_is_refused(prefix: str) -> None:
    with pytest.raises(ValueError, match="key prefix"):
        parse_redis_url(f"redis://:secret@localhost/0?prefix={prefix}")


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("redis://:secret@localhost/0?prefix=a&prefix=b", "twice"),
        ("redis://:secret@localhost/zero", "must be a number"),
        ("redis://:secret@localhost/0?db=x", "must be a number"),
        ("redis://:secret@localhost/0?password=x", "unsupported Redis store URL option"),
        ("redis://:secret@localhost:99999/0", "invalid port"),
        ("http://:secret@localhost/0", "redis://"),
    ],
)
def test_a_malformed_redis_url_is_refused_without_echoing_the_password(url: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem) as caught:
        parse_redis_url(url)
    assert "secret" not in str(caught.value)


async def test_a_burst_larger_than_the_pool_waits_for_connections_instead_of_failing(
    store: DisposableRedisStore,
) -> None:
    counts: list[int] = []

    async def hit() -> None:
        counts.append(await store.hit("burst", 60, NOW))

    async with anyio.create_task_group() as group:
        for _ in range(100):
            group.start_soon(hit)
    assert sorted(counts) == list(range(1, 101))
