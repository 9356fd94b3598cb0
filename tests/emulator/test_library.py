"""The library: saved tracks and albums, followed artists, and ``/me/library`` save, remove and contains.

Built-in data: Pia (premium-user) has eight Liked Songs ("Neon Tide" newest), three saved albums ("Nocturne
Avenue" newest) and follows three artists; the per-type save/follow/contains endpoints are gone (403).
"""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from spotify_mcp.clock import ManualClock
from spotify_mcp.emulator import World
from spotify_mcp.emulator.objects import timestamp
from tests.emulator.flow import bearer, sign_in
from tests.emulator.openapi import assert_conforms
from tests.emulator.test_catalog import assert_album_conforms

pytestmark = pytest.mark.anyio
LIBRARY_SCOPES = (
    "user-library-read user-library-modify user-follow-read user-follow-modify "
    "playlist-read-private playlist-modify-public"
)


async def headers_for(client: httpx2.AsyncClient, scope: str, user: str = "premium-user") -> dict[str, str]:
    return bearer((await sign_in(client, user=user, scope=scope))["access_token"])


@pytest.fixture
async def pia(client: httpx2.AsyncClient) -> dict[str, str]:
    """The Premium user with every library scope."""
    return await headers_for(client, LIBRARY_SCOPES)


async def get(client: httpx2.AsyncClient, headers: dict[str, str], path: str, **params: str | int) -> Any:
    response = await client.get(path, params=params, headers=headers)
    assert response.status_code == 200, response.text
    assert_conforms(response)
    return response.json()


async def contains(client: httpx2.AsyncClient, headers: dict[str, str], *uris: str) -> list[bool]:
    result: list[bool] = await get(client, headers, "/v1/me/library/contains", uris=",".join(uris))
    return result


async def saved_track_names(client: httpx2.AsyncClient, headers: dict[str, str]) -> list[str]:
    page = await get(client, headers, "/v1/me/tracks", limit=50)
    return [item["track"]["name"] for item in page["items"]]


def error(response: httpx2.Response, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"]["status"] == status
    message: str = body["error"]["message"]
    return message


async def test_liked_songs_come_newest_first_with_the_date_saved(
    client: httpx2.AsyncClient, pia: dict[str, str], clock: ManualClock
) -> None:
    page = await get(client, pia, "/v1/me/tracks")
    assert page["total"] == 8
    assert page["limit"] == 20
    assert [item["track"]["name"] for item in page["items"]][:3] == [
        "Neon Tide",
        "Streetlight Serenade",
        "Static Hearts",
    ]
    assert page["items"][0]["added_at"] == timestamp(clock.now() - 24 * 3600)
    dates = [item["added_at"] for item in page["items"]]
    assert dates == sorted(dates, reverse=True)
    assert "item" not in page["items"][0]


async def test_liked_songs_page_and_keep_the_market(client: httpx2.AsyncClient, pia: dict[str, str]) -> None:
    everything = await saved_track_names(client, pia)
    first = await get(client, pia, "/v1/me/tracks", limit=3, market="SE")
    assert first["items"][0]["track"]["is_playable"] is True
    assert "market=SE" in first["next"]
    second = await client.get(first["next"], headers=pia)
    assert_conforms(second)
    assert [item["track"]["name"] for item in second.json()["items"]] == everything[3:6]
    for params in ({"limit": "0"}, {"limit": "51"}, {"offset": "-1"}):
        assert (await client.get("/v1/me/tracks", params=params, headers=pia)).status_code == 400


async def test_saved_albums_are_full_albums_newest_first(client: httpx2.AsyncClient, pia: dict[str, str]) -> None:
    response = await client.get("/v1/me/albums", headers=pia)
    assert response.status_code == 200
    assert_album_conforms(response)
    page = response.json()
    assert [item["album"]["name"] for item in page["items"]] == [
        "Nocturne Avenue",
        "Blue Harmattan",
        "Glass Satellites",
    ]
    assert page["items"][0]["album"]["tracks"]["total"] == 4
    assert page["items"][0]["added_at"] > page["items"][1]["added_at"]


async def test_other_users_have_their_own_library(client: httpx2.AsyncClient) -> None:
    frank = await headers_for(client, LIBRARY_SCOPES, user="free-user")
    assert await saved_track_names(client, frank) == ["Orbit - Acoustic", "Olive Groves"]
    following = await get(client, frank, "/v1/me/following", type="artist")
    assert [a["name"] for a in following["artists"]["items"]] == ["Marta Rossi"]


async def test_podcast_and_audiobook_libraries_are_empty(client: httpx2.AsyncClient) -> None:
    headers = await headers_for(client, "user-library-read user-read-playback-position")
    for kind in ("episodes", "shows", "audiobooks"):
        page = await get(client, headers, f"/v1/me/{kind}")
        assert page["total"] == 0
        assert page["items"] == []


async def test_followed_artists_are_cursor_paged_by_the_last_artist_id(
    client: httpx2.AsyncClient, pia: dict[str, str], world: World
) -> None:
    first = (await get(client, pia, "/v1/me/following", type="artist", limit=2))["artists"]
    assert [a["name"] for a in first["items"]] == ["Kofi Mensah Quartet", "Luna Vega"]
    assert first["total"] == 3
    luna = world.artist_by_name("Luna Vega")
    assert first["cursors"] == {"after": luna.id}
    assert first["next"].endswith(f"/v1/me/following?type=artist&after={luna.id}&limit=2")
    response = await client.get(first["next"], headers=pia)
    assert_conforms(response)
    last = response.json()["artists"]
    assert [a["name"] for a in last["items"]] == ["The Midnight Owls"]
    assert last["next"] is None
    assert last["cursors"] == {}
    assert last["total"] == 3
    assert "followers" not in last["items"][0]


@pytest.mark.parametrize("query", ["", "?type=user", "?type=artist&limit=51", "?type=artist&after=nobody"])
async def test_bad_followed_artist_requests_are_400(
    client: httpx2.AsyncClient, pia: dict[str, str], query: str
) -> None:
    response = await client.get(f"/v1/me/following{query}", headers=pia)
    error(response, 400)
    assert_conforms(response)


async def test_saving_by_uri_adds_to_liked_songs_with_the_current_time(
    client: httpx2.AsyncClient, pia: dict[str, str], world: World, clock: ManualClock
) -> None:
    aurora = world.track_by_name("Polar Night")
    uri = f"spotify:track:{aurora.id}"
    assert await contains(client, pia, uri) == [False]
    clock.advance(90)
    response = await client.put("/v1/me/library", params={"uris": uri}, headers=pia)
    assert response.status_code == 200
    assert response.content == b""
    assert_conforms(response)
    page = await get(client, pia, "/v1/me/tracks", limit=1)
    assert page["items"][0]["track"]["name"] == "Polar Night"
    assert page["items"][0]["added_at"] == timestamp(clock.now())
    assert page["total"] == 9
    assert await contains(client, pia, uri) == [True]


async def test_saving_again_keeps_the_first_date(
    client: httpx2.AsyncClient, pia: dict[str, str], world: World, clock: ManualClock
) -> None:
    neon = f"spotify:track:{world.track_by_name('Neon Tide').id}"
    before = (await get(client, pia, "/v1/me/tracks", limit=1))["items"][0]
    clock.advance(600)
    assert (await client.put("/v1/me/library", params={"uris": neon}, headers=pia)).status_code == 200
    assert (await get(client, pia, "/v1/me/tracks", limit=1))["items"][0] == before


async def test_uris_may_come_in_a_json_body_too(client: httpx2.AsyncClient, pia: dict[str, str], world: World) -> None:
    olive = f"spotify:album:{world.album_by_name('Olive Groves').id}"
    response = await client.put("/v1/me/library", json={"uris": [olive]}, headers=pia)
    assert response.status_code == 200
    albums = await client.get("/v1/me/albums", params={"limit": 1}, headers=pia)
    assert_album_conforms(albums)
    assert albums.json()["items"][0]["album"]["name"] == "Olive Groves"
    response = await client.request("DELETE", "/v1/me/library", json={"uris": [olive]}, headers=pia)
    assert response.status_code == 200
    assert await contains(client, pia, olive) == [False]


async def test_the_query_wins_over_the_body(client: httpx2.AsyncClient, pia: dict[str, str], world: World) -> None:
    in_query = f"spotify:track:{world.track_by_name('Aurora').id}"
    in_body = f"spotify:track:{world.track_by_name('Poolside').id}"
    response = await client.request("DELETE", f"/v1/me/library?uris={in_query}", json={"uris": [in_body]}, headers=pia)
    assert response.status_code == 200
    assert await contains(client, pia, in_query, in_body) == [False, False]
    response = await client.put(f"/v1/me/library?uris={in_query}", json={"uris": [in_body]}, headers=pia)
    assert response.status_code == 200
    assert await contains(client, pia, in_query, in_body) == [True, False]


async def test_removing_takes_items_out_and_ignores_what_is_not_saved(
    client: httpx2.AsyncClient, pia: dict[str, str], world: World
) -> None:
    neon = f"spotify:track:{world.track_by_name('Neon Tide').id}"
    never = f"spotify:track:{world.track_by_name('Poolside').id}"
    response = await client.delete("/v1/me/library", params={"uris": f"{neon},{never}"}, headers=pia)
    assert response.status_code == 200
    assert_conforms(response)
    names = await saved_track_names(client, pia)
    assert "Neon Tide" not in names
    assert len(names) == 7


async def test_contains_answers_one_boolean_per_uri_of_any_kind(
    client: httpx2.AsyncClient, pia: dict[str, str], world: World
) -> None:
    franks = world.playlist_by_name("Frank's Favourites")
    uris = [
        f"spotify:track:{world.track_by_name('Neon Tide').id}",
        f"spotify:album:{world.album_by_name('Orbit').id}",
        f"spotify:artist:{world.artist_by_name('Luna Vega').id}",
        f"spotify:artist:{world.artist_by_name('DJ Polaris').id}",
        f"spotify:playlist:{world.playlist_by_name('Jazz Classics').id}",
        f"spotify:playlist:{franks.id}",
        "spotify:user:free-user",
        "spotify:episode:0000000000000000000000",
    ]
    assert await contains(client, pia, *uris) == [True, False, True, False, True, False, False, False]


async def test_following_artists_and_users_by_uri(
    client: httpx2.AsyncClient, pia: dict[str, str], world: World
) -> None:
    marta = world.artist_by_name("Marta Rossi")
    uris = f"spotify:artist:{marta.id},spotify:user:free-user"
    assert (await client.put("/v1/me/library", params={"uris": uris}, headers=pia)).status_code == 200
    assert await contains(client, pia, *uris.split(",")) == [True, True]
    following = await get(client, pia, "/v1/me/following", type="artist")
    assert [a["name"] for a in following["artists"]["items"]] == [
        "Kofi Mensah Quartet",
        "Luna Vega",
        "Marta Rossi",
        "The Midnight Owls",
    ]
    assert (await client.delete("/v1/me/library", params={"uris": uris}, headers=pia)).status_code == 200
    assert await contains(client, pia, *uris.split(",")) == [False, False]


async def test_saving_a_playlist_follows_it(client: httpx2.AsyncClient, world: World) -> None:
    headers = await headers_for(client, "playlist-modify-public playlist-read-private playlist-read-collaborative")
    franks = world.playlist_by_name("Frank's Favourites")
    uri = f"spotify:playlist:{franks.id}"
    assert (await client.put("/v1/me/library", params={"uris": uri}, headers=headers)).status_code == 200
    mine = await get(client, headers, "/v1/me/playlists")
    assert mine["items"][0]["name"] == "Frank's Favourites"
    assert mine["total"] == 5
    assert (await get(client, headers, f"/v1/playlists/{franks.id}"))["followers"]["total"] == 1
    assert await contains(client, headers, uri) == [True]
    assert (await client.delete("/v1/me/library", params={"uris": uri}, headers=headers)).status_code == 200
    mine = await get(client, headers, "/v1/me/playlists")
    assert "Frank's Favourites" not in [p["name"] for p in mine["items"]]
    assert (await get(client, headers, f"/v1/playlists/{franks.id}"))["followers"]["total"] == 0


@pytest.mark.parametrize(
    ("scope", "kind", "allowed"),
    [
        ("user-library-modify", "track", True),
        ("user-library-modify", "artist", False),
        ("user-library-modify", "playlist", False),
        ("user-follow-modify", "artist", True),
        ("user-follow-modify", "user", True),
        ("user-follow-modify", "album", False),
        ("playlist-modify-public", "playlist", True),
        ("playlist-modify-private", "playlist", False),
    ],
)
async def test_each_kind_of_uri_needs_its_own_modify_scope(
    client: httpx2.AsyncClient, world: World, scope: str, kind: str, allowed: bool
) -> None:
    ids = {
        "track": world.track_by_name("Aurora").id,
        "album": world.album_by_name("Orbit").id,
        "artist": world.artist_by_name("Static Bloom").id,
        "user": "free-user",
        "playlist": world.playlist_by_name("Frank's Favourites").id,
    }
    headers = await headers_for(client, scope)
    for method in ("PUT", "DELETE"):
        response = await client.request(
            method, "/v1/me/library", params={"uris": f"spotify:{kind}:{ids[kind]}"}, headers=headers
        )
        if allowed:
            assert response.status_code == 200, response.text
        else:
            assert error(response, 403) == "Insufficient client scope"
            assert_conforms(response)


@pytest.mark.parametrize(
    ("scope", "kind", "allowed"),
    [
        ("user-library-read", "track", True),
        ("user-library-read", "artist", False),
        ("user-follow-read", "artist", True),
        ("user-follow-read", "track", False),
        ("playlist-read-private", "playlist", True),
        ("user-library-read", "playlist", False),
    ],
)
async def test_each_kind_of_uri_needs_its_own_read_scope_to_check(
    client: httpx2.AsyncClient, world: World, scope: str, kind: str, allowed: bool
) -> None:
    ids = {
        "track": world.track_by_name("Aurora").id,
        "artist": world.artist_by_name("Luna Vega").id,
        "playlist": world.playlist_by_name("Jazz Classics").id,
    }
    headers = await headers_for(client, scope)
    response = await client.get(
        "/v1/me/library/contains", params={"uris": f"spotify:{kind}:{ids[kind]}"}, headers=headers
    )
    assert_conforms(response)
    if allowed:
        assert response.status_code == 200
    else:
        assert error(response, 403) == "Insufficient client scope"


@pytest.mark.parametrize(
    ("path", "scope"),
    [
        ("/v1/me/tracks", "user-library-modify"),
        ("/v1/me/albums", "user-follow-read"),
        ("/v1/me/following?type=artist", "user-library-read"),
    ],
)
async def test_reading_the_library_needs_the_read_scope(client: httpx2.AsyncClient, path: str, scope: str) -> None:
    response = await client.get(path, headers=await headers_for(client, scope))
    assert error(response, 403) == "Insufficient client scope"
    assert_conforms(response)


@pytest.mark.parametrize(
    ("uris", "status", "message"),
    [
        (None, 400, "Missing required parameter: uris"),
        ("", 400, "Missing required parameter: uris"),
        ("spotify:track", 400, "Invalid Spotify URI: spotify:track"),
        ("https://open.spotify.com/track/x", 400, "Invalid Spotify URI: https://open.spotify.com/track/x"),
        ("spotify:chapter:0000000000000000000000", 400, "Unsupported URI type: chapter"),
        ("spotify:track:not-base62", 400, "Invalid base62 id"),
        ("spotify:track:0000000000000000000000", 404, "Resource not found"),
        ("spotify:show:0000000000000000000000", 404, "Resource not found"),
        ("spotify:user:nobody", 404, "Resource not found"),
    ],
)
async def test_bad_uris_are_refused(
    client: httpx2.AsyncClient, pia: dict[str, str], uris: str | None, status: int, message: str
) -> None:
    params = {} if uris is None else {"uris": uris}
    response = await client.put("/v1/me/library", params=params, headers=pia)
    assert error(response, status) == message


async def test_at_most_forty_uris_at_once(client: httpx2.AsyncClient, pia: dict[str, str], world: World) -> None:
    uris = [f"spotify:track:{t}" for t in list(world.tracks)[:21] * 2]
    response = await client.put("/v1/me/library", params={"uris": ",".join(uris[:40])}, headers=pia)
    assert response.status_code == 200
    for method in ("PUT", "DELETE", "GET"):
        path = "/v1/me/library/contains" if method == "GET" else "/v1/me/library"
        response = await client.request(method, path, params={"uris": ",".join(uris)}, headers=pia)
        assert error(response, 400) == "Too many uris requested. Maximum: 40"


async def test_a_bad_request_changes_nothing(client: httpx2.AsyncClient, pia: dict[str, str], world: World) -> None:
    good = f"spotify:track:{world.track_by_name('Poolside').id}"
    response = await client.put(
        "/v1/me/library", params={"uris": f"{good},spotify:track:0000000000000000000000"}, headers=pia
    )
    assert response.status_code == 404
    assert await contains(client, pia, good) == [False]


async def test_someone_elses_private_playlist_cannot_be_followed(
    client: httpx2.AsyncClient, pia: dict[str, str], world: World
) -> None:
    stash = world.playlist_by_name("Sam's Secret Stash")
    response = await client.put("/v1/me/library", params={"uris": f"spotify:playlist:{stash.id}"}, headers=pia)
    assert error(response, 404) == "Resource not found"
    assert_conforms(response)


async def test_a_malformed_json_body_is_400(client: httpx2.AsyncClient, pia: dict[str, str]) -> None:
    response = await client.put("/v1/me/library", content=b"{uris:", headers=pia)
    assert error(response, 400) == "Error parsing json"
    response = await client.put("/v1/me/library", json={"uris": "spotify:track:x"}, headers=pia)
    assert error(response, 400) == "Invalid uris"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", "/v1/me/tracks?ids={track}"),
        ("DELETE", "/v1/me/tracks?ids={track}"),
        ("PUT", "/v1/me/albums?ids={album}"),
        ("DELETE", "/v1/me/albums?ids={album}"),
        ("PUT", "/v1/me/episodes?ids={track}"),
        ("PUT", "/v1/me/shows?ids={album}"),
        ("PUT", "/v1/me/audiobooks?ids={album}"),
        ("PUT", "/v1/me/following?type=artist&ids={artist}"),
        ("DELETE", "/v1/me/following?type=artist&ids={artist}"),
        ("PUT", "/v1/playlists/{playlist}/followers"),
        ("DELETE", "/v1/playlists/{playlist}/followers"),
        ("GET", "/v1/me/tracks/contains?ids={track}"),
        ("GET", "/v1/me/albums/contains?ids={album}"),
        ("GET", "/v1/me/episodes/contains?ids={track}"),
        ("GET", "/v1/me/shows/contains?ids={album}"),
        ("GET", "/v1/me/audiobooks/contains?ids={album}"),
        ("GET", "/v1/me/following/contains?type=artist&ids={artist}"),
        ("GET", "/v1/playlists/{playlist}/followers/contains?ids=premium-user"),
    ],
)
async def test_the_per_type_library_endpoints_are_forbidden_in_development_mode(
    client: httpx2.AsyncClient, pia: dict[str, str], world: World, method: str, path: str
) -> None:
    ids = {
        "track": world.track_by_name("Aurora").id,
        "album": world.album_by_name("Orbit").id,
        "artist": world.artist_by_name("Marta Rossi").id,
        "playlist": world.playlist_by_name("Frank's Favourites").id,
    }
    response = await client.request(method, path.format(**ids), headers=pia)
    assert response.json() == {"error": {"status": 403, "message": "Forbidden"}}
    assert response.status_code == 403
    assert_conforms(response)
    assert await contains(client, pia, f"spotify:playlist:{ids['playlist']}") == [False]


async def test_a_user_not_on_the_allow_list_cannot_use_the_library(client: httpx2.AsyncClient, world: World) -> None:
    headers = await headers_for(client, LIBRARY_SCOPES, user="unlisted-user")
    uri = f"spotify:track:{world.track_by_name('Aurora').id}"
    for method, path in [("GET", "/v1/me/tracks"), ("PUT", "/v1/me/library"), ("GET", "/v1/me/library/contains")]:
        response = await client.request(method, path, params={"uris": uri}, headers=headers)
        assert response.status_code == 403
