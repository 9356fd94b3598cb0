"""Test harness: the server wired to the Spotify emulator in-process, and a browser that walks the forms."""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx2
from mcp.client import Client
from mcp.client.streamable_http import streamable_http_client
from starlette.applications import Starlette

from spotify_mcp.app import create_app
from spotify_mcp.clock import Clock, ManualClock
from spotify_mcp.crypto import KeyRing
from spotify_mcp.emulator import EmulatorConfig, World, create_emulator_app
from spotify_mcp.settings import Settings
from tests.emulator.openapi_requests import ConformingTransport

PUBLIC = "http://127.0.0.1:8000"
EMULATOR = "http://127.0.0.1:9000"
CLIENT_REDIRECT = "http://127.0.0.1:3030/callback"
SPOTIFY_CLIENT_ID = "test-spotify-app"
SPOTIFY_CLIENT_SECRET = "test-spotify-secret"


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    """Settings for a server at PUBLIC whose Spotify is the emulator at EMULATOR."""
    values: dict[str, Any] = {
        "spotify_client_id": SPOTIFY_CLIENT_ID,
        "spotify_client_secret": SPOTIFY_CLIENT_SECRET,
        "public_url": PUBLIC,
        "data_dir": tmp_path,
        "store_url": f"sqlite:///{tmp_path / 'store.db'}",
        "spotify_accounts_url": EMULATOR,
        "spotify_api_url": f"{EMULATOR}/v1",
        **overrides,
    }
    return Settings(**values)


class FormParser(HTMLParser):
    """Collects the first form's action, hidden/checked inputs and buttons."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}
        self.buttons: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and self.action is None:
            self.action = a.get("action", "")
        elif tag == "input" and "name" in a:
            kind = a.get("type", "text")
            if kind == "hidden" or (kind == "radio" and "checked" in a) or kind == "text":
                self.fields[a["name"]] = a.get("value", "")
        elif tag == "button" and "name" in a:
            self.buttons.append((a["name"], a.get("value", "")))


def parse_form(html: str) -> FormParser:
    """Parse the first form of a page."""
    parser = FormParser()
    parser.feed(html)
    assert parser.action is not None, "no form on the page"
    return parser


def pkce() -> tuple[str, str]:
    """A fresh (verifier, S256 challenge) pair."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


def _same_origin_as_any(url: str, bases: tuple[str, ...]) -> bool:
    """Whether ``url`` is on the scheme, host and port of one of ``bases`` (not a mere string prefix)."""
    return _origin(url) in {_origin(base) for base in bases}


async def walk(
    http: httpx2.AsyncClient, url: str, hosts: tuple[str, ...], *, action: str = "approve", limit: int = 12
) -> httpx2.Response:
    """Follow redirects within ``hosts`` and submit every form (consent, Spotify sign-in) with ``action``."""
    response = await http.get(url)
    for _ in range(limit):
        if response.status_code in (301, 302, 303, 307):
            location = urljoin(str(response.url), response.headers["location"])
            if not _same_origin_as_any(location, hosts):
                return response
            response = await http.get(location)
            continue
        if response.status_code == 200 and "<form" in response.text:
            form = parse_form(response.text)
            target = urljoin(str(response.url), form.action or "")
            parts = urlsplit(target)
            response = await http.post(
                target,
                data={**form.fields, "action": action},
                headers={"Origin": f"{parts.scheme}://{parts.netloc}"},
            )
            continue
        return response
    raise AssertionError("redirect loop")


@dataclass
class Harness:
    """A running server + emulator, reachable through ``http`` (a cookie-keeping browser)."""

    app: Starlette
    emulator: Starlette
    world: World
    settings: Settings
    clock: Clock
    keys: KeyRing
    http: httpx2.AsyncClient
    upstream: ConformingTransport
    notes: dict[str, Any] = field(default_factory=dict)

    async def register(self, **metadata: Any) -> dict[str, Any]:
        """Register a public client (by default) and return the registration response."""
        body = {
            "client_name": "Test Client",
            "redirect_uris": [CLIENT_REDIRECT],
            "token_endpoint_auth_method": "none",
            "grant_types": ["authorization_code", "refresh_token"],
            **metadata,
        }
        response = await self.http.post(f"{PUBLIC}/register", json=body)
        assert response.status_code == 201, response.text
        result: dict[str, Any] = response.json()
        return result

    async def follow(self, url: str, *, action: str = "approve") -> httpx2.Response:
        """Walk the browser hops, answering every form with ``action``, until the client's redirect."""
        return await walk(self.http, url, (PUBLIC, EMULATOR), action=action)

    async def authorize(
        self, client_id: str, *, redirect_uri: str = CLIENT_REDIRECT, scope: str | None = None, **extra: str
    ) -> tuple[dict[str, list[str]], str]:
        """Run the browser part of the flow; return the client-redirect query and the PKCE verifier."""
        verifier, challenge = pkce()
        params = {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "state": "client-state-123",
            "resource": f"{PUBLIC}/mcp",
            **({"scope": scope} if scope else {}),
            **extra,
        }
        url = str(httpx2.URL(f"{PUBLIC}/authorize", params=params))
        final = await self.follow(url)
        assert final.status_code == 302, final.text
        location = final.headers["location"]
        assert location.startswith(redirect_uri.split("?")[0].rsplit(":", 1)[0])
        return parse_qs(urlsplit(location).query), verifier

    async def tokens(self, client_id: str, **extra: Any) -> dict[str, Any]:
        """Run the whole flow for a public client and return the token response."""
        query, verifier = await self.authorize(client_id, **extra)
        form = code_form(query["code"][0], verifier, client_id, resource=f"{PUBLIC}/mcp")
        response = await self.http.post(f"{PUBLIC}/token", data=form)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result


def code_form(code: str, verifier: str, client_id: str | None = None, **extra: str) -> dict[str, str]:
    """The form of an authorization_code token request."""
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": CLIENT_REDIRECT,
        "code_verifier": verifier,
    }
    if client_id is not None:
        form["client_id"] = client_id
    return {**form, **extra}


@asynccontextmanager
async def harness(tmp_path: Path, *, clock: Clock | None = None, **overrides: Any) -> AsyncIterator[Harness]:
    """Start the emulator and the server in-process (lifespans included) and yield a Harness."""
    clock = clock or ManualClock()
    settings = make_settings(tmp_path, **overrides)
    keys = KeyRing.ephemeral()
    emulator = create_emulator_app(
        EmulatorConfig(
            client_id=SPOTIFY_CLIENT_ID,
            client_secret=SPOTIFY_CLIENT_SECRET,
            redirect_uris=[settings.callback_url],
        ),
        clock=clock,
    )
    upstream = ConformingTransport(httpx2.ASGITransport(app=emulator))
    app = create_app(settings, clock=clock, keys=keys, spotify_transport=upstream)
    mounts = {
        PUBLIC: httpx2.ASGITransport(app=app),
        EMULATOR: httpx2.ASGITransport(app=emulator),
    }
    async with app.router.lifespan_context(app), httpx2.AsyncClient(mounts=mounts) as http:
        yield Harness(app, emulator, emulator.state.world, settings, clock, keys, http, upstream)
    # Every Web API request the server sent in this test must conform to the OpenAPI description.
    upstream.assert_conforming()


@asynccontextmanager
async def mcp_client(h: Harness, access_token: str) -> AsyncIterator[Client]:
    """The official MCP client on the in-process server's /mcp, with ``access_token`` as its bearer."""
    mounts = {PUBLIC: httpx2.ASGITransport(app=h.app)}
    headers = {"Authorization": f"Bearer {access_token}"}
    async with (
        httpx2.AsyncClient(mounts=mounts, headers=headers) as http,
        Client(streamable_http_client(f"{PUBLIC}/mcp", http_client=http)) as client,
    ):
        yield client
