"""The Store contract for Spotify credentials, refresh leases and user deletion (every backend)."""

from __future__ import annotations

import pytest

from spotify_mcp.store.base import Store

from .builders import NOW, credentials, issue, race

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
