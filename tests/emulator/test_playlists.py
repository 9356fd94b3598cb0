"""Reading playlists: /me/playlists (scopes), /playlists/{id} and /items (owner or collaborator only)."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from spotify_mcp.emulator import World
from tests.emulator.flow import bearer, sign_in
from tests.emulator.openapi import assert_conforms

pytestmark = pytest.mark.anyio


async def get(client: httpx2.AsyncClient, headers: dict[str, str], path: str, **params: str | int) -> Any:
    response = await client.get(path, params=params, headers=headers)
    assert response.status_code == 200, response.text
    assert_conforms(response)
    return response.json()


async def get_raw(client: httpx2.AsyncClient, headers: dict[str, str], path: str, **params: str) -> Any:
    response = await client.get(path, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def names(page: dict[str, Any]) -> list[str]:
    return [item["name"] for item in page["items"]]


async def test_my_playlists_are_owned_and_followed_ones(client: httpx2.AsyncClient, premium: dict[str, str]) -> None:
    page = await get(client, premium, "/v1/me/playlists")
    assert names(page) == ["Pia's Road Trip", "Late Night Focus", "Shared Party Mix", "Jazz Classics"]
    assert page["total"] == 4
    jazz = page["items"][3]
    assert jazz["owner"]["id"] == "sam-curator"
    assert jazz["owner"]["display_name"] == "Sam Curator"
    assert jazz["items"]["total"] == 4
    assert jazz["items"]["href"].endswith(f"/v1/playlists/{jazz['id']}/items")
    assert "tracks" not in jazz


async def test_private_and_collaborative_playlists_need_their_scopes(client: httpx2.AsyncClient) -> None:
    async def listed(scope: str) -> list[str]:
        tokens = await sign_in(client, scope=scope)
        return names(await get(client, bearer(tokens["access_token"]), "/v1/me/playlists"))

    assert await listed("") == ["Pia's Road Trip", "Jazz Classics"]
    assert await listed("playlist-read-private") == ["Pia's Road Trip", "Late Night Focus", "Jazz Classics"]
    assert await listed("playlist-read-collaborative") == ["Pia's Road Trip", "Shared Party Mix", "Jazz Classics"]


async def test_my_playlists_page(client: httpx2.AsyncClient, premium: dict[str, str]) -> None:
    first = await get(client, premium, "/v1/me/playlists", limit=3)
    assert len(first["items"]) == 3
    second = await get(client, premium, "/v1/me/playlists", limit=3, offset=3)
    assert names(second) == ["Jazz Classics"]
    assert second["next"] is None
    response = await client.get(first["next"], headers=premium)
    assert response.json()["items"] == second["items"]


@pytest.mark.parametrize("params", [{"limit": "0"}, {"limit": "51"}, {"offset": "100001"}, {"offset": "-1"}])
async def test_bad_paging_parameters_are_400(
    client: httpx2.AsyncClient, premium: dict[str, str], params: dict[str, str]
) -> None:
    response = await client.get("/v1/me/playlists", params=params, headers=premium)
    assert response.status_code == 400


async def test_an_own_playlist_comes_with_its_items(
    client: httpx2.AsyncClient, premium: dict[str, str], world: World
) -> None:
    roadtrip = world.playlist_by_name("Pia's Road Trip")
    body = await get(client, premium, f"/v1/playlists/{roadtrip.id}")
    assert body["name"] == "Pia's Road Trip"
    assert body["snapshot_id"] == roadtrip.snapshot_id
    assert body["followers"] == {"href": None, "total": 3}
    assert body["items"]["total"] == 12
    assert body["items"]["limit"] == 100
    first = body["items"]["items"][0]
    assert first["item"]["id"] == roadtrip.entries[0].track_id
    assert first["added_by"]["id"] == "premium-user"
    assert first["is_local"] is False
    assert "track" not in first
    assert "tracks" not in body


async def test_someone_elses_public_playlist_has_no_items(
    client: httpx2.AsyncClient, premium: dict[str, str], world: World
) -> None:
    jazz = world.playlist_by_name("Jazz Classics")
    body = await get(client, premium, f"/v1/playlists/{jazz.id}")
    assert body["owner"]["id"] == "sam-curator"
    assert "items" not in body


async def test_items_of_someone_elses_playlist_are_forbidden(
    client: httpx2.AsyncClient, premium: dict[str, str], world: World
) -> None:
    jazz = world.playlist_by_name("Jazz Classics")
    response = await client.get(f"/v1/playlists/{jazz.id}/items", headers=premium)
    assert response.status_code == 403
    assert response.json() == {"error": {"status": 403, "message": "Forbidden"}}
    assert_conforms(response)


async def test_a_collaborator_reads_the_items(
    client: httpx2.AsyncClient, premium: dict[str, str], world: World
) -> None:
    party = world.playlist_by_name("Shared Party Mix")
    page = await get(client, premium, f"/v1/playlists/{party.id}/items")
    assert page["total"] == 6
    assert {item["added_by"]["id"] for item in page["items"]} == {"free-user", "premium-user"}
    body = await get(client, premium, f"/v1/playlists/{party.id}")
    assert body["collaborative"] is True
    assert body["public"] is False
    assert body["items"]["total"] == 6


async def test_someone_elses_private_playlist_is_not_found(
    client: httpx2.AsyncClient, premium: dict[str, str], world: World
) -> None:
    stash = world.playlist_by_name("Sam's Secret Stash")
    for path in (f"/v1/playlists/{stash.id}", f"/v1/playlists/{stash.id}/items"):
        response = await client.get(path, headers=premium)
        assert response.status_code == 404
        assert_conforms(response)


@pytest.mark.parametrize(("playlist_id", "status"), [("not-an-id", 400), ("0000000000000000000000", 404)])
async def test_a_bad_or_unknown_playlist_id_is_refused(
    client: httpx2.AsyncClient, premium: dict[str, str], playlist_id: str, status: int
) -> None:
    response = await client.get(f"/v1/playlists/{playlist_id}", headers=premium)
    assert response.status_code == status


async def test_playlist_items_page_with_links(
    client: httpx2.AsyncClient, premium: dict[str, str], world: World
) -> None:
    roadtrip = world.playlist_by_name("Pia's Road Trip")
    page = await get(client, premium, f"/v1/playlists/{roadtrip.id}/items", limit=5, market="DE")
    assert page["limit"] == 5
    assert "market=DE" in page["next"]
    ids: list[str] = []
    while True:
        ids += [item["item"]["id"] for item in page["items"]]
        if not page["next"]:
            break
        response = await client.get(page["next"], headers=premium)
        assert_conforms(response)
        page = response.json()
    assert ids == [entry.track_id for entry in roadtrip.entries]


async def test_the_fields_filter_trims_the_response(
    client: httpx2.AsyncClient, premium: dict[str, str], world: World
) -> None:
    roadtrip = world.playlist_by_name("Pia's Road Trip")
    body = await get_raw(
        client, premium, f"/v1/playlists/{roadtrip.id}/items", fields="total,items(added_at,item(name,uri))"
    )
    assert set(body) == {"total", "items"}
    assert set(body["items"][0]) == {"added_at", "item"}
    assert set(body["items"][0]["item"]) == {"name", "uri"}
    body = await get_raw(client, premium, f"/v1/playlists/{roadtrip.id}", fields="name,owner.id,items.items(!item)")
    assert body["owner"] == {"id": "premium-user"}
    assert set(body["items"]["items"][0]) == {"added_at", "added_by", "is_local"}


async def test_a_malformed_fields_filter_is_400(
    client: httpx2.AsyncClient, premium: dict[str, str], world: World
) -> None:
    roadtrip = world.playlist_by_name("Pia's Road Trip")
    response = await client.get(f"/v1/playlists/{roadtrip.id}", params={"fields": "items(name"}, headers=premium)
    assert response.status_code == 400
