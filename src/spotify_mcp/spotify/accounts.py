"""Spotify's accounts service: the authorize URL, the code exchange and token refresh."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

import httpx2

from spotify_mcp.scopes import format_scope, parse_scope
from spotify_mcp.spotify.errors import SpotifyAuthError, SpotifyUnavailable


@dataclass(frozen=True, slots=True)
class SpotifyTokens:
    """A token response from Spotify; ``refresh_token`` is None when a refresh did not rotate it."""

    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    expires_in: int
    scopes: tuple[str, ...]


class SpotifyAccounts:
    """An OAuth client of ``accounts.spotify.com`` (or the emulator).

    Confidential (HTTP Basic with the client secret) when ``client_secret`` is given; otherwise a public PKCE
    client, which names itself with ``client_id`` in the token request body, as Spotify's PKCE flow does.
    """

    def __init__(
        self, http: httpx2.AsyncClient, *, accounts_url: str, client_id: str, client_secret: str | None
    ) -> None:
        self._http = http
        self._base = accounts_url.rstrip("/")
        self._client_id = client_id
        self._auth_header: str | None = None
        if client_secret is not None:
            basic = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode("ascii")
            self._auth_header = f"Basic {basic}"

    def authorize_url(self, *, redirect_uri: str, state: str, code_challenge: str, scopes: Sequence[str]) -> str:
        """Return the Spotify consent URL for an authorization-code flow with PKCE (S256)."""
        query = urlencode(
            {
                "client_id": self._client_id,
                "response_type": "code",
                "redirect_uri": redirect_uri,
                "state": state,
                "scope": format_scope(scopes),
                "code_challenge_method": "S256",
                "code_challenge": code_challenge,
            },
            quote_via=quote,
        )
        return f"{self._base}/authorize?{query}"

    async def exchange_code(self, *, code: str, redirect_uri: str, code_verifier: str) -> SpotifyTokens:
        """Redeem an authorization code; the answer must include a refresh token."""
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": code_verifier,
        }
        tokens = await self._token_request(form)
        if tokens.refresh_token is None:
            raise SpotifyAuthError("invalid_response", "the code exchange returned no refresh_token", 200)
        return tokens

    async def refresh(self, refresh_token: str) -> SpotifyTokens:
        """Trade a refresh token for a new access token (and perhaps a new refresh token)."""
        return await self._token_request({"grant_type": "refresh_token", "refresh_token": refresh_token})

    async def _token_request(self, form: Mapping[str, str]) -> SpotifyTokens:
        headers = {"Accept": "application/json"}
        fields = dict(form)
        if self._auth_header is not None:
            headers["Authorization"] = self._auth_header
        else:
            fields["client_id"] = self._client_id
        try:
            response = await self._http.post(f"{self._base}/api/token", data=fields, headers=headers)
        except httpx2.TimeoutException:
            raise SpotifyUnavailable("the Spotify accounts service timed out") from None
        except httpx2.RequestError as exc:
            raise SpotifyUnavailable(
                f"the Spotify accounts service could not be reached ({type(exc).__name__})"
            ) from None
        status = response.status_code
        if status == 429 or status >= 500:
            raise SpotifyUnavailable(f"the Spotify accounts service answered HTTP {status}")
        body = _json_object(response.content)
        if status != 200:
            if body is not None and isinstance(body.get("error"), str):
                description = body.get("error_description")
                raise SpotifyAuthError(body["error"], description if isinstance(description, str) else None, status)
            raise SpotifyAuthError("invalid_response", f"unexpected HTTP {status} without an error body", status)
        if body is None:
            raise SpotifyAuthError("invalid_response", "the token response is not a JSON object", status)
        return _parse_tokens(body, status)


def _json_object(content: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(content)
    except (ValueError, UnicodeDecodeError):
        return None
    return value if isinstance(value, dict) else None


def _parse_tokens(body: Mapping[str, Any], status: int) -> SpotifyTokens:
    def bad(what: str) -> SpotifyAuthError:
        return SpotifyAuthError("invalid_response", f"the token response {what}", status)

    access_token = body.get("access_token")
    if not isinstance(access_token, str) or not access_token:
        raise bad("has no access_token")
    token_type = body.get("token_type")
    if not isinstance(token_type, str) or token_type.lower() != "bearer":
        raise bad("has no Bearer token_type")
    expires_in = body.get("expires_in")
    if isinstance(expires_in, bool) or not isinstance(expires_in, int) or expires_in <= 0:
        raise bad("has no positive integer expires_in")
    scope = body.get("scope")
    if not isinstance(scope, str):
        raise bad("has no scope")
    refresh_token = body.get("refresh_token")
    if refresh_token is not None and (not isinstance(refresh_token, str) or not refresh_token):
        raise bad("has a malformed refresh_token")
    return SpotifyTokens(
        access_token=access_token,
        refresh_token=refresh_token,
        expires_in=expires_in,
        scopes=parse_scope(scope),
    )
