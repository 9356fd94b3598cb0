"""Helpers for the rate-limit tests: browsers at chosen client addresses, and sign-ins as a chosen user."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx2
import pytest
from mcp.client import Client
from mcp.client.streamable_http import streamable_http_client

from spotify_mcp.clock import ManualClock
from tests.support import CLIENT_REDIRECT, EMULATOR, PUBLIC, Harness, code_form, parse_form, pkce, walk


@pytest.fixture
def clock() -> ManualClock:
    """A clock the test moves by hand; it starts at a whole hour, so windows start with the test."""
    return ManualClock()


@asynccontextmanager
async def browser(
    h: Harness, address: str = "127.0.0.1", *, headers: dict[str, str] | None = None
) -> AsyncIterator[httpx2.AsyncClient]:
    """A cookie-keeping HTTP client whose requests reach the server from ``address``."""
    mounts = {
        PUBLIC: httpx2.ASGITransport(app=h.app, client=(address, 40000)),
        EMULATOR: httpx2.ASGITransport(app=h.emulator),
    }
    async with httpx2.AsyncClient(mounts=mounts, headers=headers) as http:
        yield http


async def register(http: httpx2.AsyncClient) -> str:
    """Register a public client and return its id."""
    body = {
        "client_name": "Rate Test",
        "redirect_uris": [CLIENT_REDIRECT],
        "token_endpoint_auth_method": "none",
        "grant_types": ["authorization_code", "refresh_token"],
    }
    response = await http.post(f"{PUBLIC}/register", json=body)
    assert response.status_code == 201, response.text
    client_id: str = response.json()["client_id"]
    return client_id


async def sign_in(http: httpx2.AsyncClient, client_id: str, user: str = "premium-user") -> dict[str, Any]:
    """Run the browser flow as ``user`` (picked on the emulator's sign-in page) and return the token response."""
    verifier, challenge = pkce()
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": CLIENT_REDIRECT,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "state": "s",
        "resource": f"{PUBLIC}/mcp",
    }
    to_spotify = await walk(http, str(httpx2.URL(f"{PUBLIC}/authorize", params=params)), (PUBLIC,))
    assert to_spotify.status_code == 302, to_spotify.text
    sign_in_page = await http.get(to_spotify.headers["location"])
    form = parse_form(sign_in_page.text)
    back = await http.post(
        urljoin(str(sign_in_page.url), form.action or ""),
        data={**form.fields, "user": user, "action": "approve"},
        headers={"Origin": EMULATOR},
    )
    final = await walk(http, back.headers["location"], (PUBLIC, EMULATOR))
    assert final.headers["location"].startswith(CLIENT_REDIRECT), final.text
    code = parse_qs(urlsplit(final.headers["location"]).query)["code"][0]
    response = await http.post(f"{PUBLIC}/token", data=code_form(code, verifier, client_id, resource=f"{PUBLIC}/mcp"))
    assert response.status_code == 200, response.text
    tokens: dict[str, Any] = response.json()
    return tokens


@asynccontextmanager
async def mcp_session(h: Harness, access_token: str, address: str = "127.0.0.1") -> AsyncIterator[Client]:
    """An MCP client on the in-process server, signed in with ``access_token``, connecting from ``address``."""
    mounts = {PUBLIC: httpx2.ASGITransport(app=h.app, client=(address, 40000))}
    headers = {"Authorization": f"Bearer {access_token}"}
    async with (
        httpx2.AsyncClient(mounts=mounts, headers=headers) as http,
        Client(streamable_http_client(f"{PUBLIC}/mcp", http_client=http)) as client,
    ):
        yield client
