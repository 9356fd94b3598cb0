"""Playlist writes: create (``POST /me/playlists``), change details, and add, remove, reorder or replace items.

Only the owner changes details; the owner and collaborators change items; the scope follows the playlist's
visibility; every write moves the ``snapshot_id`` on and ``GET /playlists/{id}/items`` shows the result.
"""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from spotify_mcp.clock import ManualClock
from spotify_mcp.emulator import World
from spotify_mcp.emulator.model import Playlist
from spotify_mcp.emulator.objects import timestamp
from tests.emulator.flow import bearer, sign_in
from tests.emulator.openapi import assert_conforms

pytestmark = pytest.mark.anyio
WRITE_SCOPES = "playlist-read-private playlist-read-collaborative playlist-modify-public playlist-modify-private"


async def headers_for(
    client: httpx2.AsyncClient, scope: str = WRITE_SCOPES, user: str = "premium-user"
) -> dict[str, str]:
    return bearer((await sign_in(client, user=user, scope=scope))["access_token"])


@pytest.fixture
async def pia(client: httpx2.AsyncClient) -> dict[str, str]:
    """The Premium user, allowed to read and write public and private playlists."""
    return await headers_for(client)


def track_uri(world: World, name: str) -> str:
    return f"spotify:track:{world.track_by_name(name).id}"


def track_names(world: World, playlist: Playlist) -> list[str]:
    return [world.tracks[e.track_id].name for e in playlist.entries]


async def write(
    client: httpx2.AsyncClient, headers: dict[str, str], method: str, path: str, status: int = 200, **kwargs: Any
) -> Any:
    response = await client.request(method, path, headers=headers, **kwargs)
    assert response.status_code == status, response.text
    assert_conforms(response)
    return response.json() if response.content else None


async def item_names(client: httpx2.AsyncClient, headers: dict[str, str], playlist_id: str) -> list[str]:
    page = await write(client, headers, "GET", f"/v1/playlists/{playlist_id}/items", params={"limit": 50})
    return [item["item"]["name"] for item in page["items"]]


def error(response: httpx2.Response, status: int) -> str:
    assert response.status_code == status, response.text
    assert_conforms(response)
    message: str = response.json()["error"]["message"]
    return message


async def test_creating_a_playlist_answers_201_with_the_new_empty_playlist(
    client: httpx2.AsyncClient, pia: dict[str, str]
) -> None:
    body = {"name": "Rainy Sundays", "description": "Slow and warm.", "public": False}
    created = await write(client, pia, "POST", "/v1/me/playlists", 201, json=body)
    assert created["name"] == "Rainy Sundays"
    assert created["description"] == "Slow and warm."
    assert created["public"] is False
    assert created["collaborative"] is False
    assert created["owner"]["id"] == "premium-user"
    assert created["items"]["total"] == 0
    assert created["images"] == []
    assert created["followers"]["total"] == 0
    assert "tracks" not in created
    fetched = await write(client, pia, "GET", f"/v1/playlists/{created['id']}")
    assert fetched == created


async def test_a_new_playlist_is_first_in_my_playlists(client: httpx2.AsyncClient, pia: dict[str, str]) -> None:
    created = await write(client, pia, "POST", "/v1/me/playlists", 201, json={"name": "Fresh"})
    assert created["public"] is True
    mine = await write(client, pia, "GET", "/v1/me/playlists")
    assert mine["items"][0]["id"] == created["id"]
    assert mine["total"] == 5
    again = await write(client, pia, "POST", "/v1/me/playlists", 201, json={"name": "Fresh"})
    assert again["id"] != created["id"]


@pytest.mark.parametrize(
    ("scope", "body", "allowed"),
    [
        ("playlist-modify-public", {"name": "A"}, True),
        ("playlist-modify-private", {"name": "A"}, False),
        ("playlist-modify-private", {"name": "A", "public": False}, True),
        ("playlist-modify-public", {"name": "A", "public": False}, False),
        ("playlist-modify-private", {"name": "A", "public": False, "collaborative": True}, False),
        ("playlist-modify-public playlist-modify-private", {"name": "A", "public": False, "collaborative": True}, True),
    ],
)
async def test_creating_needs_the_scope_of_the_new_playlists_visibility(
    client: httpx2.AsyncClient, scope: str, body: dict[str, Any], allowed: bool
) -> None:
    response = await client.post("/v1/me/playlists", json=body, headers=await headers_for(client, scope))
    assert_conforms(response)
    if allowed:
        assert response.status_code == 201
        assert response.json()["collaborative"] is bool(body.get("collaborative"))
    else:
        assert error(response, 403) == "Insufficient client scope"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "Missing required field: name"),
        ({"name": 7}, "Invalid value for name"),
        ({"name": "A", "public": "no"}, "Invalid value for public"),
        ({"name": "A", "collaborative": True}, "Collaborative playlists can only be private"),
        ({"name": "A", "public": True, "collaborative": True}, "Collaborative playlists can only be private"),
    ],
)
async def test_bad_create_requests_are_400(
    client: httpx2.AsyncClient, pia: dict[str, str], body: dict[str, Any], message: str
) -> None:
    assert error(await client.post("/v1/me/playlists", json=body, headers=pia), 400) == message


async def test_a_body_that_is_not_json_is_400(client: httpx2.AsyncClient, pia: dict[str, str]) -> None:
    response = await client.post("/v1/me/playlists", content=b"name=A", headers=pia)
    assert error(response, 400) == "Error parsing json"


async def test_the_old_create_path_is_forbidden(client: httpx2.AsyncClient, pia: dict[str, str]) -> None:
    response = await client.post("/v1/users/premium-user/playlists", json={"name": "A"}, headers=pia)
    assert error(response, 403) == "You cannot create a playlist for another user"


async def test_the_owner_changes_the_details(client: httpx2.AsyncClient, pia: dict[str, str], world: World) -> None:
    focus = world.playlist_by_name("Late Night Focus")
    before = focus.snapshot_id
    body = {"name": "Deep Work", "description": "Even quieter.", "public": True}
    assert await write(client, pia, "PUT", f"/v1/playlists/{focus.id}", json=body) is None
    fetched = await write(client, pia, "GET", f"/v1/playlists/{focus.id}")
    assert (fetched["name"], fetched["description"], fetched["public"]) == ("Deep Work", "Even quieter.", True)
    assert fetched["snapshot_id"] != before
    assert fetched["items"]["total"] == 6


async def test_making_a_playlist_collaborative_needs_it_private(
    client: httpx2.AsyncClient, pia: dict[str, str], world: World
) -> None:
    roadtrip = world.playlist_by_name("Pia's Road Trip")
    response = await client.put(f"/v1/playlists/{roadtrip.id}", json={"collaborative": True}, headers=pia)
    assert error(response, 400) == "Collaborative playlists can only be private"
    body = {"collaborative": True, "public": False}
    await write(client, pia, "PUT", f"/v1/playlists/{roadtrip.id}", json=body)
    assert (roadtrip.public, roadtrip.collaborative) == (False, True)


async def test_changing_details_needs_the_scopes_of_both_visibilities(client: httpx2.AsyncClient, world: World) -> None:
    focus = world.playlist_by_name("Late Night Focus")
    private_only = await headers_for(client, "playlist-modify-private")
    response = await client.put(f"/v1/playlists/{focus.id}", json={"public": True}, headers=private_only)
    assert error(response, 403) == "Insufficient client scope"
    public_only = await headers_for(client, "playlist-modify-public")
    response = await client.put(f"/v1/playlists/{focus.id}", json={"name": "x"}, headers=public_only)
    assert error(response, 403) == "Insufficient client scope"
    assert focus.name == "Late Night Focus"
    await write(client, private_only, "PUT", f"/v1/playlists/{focus.id}", json={"name": "x"})
    assert focus.name == "x"


async def test_only_the_owner_changes_the_details(
    client: httpx2.AsyncClient, pia: dict[str, str], world: World
) -> None:
    for name in ("Shared Party Mix", "Jazz Classics"):
        playlist = world.playlist_by_name(name)
        response = await client.put(f"/v1/playlists/{playlist.id}", json={"name": "Mine now"}, headers=pia)
        assert error(response, 403) == "Forbidden"
        assert playlist.name == name


async def test_an_empty_change_changes_nothing(client: httpx2.AsyncClient, pia: dict[str, str], world: World) -> None:
    focus = world.playlist_by_name("Late Night Focus")
    before = focus.snapshot_id
    await write(client, pia, "PUT", f"/v1/playlists/{focus.id}", json={})
    assert focus.snapshot_id == before


async def test_adding_items_inserts_them_and_answers_201_with_a_new_snapshot(
    client: httpx2.AsyncClient, pia: dict[str, str], world: World, clock: ManualClock
) -> None:
    focus = world.playlist_by_name("Late Night Focus")
    before = focus.snapshot_id
    clock.advance(120)
    uris = [track_uri(world, "Aurora"), track_uri(world, "Poolside")]
    answer = await write(
        client, pia, "POST", f"/v1/playlists/{focus.id}/items", 201, json={"uris": uris, "position": 1}
    )
    assert set(answer) == {"snapshot_id"}
    assert answer["snapshot_id"] == focus.snapshot_id != before
    names = await item_names(client, pia, focus.id)
    assert names[:4] == ["Harmattan Blues", "Aurora", "Poolside", "Accra at Dawn"]
    page = await write(client, pia, "GET", f"/v1/playlists/{focus.id}/items", params={"limit": 2, "offset": 1})
    assert page["items"][0]["added_at"] == timestamp(clock.now())
    assert page["items"][0]["added_by"]["id"] == "premium-user"
    assert page["total"] == 8


async def test_items_are_appended_by_default_and_may_come_in_the_query(
    client: httpx2.AsyncClient, pia: dict[str, str], world: World
) -> None:
    focus = world.playlist_by_name("Late Night Focus")
    path = f"/v1/playlists/{focus.id}/items"
    await write(client, pia, "POST", path, 201, params={"uris": track_uri(world, "Dust")}, json={"uris": []})
    await write(client, pia, "POST", path, 201, params={"uris": track_uri(world, "Orbit"), "position": 0})
    names = await item_names(client, pia, focus.id)
    assert names[0] == "Orbit"
    assert names[-1] == "Dust"
    assert len(names) == 8


async def test_a_collaborator_adds_items_with_the_private_scope(client: httpx2.AsyncClient, world: World) -> None:
    party = world.playlist_by_name("Shared Party Mix")
    body = {"uris": [track_uri(world, "Neon Tide")]}
    public_only = await headers_for(client, "playlist-modify-public")
    response = await client.post(f"/v1/playlists/{party.id}/items", json=body, headers=public_only)
    assert error(response, 403) == "Insufficient client scope"
    private = await headers_for(client, "playlist-modify-private")
    await write(client, private, "POST", f"/v1/playlists/{party.id}/items", 201, json=body)
    assert party.entries[-1].added_by == "premium-user"
    assert len(party.entries) == 7


async def test_other_peoples_playlists_cannot_be_changed(
    client: httpx2.AsyncClient, pia: dict[str, str], world: World
) -> None:
    jazz = world.playlist_by_name("Jazz Classics")
    body = {"uris": [track_uri(world, "Aurora")]}
    for method in ("POST", "PUT"):
        response = await client.request(method, f"/v1/playlists/{jazz.id}/items", json=body, headers=pia)
        assert error(response, 403) == "Forbidden"
    response = await client.request(
        "DELETE",
        f"/v1/playlists/{jazz.id}/items",
        json={"items": [{"uri": track_uri(world, "Harmattan Blues")}]},
        headers=pia,
    )
    assert error(response, 403) == "Forbidden"
    assert len(jazz.entries) == 4
    stash = world.playlist_by_name("Sam's Secret Stash")
    response = await client.post(f"/v1/playlists/{stash.id}/items", json=body, headers=pia)
    assert error(response, 404) == "Resource not found"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "No uris provided"),
        ({"uris": []}, "No uris provided"),
        ({"uris": "spotify:track:x"}, "Invalid uris"),
        ({"uris": ["spotify:album:0000000000000000000000"]}, "Unsupported URI type: album"),
        ({"uris": ["spotify:track:0000000000000000000000"]}, "Payload contains a non-existing ID"),
        ({"uris": ["spotify:episode:0000000000000000000000"]}, "Payload contains a non-existing ID"),
        ({"uris": ["spotify:track:bad"]}, "Invalid base62 id"),
        ({"uris": ["AURORA"], "position": 7}, "Invalid position"),
        ({"uris": ["AURORA"], "position": -1}, "Invalid position"),
        ({"uris": ["AURORA"], "position": "0"}, "Invalid value for position"),
        ({"uris": ["AURORA"], "position": True}, "Invalid value for position"),
        ({"uris": ["AURORA"] * 101}, "You can send a maximum of 100 items per request"),
    ],
)
async def test_bad_additions_are_400_and_change_nothing(
    client: httpx2.AsyncClient, pia: dict[str, str], world: World, body: dict[str, Any], message: str
) -> None:
    focus = world.playlist_by_name("Late Night Focus")
    before = focus.snapshot_id
    if "uris" in body and isinstance(body["uris"], list):
        body = {**body, "uris": [track_uri(world, "Aurora") if u == "AURORA" else u for u in body["uris"]]}
    response = await client.post(f"/v1/playlists/{focus.id}/items", json=body, headers=pia)
    assert error(response, 400) == message
    assert focus.snapshot_id == before
    assert len(focus.entries) == 6


async def test_a_hundred_items_may_be_added_at_once(
    client: httpx2.AsyncClient, pia: dict[str, str], world: World
) -> None:
    focus = world.playlist_by_name("Late Night Focus")
    await write(
        client, pia, "POST", f"/v1/playlists/{focus.id}/items", 201, json={"uris": [track_uri(world, "Aurora")] * 100}
    )
    assert len(focus.entries) == 106
    assert (await write(client, pia, "GET", f"/v1/playlists/{focus.id}/items"))["total"] == 106


async def test_removing_an_item_removes_every_occurrence(
    client: httpx2.AsyncClient, pia: dict[str, str], world: World
) -> None:
    roadtrip = world.playlist_by_name("Pia's Road Trip")
    neon, orbit = track_uri(world, "Neon Tide"), track_uri(world, "Orbit")
    await write(client, pia, "POST", f"/v1/playlists/{roadtrip.id}/items", 201, json={"uris": [neon], "position": 0})
    assert track_names(world, roadtrip).count("Neon Tide") == 2
    before = roadtrip.snapshot_id
    body = {"items": [{"uri": neon}, {"uri": orbit}], "snapshot_id": before}
    answer = await write(client, pia, "DELETE", f"/v1/playlists/{roadtrip.id}/items", json=body)
    assert answer == {"snapshot_id": roadtrip.snapshot_id}
    assert answer["snapshot_id"] != before
    names = await item_names(client, pia, roadtrip.id)
    assert "Neon Tide" not in names
    assert "Orbit" not in names
    assert len(names) == 10


async def test_an_older_snapshot_is_accepted_an_unknown_one_is_not(
    client: httpx2.AsyncClient, pia: dict[str, str], world: World
) -> None:
    roadtrip = world.playlist_by_name("Pia's Road Trip")
    original = roadtrip.snapshot_id
    path = f"/v1/playlists/{roadtrip.id}/items"
    await write(client, pia, "POST", path, 201, json={"uris": [track_uri(world, "Poolside")]})
    body = {"items": [{"uri": track_uri(world, "Aurora")}], "snapshot_id": original}
    await write(client, pia, "DELETE", path, json=body)
    for snapshot in ("bm90IGEgc25hcHNob3Q=", world.playlist_by_name("Late Night Focus").snapshot_id):
        body = {"items": [{"uri": track_uri(world, "Poolside")}], "snapshot_id": snapshot}
        response = await client.request("DELETE", path, json=body, headers=pia)
        assert error(response, 400) == "Invalid snapshot_id"
    assert "Poolside" in track_names(world, roadtrip)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (None, "Missing required field: items"),
        ({"tracks": [{"uri": "spotify:track:0000000000000000000000"}]}, "Missing required field: items"),
        ({"items": []}, "Missing required field: items"),
        ({"items": ["spotify:track:0000000000000000000000"]}, "Invalid items"),
        ({"items": [{"uri": "spotify:playlist:0000000000000000000000"}]}, "Unsupported URI type: playlist"),
        (
            {"items": [{"uri": "spotify:track:0000000000000000000000"}] * 101},
            "You can send a maximum of 100 items per request",
        ),
    ],
)
async def test_bad_removals_are_400(
    client: httpx2.AsyncClient, pia: dict[str, str], world: World, body: dict[str, Any] | None, message: str
) -> None:
    roadtrip = world.playlist_by_name("Pia's Road Trip")
    response = await client.request("DELETE", f"/v1/playlists/{roadtrip.id}/items", json=body, headers=pia)
    assert error(response, 400) == message
    assert len(roadtrip.entries) == 12


def reordered(items: list[str], start: int, before: int, length: int) -> list[str]:
    """The documented reorder: the block ``[start, start + length)`` moves to just before position ``before``."""
    block = items[start : start + length]
    marked: list[tuple[int, str] | None] = [*enumerate(items[:before]), None, *enumerate(items[before:], before)]
    kept = [entry for entry in marked if entry is None or not start <= entry[0] < start + length]
    at = kept.index(None)
    return [entry[1] for entry in kept[:at] if entry] + block + [entry[1] for entry in kept[at + 1 :] if entry]


@pytest.mark.parametrize(
    ("start", "before", "length"),
    [(0, 12, 1), (11, 0, 1), (9, 0, 2), (1, 4, 2), (2, 3, 1), (2, 2, 1), (3, 4, 2), (0, 6, 6), (4, 1, 3), (5, 12, 7)],
)
async def test_reordering_moves_a_range_before_a_position(
    client: httpx2.AsyncClient, pia: dict[str, str], world: World, start: int, before: int, length: int
) -> None:
    roadtrip = world.playlist_by_name("Pia's Road Trip")
    expected = reordered(track_names(world, roadtrip), start, before, length)
    previous = roadtrip.snapshot_id
    body = {"range_start": start, "insert_before": before, "range_length": length, "snapshot_id": previous}
    answer = await write(client, pia, "PUT", f"/v1/playlists/{roadtrip.id}/items", json=body)
    assert answer["snapshot_id"] != previous
    assert await item_names(client, pia, roadtrip.id) == expected


async def test_range_length_defaults_to_one(client: httpx2.AsyncClient, pia: dict[str, str], world: World) -> None:
    roadtrip = world.playlist_by_name("Pia's Road Trip")
    names = track_names(world, roadtrip)
    await write(client, pia, "PUT", f"/v1/playlists/{roadtrip.id}/items", json={"range_start": 0, "insert_before": 12})
    assert track_names(world, roadtrip) == [*names[1:], names[0]]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"range_start": 12, "insert_before": 0}, "Index out of bounds"),
        ({"range_start": 0, "insert_before": 13}, "Index out of bounds"),
        ({"range_start": 11, "insert_before": 0, "range_length": 2}, "Index out of bounds"),
        ({"range_start": 0, "insert_before": 3, "range_length": 0}, "Index out of bounds"),
        ({"range_start": 0}, "Missing range_start or insert_before"),
        ({"range_start": "0", "insert_before": 3}, "Invalid value for range_start"),
        ({}, "Either uris or range_start and insert_before are required"),
        ({"uris": [], "range_start": 0, "insert_before": 3}, "Replace and reorder are mutually exclusive"),
    ],
)
async def test_bad_reorders_are_400(
    client: httpx2.AsyncClient, pia: dict[str, str], world: World, body: dict[str, Any], message: str
) -> None:
    roadtrip = world.playlist_by_name("Pia's Road Trip")
    before = track_names(world, roadtrip)
    response = await client.put(f"/v1/playlists/{roadtrip.id}/items", json=body, headers=pia)
    assert error(response, 400) == message
    assert track_names(world, roadtrip) == before


async def test_replacing_sets_the_items_and_an_empty_list_clears(
    client: httpx2.AsyncClient, pia: dict[str, str], world: World
) -> None:
    focus = world.playlist_by_name("Late Night Focus")
    path = f"/v1/playlists/{focus.id}/items"
    uris = [track_uri(world, "Orbit"), track_uri(world, "Dust"), track_uri(world, "Orbit")]
    await write(client, pia, "PUT", path, json={"uris": uris})
    assert await item_names(client, pia, focus.id) == ["Orbit", "Dust", "Orbit"]
    await write(client, pia, "PUT", path, params={"uris": track_uri(world, "Aurora")})
    assert await item_names(client, pia, focus.id) == ["Aurora"]
    await write(client, pia, "PUT", path, json={"uris": []})
    assert await item_names(client, pia, focus.id) == []
    assert (await write(client, pia, "GET", f"/v1/playlists/{focus.id}"))["images"] == [
        {"url": f"https://image-cdn-fa.spotifycdn.com/image/{focus.id}", "height": None, "width": None}
    ]


async def test_every_write_moves_the_snapshot_on(client: httpx2.AsyncClient, pia: dict[str, str], world: World) -> None:
    created = await write(client, pia, "POST", "/v1/me/playlists", 201, json={"name": "Snapshots"})
    path = f"/v1/playlists/{created['id']}"
    aurora = track_uri(world, "Aurora")
    snapshots = [created["snapshot_id"]]
    await write(client, pia, "PUT", path, json={"description": "now with a description"})
    snapshots.append((await write(client, pia, "GET", path))["snapshot_id"])
    for method, status, body in [
        ("POST", 201, {"uris": [aurora, track_uri(world, "Dust")]}),
        ("PUT", 200, {"range_start": 1, "insert_before": 0}),
        ("DELETE", 200, {"items": [{"uri": aurora}]}),
        ("PUT", 200, {"uris": [aurora]}),
    ]:
        snapshots.append((await write(client, pia, method, f"{path}/items", status, json=body))["snapshot_id"])
    assert len(set(snapshots)) == len(snapshots)
    assert (await write(client, pia, "GET", path))["snapshot_id"] == snapshots[-1]


async def test_writing_items_needs_the_scope_of_the_playlists_visibility(
    client: httpx2.AsyncClient, world: World
) -> None:
    roadtrip, focus = world.playlist_by_name("Pia's Road Trip"), world.playlist_by_name("Late Night Focus")
    public_only = await headers_for(client, "playlist-modify-public")
    body = {"uris": [track_uri(world, "Aurora")]}
    await write(client, public_only, "POST", f"/v1/playlists/{roadtrip.id}/items", 201, json=body)
    response = await client.post(f"/v1/playlists/{focus.id}/items", json=body, headers=public_only)
    assert error(response, 403) == "Insufficient client scope"
    read_only = await headers_for(client, "playlist-read-private")
    response = await client.put(f"/v1/playlists/{roadtrip.id}/items", json=body, headers=read_only)
    assert error(response, 403) == "Insufficient client scope"


async def test_the_old_tracks_path_is_forbidden_for_writes(
    client: httpx2.AsyncClient, pia: dict[str, str], world: World
) -> None:
    roadtrip = world.playlist_by_name("Pia's Road Trip")
    response = await client.post(
        f"/v1/playlists/{roadtrip.id}/tracks", json={"uris": [track_uri(world, "Aurora")]}, headers=pia
    )
    assert error(response, 403) == "Forbidden"
    assert len(roadtrip.entries) == 12


@pytest.mark.parametrize(("playlist_id", "status"), [("not-an-id", 400), ("0000000000000000000000", 404)])
async def test_writes_to_a_bad_or_unknown_playlist_id_are_refused(
    client: httpx2.AsyncClient, pia: dict[str, str], playlist_id: str, status: int
) -> None:
    for method, suffix in [("PUT", ""), ("POST", "/items"), ("PUT", "/items"), ("DELETE", "/items")]:
        response = await client.request(method, f"/v1/playlists/{playlist_id}{suffix}", json={}, headers=pia)
        error(response, status)
