"""The credentials manager: sealed storage, and one refresh per user however many callers race."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import anyio
import pytest

from spotify_mcp.clock import ManualClock
from spotify_mcp.crypto import KeyRing
from spotify_mcp.spotify.accounts import SpotifyAccounts
from spotify_mcp.spotify.credentials import CredentialsManager, seal_context
from spotify_mcp.spotify.errors import ReconnectRequired, SpotifyAuthError, SpotifyUnavailable
from spotify_mcp.store.base import RedeemOutcome
from spotify_mcp.store.records import AuthCodeRecord, ClientRecord, GrantRecord, TokenKind, TokenRecord
from spotify_mcp.store.sqlite import SqliteStore
from tests.spotify.conftest import USER, FakeSleep, Upstream, login_tokens

pytestmark = pytest.mark.anyio


async def _add_grant(store: SqliteStore, now: float) -> None:
    scopes = ("user-read-private",)
    await store.add_client(ClientRecord(client_id="c1", metadata_json="{}", secret_hash=None, created_at=now))
    await store.add_code(AuthCodeRecord("code-hash", "c1", "https://x/cb", scopes, "ch", "r", USER, now, now + 60))
    grant = GrantRecord("g1", "c1", USER, scopes, "r", now)
    token = TokenRecord("at-hash", TokenKind.ACCESS, "g1", "c1", USER, scopes, "r", now, now + 60)
    redeemed = await store.redeem_code("code-hash", grant, [token], now)
    assert redeemed.outcome is RedeemOutcome.REDEEMED


async def _until_refreshing(upstream: Upstream) -> None:
    await upstream.wait_for(lambda: upstream.refreshes > 0)


async def test_a_fresh_token_is_returned_without_refreshing(
    credentials: CredentialsManager, upstream: Upstream
) -> None:
    await credentials.save_login(user_id=USER, display_name="P", tokens=login_tokens())
    assert await credentials.access_token(USER) == "access-0"
    assert upstream.refreshes == 0


async def test_a_user_without_credentials_must_reconnect(credentials: CredentialsManager) -> None:
    with pytest.raises(ReconnectRequired):
        await credentials.access_token("nobody")


async def test_a_token_within_the_refresh_margin_is_refreshed_before_use(
    credentials: CredentialsManager, upstream: Upstream, clock: ManualClock
) -> None:
    await credentials.save_login(user_id=USER, display_name=None, tokens=login_tokens(expires_in=3600))
    clock.advance(3600 - 119)
    assert await credentials.access_token(USER) == "access-1"
    assert upstream.refreshes == 1
    assert await credentials.access_token(USER) == "access-1"
    assert upstream.refreshes == 1


async def test_fifty_concurrent_calls_with_an_expired_token_cause_exactly_one_refresh(
    credentials: CredentialsManager, upstream: Upstream, clock: ManualClock
) -> None:
    await credentials.save_login(user_id=USER, display_name=None, tokens=login_tokens())
    clock.advance(4000)
    results: list[str] = []

    async def call() -> None:
        results.append(await credentials.access_token(USER))

    async with anyio.create_task_group() as tg:
        for _ in range(50):
            tg.start_soon(call)
    assert upstream.refreshes == 1
    assert results == ["access-1"] * 50


async def test_fifty_concurrent_forced_refreshes_cause_exactly_one_refresh(
    credentials: CredentialsManager, upstream: Upstream
) -> None:
    await credentials.save_login(user_id=USER, display_name=None, tokens=login_tokens())
    upstream.gate = anyio.Event()
    results: list[str] = []

    async def call() -> None:
        results.append(await credentials.access_token(USER, force_refresh=True))

    async with anyio.create_task_group() as tg:
        for _ in range(50):
            tg.start_soon(call)
        await anyio.wait_all_tasks_blocked()
        upstream.gate.set()
    assert upstream.refreshes == 1
    assert results == ["access-1"] * 50


async def test_two_replicas_sharing_one_store_refresh_once(
    store: SqliteStore, keys: KeyRing, accounts: SpotifyAccounts, clock: ManualClock, upstream: Upstream
) -> None:
    upstream.gate = anyio.Event()
    gate = upstream.gate

    async def release_a_when_b_waits(seconds: float) -> None:
        b_waits.append(seconds)
        gate.set()
        await a_done.wait()  # the wait lasts until replica a has stored what it refreshed

    b_waits: list[float] = []
    a_done = anyio.Event()
    replica_a = CredentialsManager(store, keys, accounts, clock, owner="replica-a")
    replica_b = CredentialsManager(store, keys, accounts, clock, owner="replica-b", sleep=release_a_when_b_waits)
    await replica_a.save_login(user_id=USER, display_name=None, tokens=login_tokens())
    clock.advance(4000)
    results: dict[str, str] = {}

    async def call(name: str, replica: CredentialsManager) -> None:
        results[name] = await replica.access_token(USER)
        if name == "a":
            a_done.set()

    async with anyio.create_task_group() as tg:
        tg.start_soon(call, "a", replica_a)
        await _until_refreshing(upstream)
        tg.start_soon(call, "b", replica_b)
    assert upstream.refreshes == 1
    assert results == {"a": "access-1", "b": "access-1"}
    assert b_waits == [0.05]


async def test_a_lease_left_by_a_crashed_replica_is_taken_over_once_it_lapses(
    store: SqliteStore, keys: KeyRing, accounts: SpotifyAccounts, clock: ManualClock, upstream: Upstream
) -> None:
    sleep = FakeSleep(clock, advance=True)
    manager = CredentialsManager(
        store, keys, accounts, clock, owner="replica-b", lease_seconds=1.0, wait_step=0.25, sleep=sleep
    )
    await manager.save_login(user_id=USER, display_name=None, tokens=login_tokens())
    clock.advance(4000)
    assert await store.acquire_refresh_lease(USER, "crashed", clock.now() + 1.0, clock.now())
    assert await manager.access_token(USER) == "access-1"
    assert upstream.refreshes == 1
    assert sleep.delays == [0.25] * 4


async def test_waiting_on_a_lease_that_never_lapses_is_bounded(
    store: SqliteStore, keys: KeyRing, accounts: SpotifyAccounts, clock: ManualClock, upstream: Upstream
) -> None:
    sleep = FakeSleep(clock)
    manager = CredentialsManager(
        store, keys, accounts, clock, owner="replica-b", lease_seconds=1.0, wait_step=0.25, sleep=sleep
    )
    await manager.save_login(user_id=USER, display_name=None, tokens=login_tokens())
    clock.advance(4000)
    assert await store.acquire_refresh_lease(USER, "stuck", clock.now() + 1000, clock.now())
    with pytest.raises(SpotifyUnavailable):
        await manager.access_token(USER)
    assert upstream.refreshes == 0
    assert len(sleep.delays) == 6


async def test_a_refresh_without_a_new_refresh_token_keeps_the_old_one(
    credentials: CredentialsManager, upstream: Upstream, store: SqliteStore, keys: KeyRing
) -> None:
    await credentials.save_login(user_id=USER, display_name=None, tokens=login_tokens(refresh="refresh-0"))
    await credentials.access_token(USER, force_refresh=True)
    await credentials.access_token(USER, force_refresh=True)
    sent = [r.content.decode() for r in upstream.token_requests]
    assert sent == ["grant_type=refresh_token&refresh_token=refresh-0"] * 2


async def test_a_rotated_refresh_token_is_stored_and_used_next_time(
    credentials: CredentialsManager, upstream: Upstream
) -> None:
    upstream.rotate = True
    await credentials.save_login(user_id=USER, display_name=None, tokens=login_tokens(refresh="refresh-0"))
    await credentials.access_token(USER, force_refresh=True)
    await credentials.access_token(USER, force_refresh=True)
    sent = [r.content.decode().rsplit("=", 1)[1] for r in upstream.token_requests]
    assert sent == ["refresh-0", "refresh-1"]


async def test_a_refresh_keeps_authorized_at_and_the_name_and_bumps_the_version(
    credentials: CredentialsManager, store: SqliteStore, clock: ManualClock
) -> None:
    await credentials.save_login(user_id=USER, display_name="Pat", tokens=login_tokens())
    before = await store.get_spotify_credentials(USER)
    clock.advance(5000)
    await credentials.access_token(USER)
    after = await store.get_spotify_credentials(USER)
    assert before is not None
    assert after is not None
    assert after.version == before.version + 1
    assert after.authorized_at == before.authorized_at
    assert after.display_name == "Pat"
    assert after.expires_at == clock.now() + 3600
    assert after.updated_at == clock.now()
    assert after.scopes == ("user-read-private", "user-read-playback-state")


async def test_invalid_grant_on_refresh_deletes_the_user_and_asks_to_reconnect(
    credentials: CredentialsManager, upstream: Upstream, store: SqliteStore, clock: ManualClock
) -> None:
    await credentials.save_login(user_id=USER, display_name=None, tokens=login_tokens())
    await _add_grant(store, clock.now())
    assert len(await store.list_grants(USER)) == 1
    upstream.refresh_error = (400, {"error": "invalid_grant", "error_description": "Refresh token revoked"})
    clock.advance(4000)
    with pytest.raises(ReconnectRequired):
        await credentials.access_token(USER)
    assert await store.get_spotify_credentials(USER) is None
    assert await store.list_grants(USER) == []
    with pytest.raises(ReconnectRequired):
        await credentials.access_token(USER)
    assert upstream.refreshes == 1


async def test_other_accounts_errors_keep_the_credentials(
    credentials: CredentialsManager, upstream: Upstream, store: SqliteStore, clock: ManualClock
) -> None:
    await credentials.save_login(user_id=USER, display_name=None, tokens=login_tokens())
    upstream.refresh_error = (401, {"error": "invalid_client", "error_description": "Invalid client"})
    clock.advance(4000)
    with pytest.raises(SpotifyAuthError, match="invalid_client"):
        await credentials.access_token(USER)
    assert await store.get_spotify_credentials(USER) is not None
    upstream.refresh_error = None
    assert await credentials.access_token(USER) == "access-2"


async def test_invalid_grant_after_a_new_login_landed_keeps_the_new_login(
    credentials: CredentialsManager, upstream: Upstream, store: SqliteStore, clock: ManualClock
) -> None:
    await credentials.save_login(user_id=USER, display_name=None, tokens=login_tokens())
    clock.advance(4000)
    upstream.gate = anyio.Event()
    upstream.refresh_error = (400, {"error": "invalid_grant"})
    async with anyio.create_task_group() as tg:

        async def relogin() -> None:
            await _until_refreshing(upstream)
            await credentials.save_login(user_id=USER, display_name=None, tokens=login_tokens("new-access"))
            assert upstream.gate is not None
            upstream.gate.set()

        tg.start_soon(relogin)
        assert await credentials.access_token(USER) == "new-access"
    assert upstream.refreshes == 1
    assert await store.get_spotify_credentials(USER) is not None


async def test_a_lost_compare_and_set_uses_the_winners_token(
    credentials: CredentialsManager, upstream: Upstream, store: SqliteStore, clock: ManualClock
) -> None:
    await credentials.save_login(user_id=USER, display_name=None, tokens=login_tokens())
    clock.advance(4000)
    upstream.gate = anyio.Event()
    async with anyio.create_task_group() as tg:

        async def relogin() -> None:
            await _until_refreshing(upstream)
            await credentials.save_login(user_id=USER, display_name=None, tokens=login_tokens("winner"))
            assert upstream.gate is not None
            upstream.gate.set()

        tg.start_soon(relogin)
        assert await credentials.access_token(USER) == "winner"
    assert upstream.refreshes == 1
    assert await credentials.access_token(USER) == "winner"


async def test_stored_tokens_are_sealed_not_plaintext(
    credentials: CredentialsManager, store: SqliteStore, db_path: Path, clock: ManualClock
) -> None:
    tokens = login_tokens("plain-access-SENTINEL", "plain-refresh-SENTINEL")
    await credentials.save_login(user_id=USER, display_name=None, tokens=tokens)
    clock.advance(4000)
    await credentials.access_token(USER)
    await store.close()
    files = list(db_path.parent.glob(db_path.name + "*"))
    assert db_path in files
    for path in files:
        content = path.read_bytes()
        assert b"SENTINEL" not in content
        assert b"access-1" not in content


async def test_tokens_sealed_for_one_user_do_not_open_for_another(
    credentials: CredentialsManager, store: SqliteStore
) -> None:
    await credentials.save_login(user_id=USER, display_name=None, tokens=login_tokens())
    mine = await store.get_spotify_credentials(USER)
    assert mine is not None
    await store.put_spotify_credentials(dataclasses.replace(mine, user_id="someone-else"))
    with pytest.raises(ReconnectRequired):
        await credentials.access_token("someone-else")


async def test_credentials_sealed_by_an_old_key_are_resealed_on_refresh(
    store: SqliteStore, accounts: SpotifyAccounts, clock: ManualClock, upstream: Upstream
) -> None:
    old_key, new_key = b"o" * 32, b"n" * 32
    old_ring, rotated_ring = KeyRing([old_key]), KeyRing([new_key, old_key])
    await CredentialsManager(store, old_ring, accounts, clock, owner="r").save_login(
        user_id=USER, display_name=None, tokens=login_tokens(refresh="refresh-0")
    )
    manager = CredentialsManager(store, rotated_ring, accounts, clock, owner="r")
    assert await manager.access_token(USER) == "access-0"
    clock.advance(4000)
    assert await manager.access_token(USER) == "access-1"
    creds = await store.get_spotify_credentials(USER)
    assert creds is not None
    assert rotated_ring.is_current(creds.access_token_sealed)
    assert rotated_ring.is_current(creds.refresh_token_sealed)
    new_only = KeyRing([new_key])
    assert new_only.unseal(creds.refresh_token_sealed, seal_context(USER, "refresh")) == "refresh-0"
    assert new_only.unseal(creds.access_token_sealed, seal_context(USER, "access")) == "access-1"


async def test_a_token_rejected_after_another_replica_refreshed_is_replaced_without_a_second_refresh(
    store: SqliteStore, keys: KeyRing, accounts: SpotifyAccounts, clock: ManualClock, upstream: Upstream
) -> None:
    replica_a = CredentialsManager(store, keys, accounts, clock, owner="replica-a")
    replica_b = CredentialsManager(store, keys, accounts, clock, owner="replica-b")
    await replica_a.save_login(user_id=USER, display_name=None, tokens=login_tokens())
    stale = await replica_b.access_token(USER)
    assert await replica_a.access_token(USER, rejected=stale) == "access-1"
    assert await replica_b.access_token(USER, rejected=stale) == "access-1"
    assert upstream.refreshes == 1


async def test_the_current_token_rejected_again_is_refreshed_again(
    credentials: CredentialsManager, upstream: Upstream
) -> None:
    await credentials.save_login(user_id=USER, display_name=None, tokens=login_tokens())
    first = await credentials.access_token(USER, rejected=await credentials.access_token(USER))
    assert await credentials.access_token(USER, rejected=first) == "access-2"
    assert upstream.refreshes == 2
