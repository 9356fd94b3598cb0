"""The OpenAPI conformance helper itself: it must catch what it claims to catch."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import httpx2
import pytest

from spotify_mcp.emulator import World
from tests.emulator import openapi
from tests.emulator.openapi import find_operation, load_spec, validate_body


def artist(**extra: Any) -> dict[str, Any]:
    return {
        "external_urls": {"spotify": "https://open.spotify.com/artist/x"},
        "href": "https://api.spotify.com/v1/artists/x",
        "id": "x",
        "images": [{"url": "https://i.scdn.co/image/x", "height": None, "width": None}],
        "name": "X",
        "type": "artist",
        "uri": "spotify:artist:x",
        **extra,
    }


def page(items: list[Any], **extra: Any) -> dict[str, Any]:
    return {
        "href": "h",
        "items": items,
        "limit": 20,
        "next": None,
        "offset": 0,
        "previous": None,
        "total": len(items),
        **extra,
    }


def test_the_spec_is_the_2026_description() -> None:
    spec = load_spec()
    assert spec["openapi"].startswith("3.0")
    assert "/playlists/{playlist_id}/items" in spec["paths"]


def test_a_missing_spec_fails_loudly(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SPOTIFY_OPENAPI", str(tmp_path / "absent.yml"))
    openapi.load_spec.cache_clear()
    try:
        with pytest.raises(FileNotFoundError, match="SPOTIFY_OPENAPI"):
            openapi.load_spec()
    finally:
        monkeypatch.delenv("SPOTIFY_OPENAPI")
        openapi.load_spec.cache_clear()


def test_literal_paths_win_over_templates() -> None:
    assert find_operation("GET", "/v1/me/top/tracks")[0] == "/me/top/tracks"
    assert find_operation("GET", "/v1/playlists/abc/items")[0] == "/playlists/{playlist_id}/items"
    with pytest.raises(AssertionError, match="not an operation"):
        find_operation("GET", "/v1/nowhere")


def test_a_valid_body_passes() -> None:
    validate_body("GET", "/v1/me/top/artists", 200, page([artist()]))


def test_an_undeclared_field_is_caught_even_inside_allof() -> None:
    with pytest.raises(AssertionError, match="smart_shuffle"):
        validate_body("GET", "/v1/me/top/artists", 200, page([artist()], smart_shuffle=False))
    with pytest.raises(AssertionError, match="colour"):
        validate_body("GET", "/v1/me/top/artists", 200, page([artist(colour="red")]))


def test_a_field_removed_in_dev_mode_is_caught() -> None:
    with pytest.raises(AssertionError, match="popularity"):
        validate_body("GET", "/v1/me/top/artists", 200, page([artist(popularity=50)]))


def test_a_field_removed_in_dev_mode_is_allowed_when_not_strict() -> None:
    validate_body("GET", "/v1/me/top/artists", 200, page([artist(popularity=50)]), strict=False)


def test_wrong_types_and_missing_required_fields_are_caught() -> None:
    body = page([artist()])
    del body["total"]
    with pytest.raises(AssertionError, match="total"):
        validate_body("GET", "/v1/me/top/artists", 200, body)
    with pytest.raises(AssertionError, match="'1' is not of type 'integer'"):
        validate_body("GET", "/v1/me/top/artists", 200, page([artist()], limit="1"))


def test_nullable_fields_accept_null() -> None:
    device = {"id": None, "is_active": False, "name": "n", "type": "Speaker", "volume_percent": None}
    validate_body("GET", "/v1/me/player/devices", 200, {"devices": [device]})
    with pytest.raises(AssertionError):
        validate_body("GET", "/v1/me/player/devices", 200, {"devices": [{**device, "name": None}]})


def test_date_times_are_checked() -> None:
    body = {"href": "h", "limit": 1, "next": None, "cursors": None, "items": [{"played_at": "yesterday"}]}
    with pytest.raises(AssertionError, match="date-time"):
        validate_body("GET", "/v1/me/player/recently-played", 200, body)


def test_a_204_must_have_no_body() -> None:
    validate_body("GET", "/v1/me/player", 204, None)
    with pytest.raises(AssertionError):
        validate_body("GET", "/v1/me/player", 204, {"is_playing": False})


def test_undocumented_errors_use_the_shared_error_responses() -> None:
    validate_body("GET", "/v1/search", 400, {"error": {"status": 400, "message": "No search query"}})
    with pytest.raises(AssertionError, match="message"):
        validate_body("GET", "/v1/search", 400, {"error": {"status": 400}})
    with pytest.raises(AssertionError, match="status 418"):
        validate_body("GET", "/v1/search", 418, {})


@pytest.mark.anyio
async def test_strictness_reaches_deep_into_emulator_responses(
    client: httpx2.AsyncClient, premium: dict[str, str], world: World
) -> None:
    roadtrip = world.playlist_by_name("Pia's Road Trip")
    path = f"/v1/playlists/{roadtrip.id}/items"
    body = (await client.get(path, headers=premium)).json()
    validate_body("GET", path, 200, body)
    renamed = copy.deepcopy(body)
    renamed["items"][0]["track"] = renamed["items"][0]["item"]
    with pytest.raises(AssertionError, match="/items/0/track"):
        validate_body("GET", path, 200, renamed)
    markets = copy.deepcopy(body)
    markets["items"][1]["item"]["album"]["available_markets"] = ["SE"]
    with pytest.raises(AssertionError, match="/items/1/item/album/available_markets"):
        validate_body("GET", path, 200, markets)
    extra = copy.deepcopy(body)
    extra["items"][2]["item"]["artists"][0]["followers"] = {"total": 1}
    with pytest.raises(AssertionError, match="followers"):
        validate_body("GET", path, 200, extra)
