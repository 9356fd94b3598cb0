"""Fixtures and small helpers shared by the catalogue modules: a running server and the browser hops."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx2

from tests.support import CLIENT_REDIRECT, EMULATOR, PUBLIC, Harness, parse_form, pkce


def authorize_url(client_id: str | None, *, challenge: str | None = None, **overrides: str | None) -> str:
    """An /authorize URL for a valid public-client request; an override of None drops that parameter."""
    params: dict[str, str | None] = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": CLIENT_REDIRECT,
        "code_challenge": challenge or pkce()[1],
        "code_challenge_method": "S256",
        "state": "s1",
        **overrides,
    }
    return str(httpx2.URL(f"{PUBLIC}/authorize", params={k: v for k, v in params.items() if v is not None}))


def assert_error_page(response: httpx2.Response, status: int = 400) -> None:
    """An HTML error page rendered by us: never a redirect anywhere."""
    assert response.status_code == status, response.text
    assert "location" not in response.headers
    assert response.headers["content-type"].startswith("text/html")


def redirect_query(response: httpx2.Response, redirect_uri: str = CLIENT_REDIRECT) -> dict[str, list[str]]:
    """The query of a redirect back to ``redirect_uri`` (every value, so duplicates show)."""
    assert response.status_code in (302, 303), response.text
    location = response.headers["location"]
    assert location.split("?")[0] == redirect_uri.split("?")[0], location
    return parse_qs(urlsplit(location).query, keep_blank_values=True)


def assert_consent_redirect(response: httpx2.Response) -> str:
    """The request was accepted: it goes to our consent page; return that URL."""
    assert response.status_code == 302, response.text
    location: str = response.headers["location"]
    assert location.startswith(f"{PUBLIC}/consent?request="), location
    return location


async def consent_form(h: Harness, client_id: str, **overrides: str | None) -> dict[str, str]:
    """Open the consent page of a fresh authorization request; return its form fields."""
    page = await h.http.get(assert_consent_redirect(await h.http.get(authorize_url(client_id, **overrides))))
    assert page.status_code == 200, page.text
    return parse_form(page.text).fields


async def approve(h: Harness, fields: dict[str, str], **extra: str) -> httpx2.Response:
    """Submit the consent form with Allow, as our own page would."""
    return await h.http.post(f"{PUBLIC}/consent", data={**fields, "action": "approve", **extra}, headers=SAME_ORIGIN)


async def sign_in_at_spotify(h: Harness, to_spotify: httpx2.Response, **fields: str) -> str:
    """Sign in at the emulator after consent; return the /callback URL Spotify sends the browser to."""
    assert to_spotify.status_code == 302, to_spotify.text
    assert to_spotify.headers["location"].startswith(f"{EMULATOR}/authorize?")
    sign_in = await h.http.get(to_spotify.headers["location"])
    form = parse_form(sign_in.text)
    back = await h.http.post(f"{EMULATOR}{form.action}", data={**form.fields, "action": "approve", **fields})
    location: str = back.headers["location"]
    assert location.startswith(f"{PUBLIC}/callback?"), location
    return location


async def spotify_callback(h: Harness, client_id: str, **overrides: str | None) -> str:
    """Run an authorization up to Spotify's redirect back to us; return that /callback URL."""
    return await sign_in_at_spotify(h, await approve(h, await consent_form(h, client_id, **overrides)))


SAME_ORIGIN = {"Origin": PUBLIC, "Sec-Fetch-Site": "same-origin"}
