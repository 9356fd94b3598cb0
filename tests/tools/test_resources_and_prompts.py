"""Resources (current playback, profile) are read per user; prompts spell out the tools for common jobs."""

from __future__ import annotations

import json

import pytest
from mcp.client import Client
from mcp.types import TextResourceContents

from tests.support import Harness

pytestmark = pytest.mark.anyio


async def read_json(mcp: Client, uri: str) -> dict[str, object]:
    result = await mcp.read_resource(uri)
    content = result.contents[0]
    assert isinstance(content, TextResourceContents)
    assert content.mime_type == "application/json"
    loaded: dict[str, object] = json.loads(content.text)
    return loaded


async def test_the_resources_are_listed(mcp: Client) -> None:
    listed = await mcp.list_resources()
    assert [str(r.uri) for r in listed.resources] == ["spotify://me/player", "spotify://me/profile"]


async def test_current_playback_is_a_resource_read_with_the_callers_account(mcp: Client) -> None:
    state = await read_json(mcp, "spotify://me/player")
    assert state["is_playing"] is True
    device = state["device"]
    assert isinstance(device, dict)
    assert device["name"] == "Pia's MacBook"


async def test_the_profile_is_a_resource(mcp: Client) -> None:
    assert (await read_json(mcp, "spotify://me/profile"))["id"] == "premium-user"


async def test_a_resource_read_after_consent_is_revoked_fails_with_advice(mcp: Client, h: Harness) -> None:
    h.world.revoke_user_consent("premium-user")
    h.world.expire_access_tokens()
    with pytest.raises(Exception, match="reconnect"):
        await mcp.read_resource("spotify://me/profile")


async def test_the_prompts_are_listed_with_their_arguments(mcp: Client) -> None:
    listed = {p.name: p for p in (await mcp.list_prompts()).prompts}
    assert list(listed) == ["playlistFromTopTracks", "whatAmIListeningTo", "tidyPlaylist"]
    tidy = listed["tidyPlaylist"].arguments or []
    assert [(a.name, a.required) for a in tidy] == [("playlistId", True)]


async def test_a_prompt_names_the_tools_to_use_in_order(mcp: Client) -> None:
    prompt = await mcp.get_prompt("playlistFromTopTracks", {"timeRange": "long_term", "name": "Forever"})
    message = prompt.messages[0].content
    body = getattr(message, "text", "")
    assert body.index("getTopTracks") < body.index("createPlaylist") < body.index("addTracksToPlaylist")
    assert "'Forever'" in body
    assert "last year" in body
