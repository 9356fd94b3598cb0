"""The Store contract for Spotify credentials, refresh leases and user deletion (every backend)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from spotify_mcp.store.base import Store
from spotify_mcp.store.redis_store import RedisStore

from .builders import NOW, client, credentials, issue, race
from .redis_support import DisposableRedisStore, delete_prefix, require_redis, store_url

pytestmark = pytest.mark.anyio


async def test_spotify_credentials_round_trip(store: Store) -> None:
    await store.put_spotify_credentials(credentials())
    assert await store.get_spotify_credentials("u1") == credentials()
    assert await store.get_spotify_credentials("nobody") is None


async def test_putting_credentials_again_replaces_them_with_a_higher_version(store: Store) -> None:
    await store.put_spotify_credentials(credentials())
    await store.put_spotify_credentials(credentials(access="sealed-at-2"))
    assert await store.get_spotify_credentials("u1") == credentials(access="sealed-at-2", version=2)


async def test_compare_and_set_writes_the_next_version(store: Store) -> None:
    await store.put_spotify_credentials(credentials())
    assert await store.update_spotify_credentials(credentials(version=2, access="fresh"), 1) is True
    assert await store.get_spotify_credentials("u1") == credentials(version=2, access="fresh")


async def test_compare_and_set_rejects_a_stale_version(store: Store) -> None:
    await store.put_spotify_credentials(credentials())
    await store.update_spotify_credentials(credentials(version=2, access="first"), 1)
    assert await store.update_spotify_credentials(credentials(version=2, access="second"), 1) is False
    assert await store.get_spotify_credentials("u1") == credentials(version=2, access="first")


async def test_compare_and_set_wins_once_when_ten_callers_race(store: Store) -> None:
    await store.put_spotify_credentials(credentials())
    outcomes = await race(10, lambda i: store.update_spotify_credentials(credentials(version=2, access=f"at-{i}"), 1))
    assert outcomes.count(True) == 1


async def test_compare_and_set_of_an_unknown_user_is_rejected(store: Store) -> None:
    assert await store.update_spotify_credentials(credentials(version=2), 1) is False
    assert await store.get_spotify_credentials("u1") is None


async def test_compare_and_set_needs_the_next_version_number(store: Store) -> None:
    await store.put_spotify_credentials(credentials())
    with pytest.raises(ValueError, match="version"):
        await store.update_spotify_credentials(credentials(version=1), 1)


async def test_a_fresh_login_defeats_a_compare_and_set_prepared_before_it(store: Store) -> None:
    await store.put_spotify_credentials(credentials())
    await store.put_spotify_credentials(credentials(access="new-login"))
    assert await store.update_spotify_credentials(credentials(version=2, access="stale-refresh"), 1) is False
    stored = await store.get_spotify_credentials("u1")
    assert stored is not None
    assert stored.access_token_sealed == "new-login"


async def test_a_lease_held_by_another_owner_blocks_until_it_expires(store: Store) -> None:
    await store.put_spotify_credentials(credentials())
    assert await store.acquire_refresh_lease("u1", "a", NOW + 30, NOW) is True
    assert await store.acquire_refresh_lease("u1", "b", NOW + 40, NOW + 29) is False
    assert await store.acquire_refresh_lease("u1", "b", NOW + 60, NOW + 30) is True
    assert await store.acquire_refresh_lease("u1", "a", NOW + 60, NOW + 31) is False


async def test_a_lease_is_taken_once_when_ten_owners_race(store: Store) -> None:
    await store.put_spotify_credentials(credentials())
    outcomes = await race(10, lambda i: store.acquire_refresh_lease("u1", f"owner-{i}", NOW + 30, NOW))
    assert outcomes.count(True) == 1


async def test_the_lease_owner_can_renew_it(store: Store) -> None:
    await store.put_spotify_credentials(credentials())
    await store.acquire_refresh_lease("u1", "a", NOW + 30, NOW)
    assert await store.acquire_refresh_lease("u1", "a", NOW + 90, NOW + 20) is True
    assert await store.acquire_refresh_lease("u1", "b", NOW + 120, NOW + 60) is False


async def test_only_the_owner_can_release_a_lease(store: Store) -> None:
    await store.put_spotify_credentials(credentials())
    await store.acquire_refresh_lease("u1", "a", NOW + 30, NOW)
    await store.release_refresh_lease("u1", "b")
    assert await store.acquire_refresh_lease("u1", "b", NOW + 30, NOW) is False
    await store.release_refresh_lease("u1", "a")
    assert await store.acquire_refresh_lease("u1", "b", NOW + 30, NOW) is True


async def test_a_lease_needs_credentials_to_refresh(store: Store) -> None:
    assert await store.acquire_refresh_lease("nobody", "a", NOW + 30, NOW) is False


async def test_a_lease_survives_a_compare_and_set(store: Store) -> None:
    await store.put_spotify_credentials(credentials())
    await store.acquire_refresh_lease("u1", "a", NOW + 30, NOW)
    await store.update_spotify_credentials(credentials(version=2), 1)
    assert await store.acquire_refresh_lease("u1", "b", NOW + 30, NOW) is False


async def test_deleting_a_user_removes_their_grants_and_tokens(store: Store) -> None:
    for user_id in ("u1", "u2"):
        await store.put_spotify_credentials(credentials(user_id))
        await issue(store, f"g-{user_id}", user_id=user_id)
    await store.delete_user("u1")
    await store.delete_user("nobody")
    assert await store.get_spotify_credentials("u1") is None
    assert await store.list_grants("u1") == []
    assert await store.get_token("at-g-u1") is None
    assert await store.get_token("rt-g-u1") is None
    assert await store.get_spotify_credentials("u2") == credentials("u2")
    assert [g.grant_id for g in await store.list_grants("u2")] == ["g-u2"]
    assert await store.get_token("rt-g-u2") is not None


async def test_listing_credentials_of_an_empty_store_finds_none(store: Store) -> None:
    assert await store.list_spotify_credentials() == []


async def test_listing_credentials_returns_every_user_oldest_first(store: Store) -> None:
    stored = [
        replace(credentials("u-late"), authorized_at=NOW - 10),
        replace(credentials("u-b"), authorized_at=NOW - 500),
        replace(credentials("u-a"), authorized_at=NOW - 500),
        replace(credentials("u-early"), authorized_at=NOW - 9_000),
    ]
    for creds in stored:
        await store.put_spotify_credentials(creds)
    listed = await store.list_spotify_credentials()
    assert [creds.user_id for creds in listed] == ["u-early", "u-a", "u-b", "u-late"]
    assert listed[-1] == stored[0]


async def test_listed_credentials_follow_writes_and_deletions(store: Store) -> None:
    for user_id in ("u1", "u2", "u3"):
        await store.put_spotify_credentials(credentials(user_id))
    await store.acquire_refresh_lease("u1", "a", NOW + 30, NOW)
    await store.update_spotify_credentials(credentials("u1", version=2, access="refreshed"), 1)
    await store.put_spotify_credentials(credentials("u2", access="signed-in-again"))
    await store.delete_user("u3")
    listed = await store.list_spotify_credentials()
    assert listed == [
        credentials("u1", version=2, access="refreshed"),
        credentials("u2", version=2, access="signed-in-again"),
    ]


async def test_listing_credentials_leaves_out_grants_and_clients(store: Store) -> None:
    await store.add_client(client())
    await issue(store, user_id="u-with-grant-only")
    await store.put_spotify_credentials(credentials("u1"))
    assert [creds.user_id for creds in await store.list_spotify_credentials()] == ["u1"]


async def test_a_redis_store_does_not_list_a_neighbour_whose_prefix_extends_its_own(anyio_backend: str) -> None:
    await require_redis()
    async with DisposableRedisStore() as store:
        nested_url = store_url(f"{store.prefix}spotify:")
        async with RedisStore(nested_url) as neighbour:
            try:
                await neighbour.put_spotify_credentials(credentials("theirs"))
                await issue(neighbour, user_id="theirs")
                await store.put_spotify_credentials(credentials("ours"))
                assert [creds.user_id for creds in await store.list_spotify_credentials()] == ["ours"]
                assert [creds.user_id for creds in await neighbour.list_spotify_credentials()] == ["theirs"]
            finally:
                await delete_prefix(neighbour.prefix)
