"""GET /v1/search: the 2026 limits, field filters, tag:new on the emulator clock, and Paging objects."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest

from spotify_mcp.clock import ManualClock
from spotify_mcp.emulator import World
from tests.emulator.flow import bearer, sign_in
from tests.emulator.openapi import assert_conforms

pytestmark = pytest.mark.anyio


async def search(client: httpx2.AsyncClient, headers: dict[str, str], **params: str | int) -> dict[str, Any]:
    response = await client.get("/v1/search", params=params, headers=headers)
    assert response.status_code == 200, response.text
    assert_conforms(response)
    body: dict[str, Any] = response.json()
    return body


def names(page: dict[str, Any]) -> list[str]:
    return [item["name"] for item in page["items"]]


async def test_the_default_page_has_five_items_per_type(client: httpx2.AsyncClient, premium: dict[str, str]) -> None:
    body = await search(client, premium, q="a", type="track,album")
    assert set(body) == {"tracks", "albums"}
    assert body["tracks"]["limit"] == 5
    assert len(body["tracks"]["items"]) == 5
    assert body["tracks"]["total"] > 5


@pytest.mark.parametrize("limit", ["11", "50", "-1", "ten"])
async def test_a_limit_above_ten_is_refused(client: httpx2.AsyncClient, premium: dict[str, str], limit: str) -> None:
    response = await client.get("/v1/search", params={"q": "a", "type": "track", "limit": limit}, headers=premium)
    assert response.status_code == 400
    assert response.json() == {"error": {"status": 400, "message": "Invalid limit"}}
    assert_conforms(response)


async def test_a_limit_of_zero_returns_only_the_total(client: httpx2.AsyncClient, premium: dict[str, str]) -> None:
    page = (await search(client, premium, q="a", type="track", limit=0))["tracks"]
    assert page["items"] == []
    assert page["total"] > 0
    assert page["next"] is None


@pytest.mark.parametrize(("offset", "limit"), [("1001", "1"), ("995", "10"), ("x", "1"), ("-5", "1")])
async def test_offset_and_limit_may_not_reach_past_a_thousand(
    client: httpx2.AsyncClient, premium: dict[str, str], offset: str, limit: str
) -> None:
    params = {"q": "a", "type": "track", "limit": limit, "offset": offset}
    response = await client.get("/v1/search", params=params, headers=premium)
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "Invalid offset"


async def test_a_page_at_the_edge_of_a_thousand_is_fine(client: httpx2.AsyncClient, premium: dict[str, str]) -> None:
    page = (await search(client, premium, q="a", type="track", limit=10, offset=990))["tracks"]
    assert page["items"] == []
    assert page["next"] is None
    assert page["previous"] is not None


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"type": "track"}, "No search query"),
        ({"q": "   ", "type": "track"}, "No search query"),
        ({"q": "luna"}, "Missing parameter type"),
        ({"q": "luna", "type": "track,song"}, "Bad search type field song"),
        ({"q": "luna", "type": "track", "market": "germany"}, "Invalid market code"),
    ],
)
async def test_bad_search_requests_are_400(
    client: httpx2.AsyncClient, premium: dict[str, str], params: dict[str, str], message: str
) -> None:
    response = await client.get("/v1/search", params=params, headers=premium)
    assert response.status_code == 400
    assert response.json() == {"error": {"status": 400, "message": message}}


async def test_paging_links_walk_the_results(client: httpx2.AsyncClient, premium: dict[str, str]) -> None:
    first = (await search(client, premium, q="a", type="track", limit=3))["tracks"]
    assert first["offset"] == 0
    assert first["previous"] is None
    assert urlsplit(first["href"]).path == "/v1/search"
    assert parse_qs(urlsplit(first["href"]).query) == {
        "query": ["a"],
        "type": ["track"],
        "offset": ["0"],
        "limit": ["3"],
    }
    seen: list[str] = [item["id"] for item in first["items"]]
    link = first["next"]
    while link:
        response = await client.get(link, headers=premium)
        assert_conforms(response)
        page = response.json()["tracks"]
        assert page["total"] == first["total"]
        assert page["previous"] is not None
        seen += [item["id"] for item in page["items"]]
        link = page["next"]
    assert len(seen) == len(set(seen)) == first["total"]


async def test_a_previous_link_never_goes_below_zero(client: httpx2.AsyncClient, premium: dict[str, str]) -> None:
    page = (await search(client, premium, q="a", type="track", limit=5, offset=2))["tracks"]
    assert parse_qs(urlsplit(page["previous"]).query)["offset"] == ["0"]


async def test_every_type_gets_its_own_paging_object(client: httpx2.AsyncClient, premium: dict[str, str]) -> None:
    body = await search(client, premium, q="luna", type="track,artist,album,playlist,show,episode,audiobook")
    assert set(body) == {"tracks", "artists", "albums", "playlists", "shows", "episodes", "audiobooks"}
    assert parse_qs(urlsplit(body["artists"]["href"]).query)["type"] == ["artist"]
    assert names(body["artists"]) == ["Luna Vega"]
    assert body["shows"]["items"] == []
    assert body["shows"]["total"] == 0


async def test_free_text_matches_names_artists_and_albums(client: httpx2.AsyncClient, premium: dict[str, str]) -> None:
    tracks = (await search(client, premium, q="midnight owls", type="track", limit=10))["tracks"]
    assert tracks["total"] == 8
    assert all(any(a["name"] == "The Midnight Owls" for a in t["artists"]) for t in tracks["items"])


async def test_an_exact_name_match_ranks_first(client: httpx2.AsyncClient, premium: dict[str, str]) -> None:
    tracks = (await search(client, premium, q="orbit", type="track"))["tracks"]
    assert names(tracks) == ["Orbit", "Orbit - Acoustic"]


async def test_the_artist_filter_takes_quoted_names(client: httpx2.AsyncClient, premium: dict[str, str]) -> None:
    tracks = (await search(client, premium, q='artist:"DJ Polaris"', type="track", limit=10))["tracks"]
    assert tracks["total"] == 6
    assert "Neon Tide" in names(tracks)


async def test_track_and_album_filters_narrow_tracks(client: httpx2.AsyncClient, premium: dict[str, str]) -> None:
    body = await search(client, premium, q='track:feathers album:"Feathers & Static"', type="track")
    assert names(body["tracks"]) == ["Feathers"]


async def test_the_year_filter_takes_years_and_ranges(client: httpx2.AsyncClient, premium: dict[str, str]) -> None:
    albums = (await search(client, premium, q="year:1990-2010", type="album"))["albums"]
    assert sorted(names(albums)) == ["Blue Harmattan", "Olive Groves"]
    artists = (await search(client, premium, q="year:1998", type="artist"))["artists"]
    assert names(artists) == ["Kofi Mensah Quartet"]


async def test_a_filter_that_does_not_apply_to_a_type_empties_it(
    client: httpx2.AsyncClient, premium: dict[str, str]
) -> None:
    body = await search(client, premium, q="track:orbit", type="album,track,playlist")
    assert body["albums"]["total"] == 0
    assert body["playlists"]["total"] == 0
    assert body["tracks"]["total"] == 2


async def test_tag_new_finds_albums_of_the_last_two_weeks(
    client: httpx2.AsyncClient, premium: dict[str, str], clock: ManualClock
) -> None:
    albums = (await search(client, premium, q="tag:new", type="album"))["albums"]
    assert sorted(names(albums)) == ["Feathers & Static", "Orbit"]
    clock.advance(6 * 24 * 3600)
    premium = bearer((await sign_in(client))["access_token"])
    albums = (await search(client, premium, q="tag:new", type="album"))["albums"]
    assert names(albums) == ["Feathers & Static"]
    clock.advance(9 * 24 * 3600)
    premium = bearer((await sign_in(client))["access_token"])
    assert (await search(client, premium, q="tag:new", type="album"))["albums"]["total"] == 0


async def test_tag_new_combines_with_an_artist(client: httpx2.AsyncClient, premium: dict[str, str]) -> None:
    albums = (await search(client, premium, q="tag:new artist:luna", type="album"))["albums"]
    assert names(albums) == ["Orbit"]


def test_new_releases_are_dated_relative_to_the_clock(world: World, clock: ManualClock) -> None:
    today = datetime.fromtimestamp(clock.now(), UTC).date()
    assert world.album_by_name("Orbit").release_date == today - timedelta(days=10)


async def test_isrc_upc_genre_and_hipster_filters_work(
    client: httpx2.AsyncClient, premium: dict[str, str], world: World
) -> None:
    track = world.track_by_name("Aurora")
    assert names((await search(client, premium, q=f"isrc:{track.isrc}", type="track"))["tracks"]) == ["Aurora"]
    album = world.album_by_name("Olive Groves")
    assert names((await search(client, premium, q=f"upc:{album.upc}", type="album"))["albums"]) == ["Olive Groves"]
    assert names((await search(client, premium, q="genre:jazz", type="artist"))["artists"]) == ["Kofi Mensah Quartet"]
    assert names((await search(client, premium, q="tag:hipster", type="album"))["albums"]) == ["Dust & Reverb"]


async def test_only_public_playlists_are_found(client: httpx2.AsyncClient, premium: dict[str, str]) -> None:
    async def found(q: str) -> list[str]:
        return names((await search(client, premium, q=q, type="playlist", limit=10))["playlists"])

    assert await found("jazz") == ["Jazz Classics"]
    assert await found("windows down") == ["Pia's Road Trip"]
    assert await found("stash") == []
    assert await found("focus") == []
    assert await found("party") == []


async def test_a_market_marks_tracks_playable(client: httpx2.AsyncClient, premium: dict[str, str]) -> None:
    body = await search(client, premium, q="orbit", type="track", market="SE")
    assert all(t["is_playable"] for t in body["tracks"]["items"])
    assert "market=SE" in body["tracks"]["href"]
    body = await search(client, premium, q="orbit", type="track")
    assert all("is_playable" not in t for t in body["tracks"]["items"])


async def test_nothing_found_is_an_empty_page(client: httpx2.AsyncClient, premium: dict[str, str]) -> None:
    page = (await search(client, premium, q="zzzzzz", type="track"))["tracks"]
    assert (page["items"], page["total"], page["next"], page["previous"]) == ([], 0, None, None)


async def test_accents_and_case_do_not_matter(client: httpx2.AsyncClient, premium: dict[str, str]) -> None:
    assert names((await search(client, premium, q="AURÓRA", type="track"))["tracks"]) == ["Aurora"]


async def test_search_results_use_stable_spotify_ids(client: httpx2.AsyncClient, premium: dict[str, str]) -> None:
    track = (await search(client, premium, q="Harmattan Blues", type="track"))["tracks"]["items"][0]
    assert len(track["id"]) == 22
    assert track["id"].isalnum()
    assert track["uri"] == f"spotify:track:{track['id']}"
    assert track["external_urls"]["spotify"] == f"https://open.spotify.com/track/{track['id']}"
    assert track["album"]["images"][0]["width"] == 640
    assert track["duration_ms"] > 300_000
