"""The accounts client: authorize URL, token requests, strict parsing, and errors that carry no token."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest

from spotify_mcp.spotify.accounts import SpotifyAccounts, SpotifyTokens
from spotify_mcp.spotify.errors import SpotifyAuthError, SpotifyUnavailable
from tests.spotify.conftest import ACCOUNTS_URL, CLIENT_ID, CLIENT_SECRET

GOOD = {
    "access_token": "secret-access",
    "token_type": "Bearer",
    "expires_in": 3600,
    "scope": "user-read-private user-top-read",
    "refresh_token": "secret-refresh",
}


def _accounts(http: httpx2.AsyncClient) -> SpotifyAccounts:
    return SpotifyAccounts(http, accounts_url=ACCOUNTS_URL + "/", client_id=CLIENT_ID, client_secret=CLIENT_SECRET)


def _client(status: int, body: object, seen: list[httpx2.Request] | None = None) -> httpx2.AsyncClient:
    def handler(request: httpx2.Request) -> httpx2.Response:
        if seen is not None:
            seen.append(request)
        return httpx2.Response(status, json=body)

    return httpx2.AsyncClient(transport=httpx2.MockTransport(handler))


@pytest.mark.anyio
async def test_authorize_url_carries_client_pkce_state_and_space_separated_scopes() -> None:
    async with _client(200, {}) as http:
        accounts = SpotifyAccounts(http, accounts_url=ACCOUNTS_URL, client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    url = accounts.authorize_url(
        redirect_uri="http://127.0.0.1:8000/callback",
        state="st&ate",
        code_challenge="challenge",
        scopes=["user-read-private", "user-top-read"],
    )
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{ACCOUNTS_URL}/authorize"
    assert "+" not in parts.query
    assert parse_qs(parts.query) == {
        "client_id": [CLIENT_ID],
        "response_type": ["code"],
        "redirect_uri": ["http://127.0.0.1:8000/callback"],
        "state": ["st&ate"],
        "scope": ["user-read-private user-top-read"],
        "code_challenge_method": ["S256"],
        "code_challenge": ["challenge"],
    }
    assert CLIENT_SECRET not in url


@pytest.mark.anyio
async def test_code_exchange_posts_a_form_with_basic_client_auth() -> None:
    seen: list[httpx2.Request] = []
    async with _client(200, GOOD, seen) as http:
        tokens = await _accounts(http).exchange_code(code="the-code", redirect_uri="https://x/cb", code_verifier="v")
    assert tokens == SpotifyTokens("secret-access", "secret-refresh", 3600, ("user-read-private", "user-top-read"))
    request = seen[0]
    assert request.method == "POST"
    assert str(request.url) == f"{ACCOUNTS_URL}/api/token"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    assert request.headers["authorization"] == f"Basic {expected}"
    assert parse_qs(request.content.decode()) == {
        "grant_type": ["authorization_code"],
        "code": ["the-code"],
        "redirect_uri": ["https://x/cb"],
        "code_verifier": ["v"],
    }


@pytest.mark.anyio
async def test_a_refresh_answer_without_a_refresh_token_says_none() -> None:
    seen: list[httpx2.Request] = []
    body = {k: v for k, v in GOOD.items() if k != "refresh_token"}
    async with _client(200, body, seen) as http:
        tokens = await _accounts(http).refresh("old-refresh")
    assert tokens.refresh_token is None
    assert tokens.access_token == "secret-access"
    assert parse_qs(seen[0].content.decode()) == {
        "grant_type": ["refresh_token"],
        "refresh_token": ["old-refresh"],
    }


@pytest.mark.anyio
async def test_a_code_exchange_without_a_refresh_token_is_rejected() -> None:
    body = {k: v for k, v in GOOD.items() if k != "refresh_token"}
    async with _client(200, body) as http:
        with pytest.raises(SpotifyAuthError) as info:
            await _accounts(http).exchange_code(code="c", redirect_uri="https://x/cb", code_verifier="v")
    assert info.value.error == "invalid_response"


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("access_token", None),
        ("access_token", ""),
        ("token_type", None),
        ("token_type", "mac"),
        ("expires_in", None),
        ("expires_in", "3600"),
        ("expires_in", True),
        ("expires_in", 0),
        ("scope", None),
        ("refresh_token", 42),
    ],
)
async def test_a_token_answer_with_a_missing_or_malformed_field_is_rejected(field: str, value: object) -> None:
    body = dict(GOOD)
    if value is None:
        del body[field]
    else:
        body[field] = value
    async with _client(200, body) as http:
        with pytest.raises(SpotifyAuthError) as info:
            await _accounts(http).refresh("r")
    assert info.value.error == "invalid_response"
    assert "secret-access" not in str(info.value)


@pytest.mark.anyio
@pytest.mark.parametrize("body", [["not", "an", "object"], "text"])
async def test_a_token_answer_that_is_not_a_json_object_is_rejected(body: object) -> None:
    async with _client(200, body) as http:
        with pytest.raises(SpotifyAuthError, match="invalid_response"):
            await _accounts(http).refresh("r")


@pytest.mark.anyio
@pytest.mark.parametrize("status", [400, 401])
async def test_an_error_body_becomes_a_spotify_auth_error_with_code_and_description(status: int) -> None:
    body = {"error": "invalid_grant", "error_description": "Refresh token revoked"}
    async with _client(status, body) as http:
        with pytest.raises(SpotifyAuthError) as info:
            await _accounts(http).refresh("my-secret-refresh-token")
    assert (info.value.error, info.value.description, info.value.status) == (
        "invalid_grant",
        "Refresh token revoked",
        status,
    )
    assert "my-secret-refresh-token" not in str(info.value)


@pytest.mark.anyio
async def test_an_error_status_without_an_error_body_is_an_invalid_response() -> None:
    async with _client(403, {"unexpected": True}) as http:
        with pytest.raises(SpotifyAuthError) as info:
            await _accounts(http).refresh("r")
    assert (info.value.error, info.value.status) == ("invalid_response", 403)


@pytest.mark.anyio
@pytest.mark.parametrize("status", [429, 500, 503])
async def test_a_rate_limit_or_server_error_from_accounts_means_unavailable(status: int) -> None:
    async with _client(status, {"error": "server_error"}) as http:
        with pytest.raises(SpotifyUnavailable, match=str(status)):
            await _accounts(http).refresh("r")


@pytest.mark.anyio
@pytest.mark.parametrize("exc", [httpx2.ReadTimeout("slow"), httpx2.ConnectError("refused")])
async def test_timeouts_and_connection_errors_mean_unavailable_and_name_no_token(exc: Exception) -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        raise exc

    async with httpx2.AsyncClient(transport=httpx2.MockTransport(handler)) as http:
        with pytest.raises(SpotifyUnavailable) as info:
            await _accounts(http).refresh("my-secret-refresh-token")
    assert "my-secret-refresh-token" not in str(info.value)
    assert info.value.__cause__ is None


def test_tokens_are_left_out_of_the_repr() -> None:
    text = repr(SpotifyTokens("secret-access", "secret-refresh", 3600, ("user-read-private",)))
    assert "secret" not in text
    assert "3600" in text
