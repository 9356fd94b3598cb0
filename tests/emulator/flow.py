"""Walking the emulator's OAuth flow headlessly, as a browser would: parse the sign-in form and post it."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2

CLIENT_ID = "emulator-client"
CLIENT_SECRET = "emulator-secret"
REDIRECT_URI = "http://127.0.0.1:8000/callback"
ALL_READ_SCOPES = (
    "user-read-private user-read-playback-state user-read-currently-playing user-read-recently-played "
    "user-top-read playlist-read-private playlist-read-collaborative"
)


@dataclass
class SignInForm:
    """The sign-in page's form: where it posts, its hidden fields, the users offered and the preselected one."""

    action: str = ""
    method: str = ""
    hidden: dict[str, str] = field(default_factory=dict)
    users: list[str] = field(default_factory=list)
    checked_user: str | None = None
    buttons: list[tuple[str, str]] = field(default_factory=list)


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.form = SignInForm()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.form.action, self.form.method = a.get("action", ""), a.get("method", "")
        elif tag == "input" and a.get("type") == "hidden":
            self.form.hidden[a["name"]] = a.get("value", "")
        elif tag == "input" and a.get("type") == "radio" and a.get("name") == "user":
            self.form.users.append(a["value"])
            if "checked" in a:
                self.form.checked_user = a["value"]
        elif tag == "button":
            self.form.buttons.append((a.get("name", ""), a.get("value", "")))


def parse_sign_in_form(html: str) -> SignInForm:
    """Parse the sign-in page."""
    parser = _FormParser()
    parser.feed(html)
    return parser.form


def pkce_pair(verifier: str = "v" * 43 + "-._~0123456789") -> tuple[str, str]:
    """A PKCE (verifier, S256 challenge) pair."""
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def query_of(location: str) -> dict[str, str]:
    """The query parameters of a redirect ``Location``."""
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


async def authorize(
    client: httpx2.AsyncClient,
    *,
    user: str | None = None,
    action: str = "approve",
    scope: str = ALL_READ_SCOPES,
    redirect_uri: str = REDIRECT_URI,
    state: str | None = "state-123",
    code_challenge: str | None = None,
) -> httpx2.Response:
    """GET the sign-in page, then submit its form for ``user`` (default: the preselected one)."""
    params = {"client_id": CLIENT_ID, "response_type": "code", "redirect_uri": redirect_uri, "scope": scope}
    if state is not None:
        params["state"] = state
    if code_challenge is not None:
        params |= {"code_challenge_method": "S256", "code_challenge": code_challenge}
    page = await client.get("/authorize", params=params)
    assert page.status_code == 200, page.text
    form = parse_sign_in_form(page.text)
    chosen = user or form.checked_user
    assert chosen is not None
    return await client.post(form.action, data={**form.hidden, "user": chosen, "action": action})


async def get_code(client: httpx2.AsyncClient, **kwargs: object) -> str:
    """Walk the sign-in page and return the authorization code from the redirect."""
    response = await authorize(client, **kwargs)  # type: ignore[arg-type]
    assert response.status_code == 302, response.text
    return query_of(response.headers["location"])["code"]


async def exchange(
    client: httpx2.AsyncClient, code: str, *, redirect_uri: str = REDIRECT_URI, **extra: str
) -> httpx2.Response:
    """Exchange a code at the token endpoint with HTTP Basic client authentication."""
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri, **extra}
    return await client.post("/api/token", data=data, auth=(CLIENT_ID, CLIENT_SECRET))


async def refresh(client: httpx2.AsyncClient, refresh_token: str) -> httpx2.Response:
    """Refresh with HTTP Basic client authentication."""
    data = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    return await client.post("/api/token", data=data, auth=(CLIENT_ID, CLIENT_SECRET))


async def sign_in(client: httpx2.AsyncClient, **kwargs: object) -> dict[str, Any]:
    """The whole code flow: the token response of a fresh sign-in."""
    code = await get_code(client, **kwargs)
    response = await exchange(client, code)
    assert response.status_code == 200, response.text
    tokens: dict[str, Any] = response.json()
    return tokens


def bearer(token: str) -> dict[str, str]:
    """An Authorization header."""
    return {"Authorization": f"Bearer {token}"}
