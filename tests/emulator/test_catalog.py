"""Catalog reads one object at a time: tracks, albums and their tracks, artists and their albums.

Batch reads, top tracks, related artists and new releases are gone for development-mode apps (403).
"""

from __future__ import annotations

import copy
import functools
from typing import Any

import httpx2
import pytest
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from spotify_mcp.emulator import World
from tests.emulator import openapi
from tests.emulator.flow import bearer, sign_in
from tests.emulator.openapi import assert_conforms

pytestmark = pytest.mark.anyio
UNKNOWN_ID = "0000000000000000000000"


@functools.cache
def _album_validator(pointer: str) -> Any:
    spec = copy.deepcopy(openapi.load_spec())
    album = spec["components"]["schemas"]["AlbumObject"]
    members = [m.get("properties", {}) for m in album["allOf"]]
    deprecated = {name for props in members for name, prop in props.items() if prop.get("deprecated")}
    album["required"] = [name for name in album["required"] if name not in deprecated]
    document = openapi._Translator(spec, strict=True).document()
    registry: Registry[Any] = Registry().with_resource(openapi.SPEC_URI, DRAFT202012.create_resource(document))
    return openapi.Validator(
        {"$ref": openapi.SPEC_URI + pointer}, registry=registry, format_checker=openapi._format_checker()
    )


def assert_album_conforms(response: httpx2.Response) -> None:
    """``assert_conforms`` for 2xx bodies holding AlbumObjects.

    AlbumObject lists ``genres``, ``label`` and ``popularity`` in a top-level ``required`` beside its ``allOf``,
    where the helper's strict mode does not drop deprecated fields; this drops them there too.
    """
    request = response.request
    pointer = openapi.schema_pointer(request.method, request.url.path, response.status_code)
    assert pointer is not None
    errors = [
        f"/{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}"
        for e in _album_validator(pointer).iter_errors(response.json())
    ]
    assert not errors, f"{request.method} {request.url.path} breaks the OpenAPI schema:\n" + "\n".join(errors)


async def get(client: httpx2.AsyncClient, headers: dict[str, str], path: str, **params: str | int) -> Any:
    response = await client.get(path, params=params, headers=headers)
    assert response.status_code == 200, response.text
    assert_conforms(response)
    return response.json()


def names(items: list[dict[str, Any]]) -> list[str]:
    return [item["name"] for item in items]


async def test_a_track_is_a_full_track_object_without_the_removed_fields(
    client: httpx2.AsyncClient, premium: dict[str, str], world: World
) -> None:
    neon = world.track_by_name("Neon Tide")
    body = await get(client, premium, f"/v1/tracks/{neon.id}")
    assert body["name"] == "Neon Tide"
    assert body["uri"] == f"spotify:track:{neon.id}"
    assert body["album"]["name"] == "Glass Satellites"
    assert names(body["artists"]) == ["Luna Vega", "DJ Polaris"]
    assert body["external_ids"] == {"isrc": neon.isrc}
    assert "popularity" not in body
    assert "is_playable" not in body


async def test_a_market_marks_the_track_playable(
    client: httpx2.AsyncClient, premium: dict[str, str], world: World
) -> None:
    body = await get(client, premium, f"/v1/tracks/{world.track_by_name('Aurora').id}", market="DE")
    assert body["is_playable"] is True
    response = await client.get(f"/v1/tracks/{world.track_by_name('Aurora').id}?market=germany", headers=premium)
    assert response.status_code == 400


async def test_an_album_comes_with_its_tracks_copyrights_and_upc(
    client: httpx2.AsyncClient, premium: dict[str, str], world: World
) -> None:
    album = world.album_by_name("Glass Satellites")
    response = await client.get(f"/v1/albums/{album.id}", headers=premium)
    assert response.status_code == 200
    assert_album_conforms(response)
    body = response.json()
    assert body["album_type"] == "album"
    assert body["release_date"] == "2021-03-12"
    assert body["total_tracks"] == 5
    assert body["external_ids"] == {"upc": album.upc}
    assert [c["type"] for c in body["copyrights"]] == ["C", "P"]
    assert body["tracks"]["limit"] == 50
    assert body["tracks"]["total"] == 5
    assert names(body["tracks"]["items"]) == [
        "Glass Satellites",
        "Neon Tide",
        "Zero Gravity Love",
        "Signal Lost",
        "Afterglow",
    ]
    assert "album" not in body["tracks"]["items"][0]
    assert not {"label", "popularity", "genres", "available_markets"} & set(body)


async def test_album_tracks_page_by_offset_and_keep_the_market(
    client: httpx2.AsyncClient, premium: dict[str, str], world: World
) -> None:
    album = world.album_by_name("Glass Satellites")
    page = await get(client, premium, f"/v1/albums/{album.id}/tracks", limit=2, offset=1, market="ES")
    assert names(page["items"]) == ["Neon Tide", "Zero Gravity Love"]
    assert page["items"][0]["track_number"] == 2
    assert page["items"][0]["is_playable"] is True
    assert page["total"] == 5
    assert "market=ES" in page["next"]
    rest = await client.get(page["next"], headers=premium)
    assert_conforms(rest)
    assert names(rest.json()["items"]) == ["Signal Lost", "Afterglow"]
    assert rest.json()["next"] is None


async def test_album_tracks_default_to_twenty_per_page(
    client: httpx2.AsyncClient, premium: dict[str, str], world: World
) -> None:
    page = await get(client, premium, f"/v1/albums/{world.album_by_name('Nocturne Avenue').id}/tracks")
    assert page["limit"] == 20
    assert page["previous"] is None


async def test_an_artist_has_no_followers_popularity_or_genres(
    client: httpx2.AsyncClient, premium: dict[str, str], world: World
) -> None:
    luna = world.artist_by_name("Luna Vega")
    body = await get(client, premium, f"/v1/artists/{luna.id}")
    assert body["name"] == "Luna Vega"
    assert body["type"] == "artist"
    assert len(body["images"]) == 3
    assert not {"followers", "popularity", "genres"} & set(body)


async def test_an_artists_albums_are_grouped_then_newest_first(
    client: httpx2.AsyncClient, premium: dict[str, str], world: World
) -> None:
    owls = world.artist_by_name("The Midnight Owls")
    page = await get(client, premium, f"/v1/artists/{owls.id}/albums")
    assert names(page["items"]) == ["Feathers & Static", "Nocturne Avenue", "Dust & Reverb"]
    assert page["limit"] == 5
    assert "album_group" not in page["items"][0]
    polaris = world.artist_by_name("DJ Polaris")
    page = await get(client, premium, f"/v1/artists/{polaris.id}/albums", market="US")
    assert names(page["items"]) == ["Northern Lights EP", "Summer Sessions", "Glass Satellites"]


async def test_include_groups_filters_an_artists_albums(
    client: httpx2.AsyncClient, premium: dict[str, str], world: World
) -> None:
    polaris = world.artist_by_name("DJ Polaris")
    page = await get(client, premium, f"/v1/artists/{polaris.id}/albums", include_groups="appears_on")
    assert names(page["items"]) == ["Glass Satellites"]
    page = await get(client, premium, f"/v1/artists/{polaris.id}/albums", include_groups="single,compilation")
    assert names(page["items"]) == ["Northern Lights EP", "Summer Sessions"]


async def test_an_artists_albums_page_at_most_ten_at_a_time(
    client: httpx2.AsyncClient, premium: dict[str, str], world: World
) -> None:
    luna = world.artist_by_name("Luna Vega")
    first = await get(client, premium, f"/v1/artists/{luna.id}/albums", limit=1, include_groups="album,single")
    assert names(first["items"]) == ["Glass Satellites"]
    assert "include_groups=album%2Csingle" in first["next"]
    second = await client.get(first["next"], headers=premium)
    assert names(second.json()["items"]) == ["Orbit"]
    for params in ({"limit": "11"}, {"limit": "0"}, {"include_groups": "bootlegs"}, {"offset": "-1"}):
        response = await client.get(f"/v1/artists/{luna.id}/albums", params=params, headers=premium)
        assert response.status_code == 400, params
        assert_conforms(response)


@pytest.mark.parametrize(
    "path", ["/v1/tracks/{}", "/v1/albums/{}", "/v1/albums/{}/tracks", "/v1/artists/{}", "/v1/artists/{}/albums"]
)
async def test_a_malformed_id_is_400_and_an_unknown_one_404(
    client: httpx2.AsyncClient, premium: dict[str, str], path: str
) -> None:
    response = await client.get(path.format("not-a-base62-id"), headers=premium)
    assert response.status_code == 400
    assert response.json() == {"error": {"status": 400, "message": "Invalid base62 id"}}
    assert_conforms(response)
    response = await client.get(path.format(UNKNOWN_ID), headers=premium)
    assert response.status_code == 404
    assert_conforms(response)


async def test_the_catalog_needs_no_scope_but_a_listed_user(client: httpx2.AsyncClient, world: World) -> None:
    track_id = world.track_by_name("Aurora").id
    no_scopes = bearer((await sign_in(client, scope=""))["access_token"])
    assert (await client.get(f"/v1/tracks/{track_id}", headers=no_scopes)).status_code == 200
    unlisted = bearer((await sign_in(client, user="unlisted-user", scope=""))["access_token"])
    assert (await client.get(f"/v1/tracks/{track_id}", headers=unlisted)).status_code == 403
    assert (await client.get(f"/v1/tracks/{track_id}")).status_code == 401


async def test_batch_reads_top_tracks_related_artists_and_new_releases_are_forbidden(
    client: httpx2.AsyncClient, premium: dict[str, str], world: World
) -> None:
    track_id = world.track_by_name("Aurora").id
    artist_id = world.artist_by_name("Luna Vega").id
    album_id = world.album_by_name("Orbit").id
    for path in [
        f"/v1/tracks?ids={track_id}",
        f"/v1/albums?ids={album_id}",
        f"/v1/artists?ids={artist_id}",
        f"/v1/artists/{artist_id}/top-tracks?market=US",
        f"/v1/artists/{artist_id}/related-artists",
        "/v1/browse/new-releases",
    ]:
        response = await client.get(path, headers=premium)
        assert response.status_code == 403, path
        assert response.json() == {"error": {"status": 403, "message": "Forbidden"}}
        assert_conforms(response)
