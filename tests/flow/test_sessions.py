"""Stateful (2025-era) MCP sessions belong to the principal that opened them."""

from __future__ import annotations

from pathlib import Path

import httpx2
import pytest

from tests.support import PUBLIC, Harness, harness

pytestmark = pytest.mark.anyio

HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
}
LIST = {"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}}


async def open_session(h: Harness, token: str) -> str:
    response = await h.http.post(
        f"{PUBLIC}/mcp", json=INITIALIZE, headers={**HEADERS, "Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200, response.text
    session: str = response.headers["mcp-session-id"]
    return session


async def list_tools(h: Harness, token: str, session: str) -> httpx2.Response:
    headers = {
        **HEADERS,
        "Authorization": f"Bearer {token}",
        "Mcp-Session-Id": session,
        "Mcp-Protocol-Version": "2025-06-18",
    }
    return await h.http.post(f"{PUBLIC}/mcp", json=LIST, headers=headers)


async def test_the_principal_that_opened_a_session_can_use_it(h: Harness) -> None:
    token = (await h.tokens((await h.register())["client_id"]))["access_token"]
    session = await open_session(h, token)
    assert (await list_tools(h, token, session)).status_code == 200


async def test_another_principals_token_cannot_use_the_session(h: Harness) -> None:
    owner = (await h.tokens((await h.register())["client_id"]))["access_token"]
    intruder = (await h.tokens((await h.register(client_name="Other"))["client_id"]))["access_token"]
    session = await open_session(h, owner)
    response = await list_tools(h, intruder, session)
    assert response.status_code == 404
    assert "tools" not in response.text


async def test_stateless_mode_serves_2025_era_clients_without_sessions(tmp_path: Path) -> None:
    async with harness(tmp_path, stateless_http=True) as h:
        token = (await h.tokens((await h.register())["client_id"]))["access_token"]
        headers = {**HEADERS, "Authorization": f"Bearer {token}"}
        opened = await h.http.post(f"{PUBLIC}/mcp", json=INITIALIZE, headers=headers)
        assert opened.status_code == 200
        assert "mcp-session-id" not in opened.headers
        listed = await h.http.post(
            f"{PUBLIC}/mcp", json=LIST, headers={**headers, "Mcp-Protocol-Version": "2025-06-18"}
        )
        assert listed.status_code == 200
        assert "searchTracks" in listed.text


async def test_mcp_answers_carrying_a_users_data_are_never_stored_by_caches(h: Harness) -> None:
    token = (await h.tokens((await h.register())["client_id"]))["access_token"]
    opened = await h.http.post(
        f"{PUBLIC}/mcp", json=INITIALIZE, headers={**HEADERS, "Authorization": f"Bearer {token}"}
    )
    listed = await list_tools(h, token, opened.headers["mcp-session-id"])
    assert "no-store" in opened.headers["cache-control"]
    assert "no-store" in listed.headers["cache-control"]
