"""The request checker: what a client sends must be an operation the OpenAPI description documents, as documented."""

from __future__ import annotations

import copy
import json
import re
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx2
import pytest
from starlette.applications import Starlette

from spotify_mcp.emulator.api import removed
from tests.emulator import openapi, openapi_requests
from tests.emulator.flow import ALL_READ_SCOPES, bearer, sign_in
from tests.emulator.openapi import find_operation, load_spec
from tests.emulator.openapi_requests import ConformingTransport, clear_caches, request_violations

TRACK = "spotify:track:4iV5W9uYEdYUVa79Axb7Rh"
ID = "4iV5W9uYEdYUVa79Axb7Rh"
JSON = {"Content-Type": "application/json"}


def body(value: Any) -> bytes:
    return json.dumps(value).encode()


def violations(method: str, url: str, value: Any = None, headers: dict[str, str] | None = None) -> list[str]:
    """The violations of a request, with ``value`` (if given) sent as its JSON body."""
    content = b"" if value is None else body(value)
    return request_violations(method, url, JSON if headers is None else headers, content)


@pytest.fixture
def spec(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """A private copy of the description that a test may change; the checks are rebuilt from it."""
    patched = copy.deepcopy(load_spec())
    monkeypatch.setattr(openapi, "load_spec", lambda: patched)
    clear_caches()
    yield patched
    clear_caches()


def test_a_correct_search_conforms() -> None:
    assert violations("GET", "/v1/search?q=x&type=track&limit=10") == []
    assert violations("GET", "https://api.spotify.com/v1/search?q=x&type=track,album&market=from_token") == []


def test_a_path_or_method_the_spec_lacks_is_a_violation() -> None:
    assert violations("GET", "/v1/nowhere") == ["GET /v1/nowhere is not an operation of the Spotify Web API"]
    assert violations("PATCH", "/v1/me") == ["PATCH /v1/me is not an operation of the Spotify Web API"]
    assert violations("GET", "/api/token") == ["/api/token is not below /v1"]


def test_a_deprecated_operation_is_a_violation() -> None:
    assert find_operation("PUT", "/v1/me/tracks")[1]["deprecated"] is True
    assert violations("PUT", "/v1/me/tracks", {"ids": [ID]}) == ["PUT /me/tracks is deprecated"]
    assert violations("GET", f"/v1/artists/{ID}/top-tracks") == ["GET /artists/{id}/top-tracks is deprecated"]


def test_an_operation_flagged_removed_in_dev_mode_is_a_violation(spec: dict[str, Any]) -> None:
    spec["paths"]["/me/player/devices"]["get"]["x-removed-in-dev-mode"] = True
    [violation] = violations("GET", "/v1/me/player/devices")
    assert "removed for development-mode apps" in violation


def test_the_emulators_withdrawn_endpoints_are_deprecated_in_the_spec() -> None:
    withdrawn = [(method, path) for path in removed.FORBIDDEN for method in ("GET", "POST", "PUT", "DELETE")]
    withdrawn += [("GET", path) for path in removed.GONE]
    withdrawn += [(method, path) for path, methods in removed.REPLACED_BY_LIBRARY.items() for method in methods]
    checked = 0
    for method, template in withdrawn:
        if method.lower() not in load_spec()["paths"][template]:
            continue
        url = "/v1" + re.sub(r"\{[^}]+\}", ID, template)
        assert f"{method} {template} is deprecated" in violations(method, url), (method, template)
        checked += 1
    assert checked > 40


def test_an_undeclared_query_parameter_is_a_violation() -> None:
    assert violations("GET", "/v1/search?q=x&type=track&offset_id=3") == [
        "query parameter offset_id is not declared for GET /search"
    ]


def test_a_missing_required_query_parameter_is_a_violation() -> None:
    assert violations("GET", "/v1/search?type=track") == ["required query parameter q is missing"]
    assert violations("GET", "/v1/search?q=&type=track") == ["query parameter q is empty"]
    assert violations("PUT", "/v1/me/player/volume") == ["required query parameter volume_percent is missing"]


def test_search_limit_is_at_most_ten() -> None:
    assert violations("GET", "/v1/search?q=x&type=track&limit=10") == []
    assert violations("GET", "/v1/search?q=x&type=track&limit=50") == [
        "query parameter limit: 50 is greater than the maximum of 10"
    ]
    assert violations("GET", "/v1/me/top/tracks?limit=50") == []
    assert violations("GET", "/v1/search?q=x&type=track&limit=0") == [
        "query parameter limit: 0 is less than the minimum of 1"
    ]


def test_query_values_are_coerced_from_the_query_string_then_validated() -> None:
    assert violations("GET", "/v1/me/playlists?limit=abc") == ["query parameter limit: 'abc' is not an integer"]
    assert violations("PUT", "/v1/me/player/shuffle?state=true") == []
    assert violations("PUT", "/v1/me/player/shuffle?state=True") == [
        "query parameter state: 'True' is not true or false"
    ]
    assert violations("PUT", "/v1/me/player/seek?position_ms=25000") == []
    assert violations("PUT", "/v1/me/player/seek?position_ms=2.5") == [
        "query parameter position_ms: '2.5' is not an integer"
    ]


def test_constraints_the_spec_only_states_in_prose_are_checked() -> None:
    assert violations("PUT", "/v1/me/player/volume?volume_percent=101") == [
        "query parameter volume_percent: 101 is greater than the maximum of 100"
    ]
    assert violations("PUT", "/v1/me/player/repeat?state=context") == []
    assert violations("PUT", "/v1/me/player/repeat?state=all") == [
        "query parameter state: 'all' is not one of ['track', 'context', 'off']"
    ]
    [bad_range] = violations("GET", "/v1/me/top/artists?time_range=forever")
    assert "is not one of ['long_term', 'medium_term', 'short_term']" in bad_range
    [bad_market] = violations("GET", f"/v1/tracks/{ID}?market=es")
    assert bad_market.startswith("query parameter market: 'es' does not match")
    assert violations("GET", "/v1/me/playlists?offset=-1") == [
        "query parameter offset: -1 is less than the minimum of 0"
    ]
    assert violations("GET", "/v1/me/player/recently-played?after=1&before=2") == [
        "query parameters after and before exclude each other"
    ]


def test_a_repeated_query_parameter_is_a_violation() -> None:
    assert violations("GET", "/v1/me/playlists?limit=5&limit=6") == ["query parameter limit is given 2 times"]
    assert violations("GET", "/v1/search?q=x&type=track&type=album") == [
        "query parameter type is given 2 times (send one comma-separated value)"
    ]


def test_comma_separated_lists_are_checked_item_by_item() -> None:
    [bad_type] = violations("GET", "/v1/search?q=x&type=track,song")
    assert bad_type.startswith("query parameter type: /1: 'song' is not one of")
    assert violations("GET", "/v1/search?q=x&type=track,") == ["query parameter type has an empty element: 'track,'"]
    assert violations("GET", f"/v1/playlists/{ID}/items?additional_types=track,episode") == []
    [bad_kind] = violations("GET", f"/v1/playlists/{ID}/items?additional_types=track,show")
    assert "'show' is not one of ['track', 'episode']" in bad_kind
    fields = "items(added_by.id,item(name,href))"
    assert violations("GET", f"/v1/playlists/{ID}/items?fields={fields}") == []


def test_path_parameters_must_be_spotify_ids() -> None:
    assert violations("GET", f"/v1/playlists/{ID}/items") == []
    [bad_id] = violations("GET", "/v1/playlists/not-an-id/items")
    assert bad_id.startswith("path parameter playlist_id: 'not-an-id' does not match")
    assert violations("GET", "/v1/playlists//items") == [
        "GET /v1/playlists//items is not an operation of the Spotify Web API"
    ]


def test_create_playlist_body_is_validated() -> None:
    assert violations("POST", "/v1/me/playlists", {"name": "Mix", "public": False, "description": "d"}) == []
    assert violations("POST", "/v1/me/playlists", {"public": False}) == ["body 'name' is a required property"]
    assert violations("POST", "/v1/me/playlists", {"name": 5, "public": "no"}) == [
        "body /name: 5 is not of type 'string'",
        "body /public: 'no' is not of type 'boolean'",
    ]
    [not_json] = request_violations("POST", "/v1/me/playlists", JSON, b"{name: 'Mix'}")
    assert not_json.startswith("body is not JSON")
    assert violations("POST", "/v1/me/playlists", {"name": "Mix"}, headers={"Content-Type": "text/plain"}) == [
        "body sent as 'text/plain', the operation takes ['application/json']"
    ]
    assert violations("POST", "/v1/me/playlists") == ["no request body, but its schema requires name"]


def test_a_deprecated_body_property_is_a_violation(spec: dict[str, Any]) -> None:
    schema = spec["paths"]["/me/playlists"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    schema["properties"]["folder"] = {"type": "string", "deprecated": True}
    assert violations("POST", "/v1/me/playlists", {"name": "Mix"}) == []
    assert violations("POST", "/v1/me/playlists", {"name": "Mix", "folder": "f"}) == [
        "body /folder: 'f' is sent in a deprecated property"
    ]
    assert violations("POST", "/v1/me/playlists", {"name": "Mix", "colour": "red"}) == []


def test_a_body_sent_to_an_operation_without_one_is_a_violation() -> None:
    assert violations("PUT", "/v1/me/player/pause", {}) == [
        "a 2-byte body was sent, but the operation declares no request body"
    ]
    assert violations("PUT", "/v1/me/player/pause") == []


def test_start_playback_with_a_valid_body_conforms() -> None:
    play = {"uris": [TRACK], "offset": {"position": 0}, "position_ms": 0}
    assert violations("PUT", "/v1/me/player/play?device_id=0d1841b0976bae2a3a310dd74c0f3df354899bc8", play) == []
    assert violations("PUT", "/v1/me/player/play", {"context_uri": f"spotify:album:{ID}"}) == []
    assert violations("PUT", "/v1/me/player/play") == []
    assert violations("PUT", "/v1/me/player/play", {"uris": TRACK, "position_ms": -1}) == [
        "body /position_ms: -1 is less than the minimum of 0",
        f"body /uris: '{TRACK}' is not of type 'array'",
    ]
    [not_a_context] = violations("PUT", "/v1/me/player/play", {"context_uri": TRACK})
    assert not_a_context.startswith("body /context_uri:")


def test_request_body_limits_from_the_prose_are_checked() -> None:
    assert violations("PUT", "/v1/me/player", {"device_ids": ["a", "b"]}) == [
        "body /device_ids: 2 items, more than the 1 allowed"
    ]
    assert violations("POST", f"/v1/playlists/{ID}/items", {"uris": [TRACK] * 101}) == [
        "body /uris: 101 items, more than the 100 allowed"
    ]
    assert violations("DELETE", f"/v1/playlists/{ID}/items", {"items": [{"uri": TRACK}]}) == []
    [bad_uri] = violations("DELETE", f"/v1/playlists/{ID}/items", {"items": [{"uri": "spotify:track:x"}]})
    assert bad_uri.startswith("body /items/0/uri: 'spotify:track:x' does not match")


def test_saving_to_the_library_by_uri_conforms() -> None:
    assert violations("PUT", f"/v1/me/library?uris={TRACK},spotify:album:{ID},spotify:user:sam-curator") == []
    assert violations("GET", f"/v1/me/library/contains?uris={TRACK}") == []
    assert violations("DELETE", f"/v1/me/library?uris={TRACK},spotify:artist:{ID}") == []
    [bad_uri] = violations("DELETE", f"/v1/me/library?uris={TRACK},spotify:genre:{ID}")
    assert bad_uri.startswith(f"query parameter uris: /1: 'spotify:genre:{ID}' does not match")
    assert violations("PUT", "/v1/me/library?uris=" + ",".join([TRACK] * 41)) == [
        "query parameter uris: 41 items, more than the 40 allowed"
    ]


def test_an_image_upload_is_base64_jpeg() -> None:
    url = f"/v1/playlists/{ID}/images"
    assert request_violations("PUT", url, {"Content-Type": "image/jpeg"}, b"/9j/2wCEABoZ") == []
    [not_base64] = request_violations("PUT", url, {"Content-Type": "image/jpeg"}, b"\xff\xd8\xff")
    assert not_base64.startswith("body is not base64")
    assert request_violations("PUT", url, {"Content-Type": "image/jpeg"}, b"") == [
        "the operation requires a request body, none was sent"
    ]


@pytest.mark.anyio
async def test_the_transport_records_violations_and_operations_and_forwards_requests(app: Starlette) -> None:
    transport = ConformingTransport(httpx2.ASGITransport(app=app))
    async with httpx2.AsyncClient(transport=transport, base_url="http://emulator") as client:
        scope = f"{ALL_READ_SCOPES} playlist-modify-public playlist-modify-private"
        headers = bearer((await sign_in(client, scope=scope))["access_token"])
        sent = {"name": "Road trip ☀", "description": "mit Ümlauten", "public": False}
        created = await client.post("/v1/me/playlists", json=sent, headers=headers)
        assert created.status_code == 201, created.text
        assert {key: created.json()[key] for key in sent} == sent
        mine = await client.get("/v1/me/playlists", params={"limit": 5, "colour": "red"}, headers=headers)
        assert mine.status_code == 200, mine.text
        markets = await client.get("/v1/markets", headers=headers)
        assert markets.status_code == 403
    assert transport.violations == [
        ("GET", "/v1/me/playlists", "query parameter colour is not declared for GET /me/playlists"),
        ("GET", "/v1/markets", "GET /markets is deprecated"),
    ]
    assert transport.operations == Counter(
        {("POST", "/me/playlists"): 1, ("GET", "/me/playlists"): 1, ("GET", "/markets"): 1}
    )
    with pytest.raises(AssertionError, match="colour"):
        transport.assert_conforming()


@pytest.mark.anyio
async def test_the_transport_forwards_the_body_it_read(monkeypatch: pytest.MonkeyPatch) -> None:
    received: list[tuple[str, bytes]] = []

    async def echo(request: httpx2.Request) -> httpx2.Response:
        received.append((request.url.path, await request.aread()))
        return httpx2.Response(204)

    def broken(*args: object) -> object:
        raise RuntimeError("checker bug")

    transport = ConformingTransport(httpx2.MockTransport(echo))
    async with httpx2.AsyncClient(transport=transport, base_url="https://api.spotify.com") as client:
        streamed = _chunks(b'{"uris": ["', TRACK.encode(), b'"]}')
        assert (await client.put("/v1/me/player/play", content=streamed, headers=JSON)).status_code == 204
        assert (await client.post("/api/token", data={"grant_type": "refresh_token"})).status_code == 204
        monkeypatch.setattr(openapi_requests, "_check", broken)
        assert (await client.put("/v1/me/player/pause")).status_code == 204
    assert received == [
        ("/v1/me/player/play", body({"uris": [TRACK]})),
        ("/api/token", b"grant_type=refresh_token"),
        ("/v1/me/player/pause", b""),
    ]
    assert transport.violations == [
        ("PUT", "/v1/me/player/pause", "the request could not be checked: RuntimeError('checker bug')")
    ]
    assert transport.operations == Counter({("PUT", "/me/player/play"): 1})


async def _chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part
