"""Step-up end to end: the official client, holding a narrow token, re-authorizes on 403 insufficient_scope."""

from __future__ import annotations

from pathlib import Path

import httpx2
import pytest
from mcp.client import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import OAuthClientInformationFull, OAuthToken
from pydantic import AnyUrl

from tests.e2e.live import Live, live
from tests.e2e.test_official_client import oauth_http
from tests.oauth_client import HeadlessBrowser
from tests.support import CLIENT_REDIRECT, code_form, pkce

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]


async def narrow_grant(server: Live, browser: HeadlessBrowser, scope: str) -> tuple[str, OAuthToken]:
    """Register a public client and authorize it for ``scope`` only, as an earlier session would have."""
    async with httpx2.AsyncClient() as raw:
        metadata = {"client_name": "e2e", "redirect_uris": [CLIENT_REDIRECT], "token_endpoint_auth_method": "none"}
        registered = await raw.post(f"{server.base}/register", json=metadata)
        client_id = registered.json()["client_id"]
        verifier, challenge = pkce()
        params = {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": CLIENT_REDIRECT,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "state": "s",
            "scope": scope,
            "resource": server.mcp_url,
        }
        await browser.redirect_handler(str(httpx2.URL(f"{server.base}/authorize", params=params)))
        assert browser.result is not None
        form = code_form(browser.result.code, verifier, client_id, resource=server.mcp_url)
        tokens = await raw.post(f"{server.base}/token", data=form)
        assert tokens.status_code == 200, tokens.text
    return client_id, OAuthToken.model_validate(tokens.json())


async def test_a_narrow_token_steps_up_to_the_scopes_a_tool_needs(tmp_path: Path) -> None:
    async with live(tmp_path) as server, oauth_http(server) as (http, storage, browser):
        client_id, token = await narrow_grant(server, browser, "user-top-read")
        assert token.scope == "user-top-read"
        storage.client = OAuthClientInformationFull(
            client_id=client_id, redirect_uris=[AnyUrl(CLIENT_REDIRECT)], token_endpoint_auth_method="none"
        )
        storage.tokens = token
        async with Client(streamable_http_client(server.mcp_url, http_client=http)) as client:
            top = await client.call_tool("getTopTracks", {"limit": 2})
            assert not top.is_error
            assert browser.visits == 1
            playing = await client.call_tool("getCurrentPlayback", {})
            assert not playing.is_error, playing
            assert playing.structured_content is not None
            assert playing.structured_content["is_playing"] is True
        assert browser.visits == 2
        assert storage.tokens is not None
        granted = set((storage.tokens.scope or "").split())
        assert {"user-top-read", "user-read-playback-state"} <= granted
