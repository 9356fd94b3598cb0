"""Step-up: a tool needing scopes the grant lacks gets 403 insufficient_scope naming every scope needed."""

from __future__ import annotations

import json
from typing import Any

import httpx2
import pytest

from tests.support import PUBLIC, Harness
from tests.tools.conftest import connect, text

pytestmark = pytest.mark.anyio

MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def rpc(method: str, params: dict[str, Any]) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}


async def narrowed(h: Harness, scope: str) -> str:
    tokens = await h.tokens((await h.register())["client_id"], scope=scope)
    token: str = tokens["access_token"]
    return token


async def post(h: Harness, token: str, body: Any) -> httpx2.Response:
    headers = {**MCP_HEADERS, "Authorization": f"Bearer {token}"}
    return await h.http.post(f"{PUBLIC}/mcp", content=json.dumps(body), headers=headers)


def challenge_params(response: httpx2.Response) -> dict[str, str]:
    scheme, _, rest = response.headers["www-authenticate"].partition(" ")
    assert scheme == "Bearer"
    params: dict[str, str] = {}
    for part in rest.split('", '):
        key, _, value = part.partition("=")
        params[key.strip()] = value.strip().strip('"')
    return params


async def test_a_tool_outside_the_grant_gets_403_insufficient_scope_before_spotify_is_asked(h: Harness) -> None:
    token = await narrowed(h, "user-top-read")
    before = len(h.world.api_calls)
    response = await post(h, token, rpc("tools/call", {"name": "getCurrentPlayback", "arguments": {}}))
    assert response.status_code == 403
    params = challenge_params(response)
    assert params["error"] == "insufficient_scope"
    assert params["scope"].split() == ["user-top-read", "user-read-playback-state"]
    assert params["resource_metadata"] == f"{PUBLIC}/.well-known/oauth-protected-resource/mcp"
    assert "user-read-playback-state" in params["error_description"]
    assert response.json()["error"] == "insufficient_scope"
    assert len(h.world.api_calls) == before


async def test_the_challenge_names_every_scope_a_tool_needs_at_once(h: Harness) -> None:
    token = await narrowed(h, "user-top-read")
    response = await post(h, token, rpc("tools/call", {"name": "saveToLibrary", "arguments": {"uris": []}}))
    assert response.status_code == 403
    wanted = set(challenge_params(response)["scope"].split())
    assert wanted == {"user-top-read", "user-library-modify", "user-follow-modify", "playlist-modify-public"}


async def test_a_tool_inside_the_grant_runs(h: Harness) -> None:
    token = await narrowed(h, "user-top-read")
    async with connect(h, token) as client:
        result = await client.call_tool("getTopTracks", {"limit": 2})
        search = await client.call_tool("searchTracks", {"query": "a", "limit": 1})
    assert not result.is_error
    assert not search.is_error


async def test_a_per_user_resource_outside_the_grant_gets_403_too(h: Harness) -> None:
    token = await narrowed(h, "user-top-read")
    response = await post(h, token, rpc("resources/read", {"uri": "spotify://me/player"}))
    assert response.status_code == 403
    assert "user-read-playback-state" in challenge_params(response)["scope"]


async def test_unknown_tools_and_other_methods_are_left_to_the_protocol(h: Harness) -> None:
    token = await narrowed(h, "user-top-read")
    response = await post(h, token, rpc("tools/call", {"name": "noSuchTool", "arguments": {}}))
    assert response.status_code != 403


async def test_a_body_too_large_to_inspect_is_still_refused_by_the_tool_itself(h: Harness) -> None:
    token = await narrowed(h, "user-top-read")
    async with connect(h, token) as client:
        result = await client.call_tool("getCurrentPlayback", {"market": "DE", "padding": "x" * (1024 * 1024 + 10)})
    assert result.is_error
    assert "user-read-playback-state" in text(result)
