"""End to end with Client ID Metadata Document clients: no registration, the client_id is a URL we fetch."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest
from mcp.client import Client
from mcp.client.streamable_http import streamable_http_client
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from spotify_mcp.store import open_store
from tests.e2e.live import Live, bound_socket, live, serve
from tests.e2e.test_official_client import oauth_http
from tests.e2e.tls import make_pki
from tests.support import CLIENT_REDIRECT, pkce, walk

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]


async def test_a_cimd_client_authorizes_and_calls_tools_without_registering(tmp_path: Path) -> None:
    doc_sock = bound_socket()
    client_id = f"http://127.0.0.1:{doc_sock.getsockname()[1]}/oauth/client.json"
    fetches: list[str] = []

    async def document(request: Request) -> JSONResponse:
        fetches.append(request.url.path)
        body = {
            "client_id": client_id,
            "client_name": "CIMD e2e client",
            "redirect_uris": [CLIENT_REDIRECT],
            "token_endpoint_auth_method": "none",
            "grant_types": ["authorization_code", "refresh_token"],
        }
        return JSONResponse(body, headers={"Cache-Control": "max-age=300"})

    doc_app = Starlette(routes=[Route("/oauth/client.json", document)])
    overrides = {"cimd_allow_http_loopback": True, "cimd_allow_private_addresses": True}
    async with serve([(doc_app, doc_sock)]), live(tmp_path, **overrides) as server:
        verifier, challenge = pkce()
        params = {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": "http://127.0.0.1:51234/callback",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "state": "cimd-state",
            "resource": server.mcp_url,
        }
        async with httpx2.AsyncClient() as browser:
            final = await walk(
                browser, str(httpx2.URL(f"{server.base}/authorize", params=params)), (server.base, server.emulator)
            )
            query = parse_qs(urlsplit(final.headers["location"]).query)
            assert query["state"] == ["cimd-state"]
            token = await browser.post(
                f"{server.base}/token",
                data={
                    "grant_type": "authorization_code",
                    "code": query["code"][0],
                    "redirect_uri": "http://127.0.0.1:51234/callback",
                    "code_verifier": verifier,
                    "client_id": client_id,
                },
            )
        assert token.status_code == 200, token.text
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        async with (
            httpx2.AsyncClient(headers=headers) as http,
            Client(streamable_http_client(server.mcp_url, http_client=http)) as client,
        ):
            me = await client.call_tool("getCurrentUserProfile", {})
        assert not me.is_error
        assert fetches == ["/oauth/client.json"]


async def test_an_http_cimd_client_id_is_refused_by_default(tmp_path: Path) -> None:
    async with live(tmp_path) as server, httpx2.AsyncClient() as browser:
        _, challenge = pkce()
        response = await browser.get(
            f"{server.base}/authorize",
            params={
                "response_type": "code",
                "client_id": "http://127.0.0.1:9/client.json",
                "redirect_uri": CLIENT_REDIRECT,
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            },
        )
        assert response.status_code == 400
        assert "location" not in response.headers


async def test_the_official_client_uses_an_https_client_metadata_document_instead_of_registering(
    tmp_path: Path,
) -> None:
    pki = make_pki(tmp_path)
    doc_sock = bound_socket()
    client_id = f"https://127.0.0.1:{doc_sock.getsockname()[1]}/oauth/client.json"
    fetched: list[str] = []

    async def document(request: Request) -> JSONResponse:
        fetched.append(request.url.path)
        body = {
            "client_id": client_id,
            "client_name": "Official client via CIMD",
            "redirect_uris": [CLIENT_REDIRECT],
            "token_endpoint_auth_method": "none",
            "grant_types": ["authorization_code", "refresh_token"],
        }
        return JSONResponse(body, headers={"Cache-Control": "max-age=300"})

    doc_app = Starlette(routes=[Route("/oauth/client.json", document)])
    overrides = {"cimd_allow_private_addresses": True, "cimd_ca_file": pki.ca_file}
    async with (
        serve([(doc_app, doc_sock)], tls=pki),
        live(tmp_path, **overrides) as server,
        oauth_http(server, client_metadata_url=client_id) as (http, storage, browser),
    ):
        async with Client(streamable_http_client(server.mcp_url, http_client=http)) as client:
            me = await client.call_tool("getCurrentUserProfile", {})
        assert not me.is_error, me
        assert storage.client is not None
        assert storage.client.client_id == client_id
        assert browser.visits == 1
        assert fetched == ["/oauth/client.json"]
        registrations = [c for c in await server_clients(server) if c != client_id]
        assert registrations == []


async def server_clients(server: Live) -> list[str]:
    """Client ids the server has registered (CIMD clients are never stored as registrations)."""
    store = await open_store(server.settings.store_url)
    try:
        return [c.client_id for c in await store.list_clients()]
    finally:
        await store.close()
