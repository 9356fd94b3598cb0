"""A POST to /mcp is answered with one application/json document, never an SSE stream, in both protocol eras."""

from __future__ import annotations

import json

import pytest

from tests.replicas.cluster import tool_call
from tests.support import PUBLIC, Harness

from .test_sessions import HEADERS, INITIALIZE, list_tools, open_session

pytestmark = pytest.mark.anyio


async def test_a_2026_era_tool_call_is_answered_with_one_json_document(h: Harness) -> None:
    token = (await h.tokens((await h.register())["client_id"]))["access_token"]
    headers, body = tool_call(token, "getCurrentUserProfile")
    response = await h.http.post(f"{PUBLIC}/mcp", headers=headers, content=body)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    answer = json.loads(response.text)
    assert answer["id"] == 1
    assert answer["result"]["isError"] is False
    assert answer["result"]["structuredContent"]["id"] == "premium-user"


async def test_a_2025_era_session_is_answered_with_json_documents(h: Harness) -> None:
    token = (await h.tokens((await h.register())["client_id"]))["access_token"]
    opened = await h.http.post(
        f"{PUBLIC}/mcp", json=INITIALIZE, headers={**HEADERS, "Authorization": f"Bearer {token}"}
    )
    assert opened.headers["content-type"] == "application/json"
    assert json.loads(opened.text)["result"]["protocolVersion"] == "2025-06-18"
    listed = await list_tools(h, token, await open_session(h, token))
    assert listed.headers["content-type"] == "application/json"
    assert "getCurrentUserProfile" in {tool["name"] for tool in json.loads(listed.text)["result"]["tools"]}
