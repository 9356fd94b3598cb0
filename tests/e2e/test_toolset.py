"""Every tool, end to end: the official client over a real socket, our server, the emulator, and back."""

from __future__ import annotations

from pathlib import Path

import pytest
from mcp.client import Client
from mcp.client.streamable_http import streamable_http_client

from tests.e2e.live import live
from tests.e2e.test_official_client import oauth_http
from tests.tools.conftest import text
from tests.tools.test_conformance_sweep import arguments

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]


async def test_every_tool_answers_through_the_official_client_over_a_real_socket(tmp_path: Path) -> None:
    async with (
        live(tmp_path) as server,
        oauth_http(server) as (http, _, _),
        Client(streamable_http_client(server.mcp_url, http_client=http)) as client,
    ):
        listed = [t.name for t in (await client.list_tools()).tools]
        plan = arguments(server.world)
        assert sorted(plan) == sorted(listed)
        for name in listed:
            result = await client.call_tool(name, plan[name])
            assert not result.is_error, f"{name}: {text(result)}"
            assert result.structured_content is not None, name
            assert text(result), name
        resource = await client.read_resource("spotify://me/player")
        assert resource.contents
        prompt = await client.get_prompt("whatAmIListeningTo", {})
        assert prompt.messages
