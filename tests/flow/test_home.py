"""The home page tells a person what this server is and how to connect each kind of client."""

from __future__ import annotations

import html
import json
import re

import pytest

from spotify_mcp.web.home import client_snippets, home_page
from tests.support import PUBLIC, Harness

pytestmark = pytest.mark.anyio


def snippets_on(page: str) -> list[str]:
    return [html.unescape(block) for block in re.findall(r"<pre>(.*?)</pre>", page, re.S)]


async def test_the_home_page_gives_the_mcp_url_and_a_snippet_per_client(h: Harness) -> None:
    response = await h.http.get(f"{PUBLIC}/")
    assert response.status_code == 200
    blocks = snippets_on(response.text)
    assert blocks[0] == f"{PUBLIC}/mcp"
    assert blocks[1:] == [snippet for _, _, snippet in client_snippets(f"{PUBLIC}/mcp")]
    assert f"claude mcp add --transport http spotify {PUBLIC}/mcp" in blocks
    remote = json.loads(next(b for b in blocks if b.startswith("{")))
    assert remote["mcpServers"]["spotify"]["args"][-1] == f"{PUBLIC}/mcp"
    assert 'href="/account"' in response.text
    assert f"{PUBLIC}/callback" in response.text


def test_every_interpolated_value_on_the_home_page_is_escaped() -> None:
    page = home_page(mcp_url="https://x.example/mcp?<script>", callback_url="https://x.example/callback<b>")
    assert "<script>" not in page
    assert "<b>" not in page
