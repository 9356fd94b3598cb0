"""The accounts service's /authorize: the sign-in page, its form, and Spotify's error behaviour."""

from __future__ import annotations

import httpx2
import pytest

from spotify_mcp.emulator import EmulatorConfig, create_emulator_app
from tests.emulator.flow import CLIENT_ID, REDIRECT_URI, authorize, parse_sign_in_form, pkce_pair, query_of

pytestmark = pytest.mark.anyio


def params(**overrides: str | None) -> dict[str, str]:
    base: dict[str, str | None] = {
        "client_id": CLIENT_ID,
        "response_type": "code",
        "redirect_uri": REDIRECT_URI,
        "scope": "user-read-private playlist-read-private",
        "state": "s1",
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


async def test_the_sign_in_page_is_a_plain_form_with_the_premium_user_preselected(client: httpx2.AsyncClient) -> None:
    page = await client.get("/authorize", params=params(show_dialog="true"))
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    form = parse_sign_in_form(page.text)
    assert (form.method, form.action) == ("post", "/authorize")
    assert form.hidden == params(show_dialog="true")
    assert form.users == ["premium-user", "free-user", "unlisted-user"]
    assert form.checked_user == "premium-user"
    assert ("action", "approve") in form.buttons
    assert ("action", "deny") in form.buttons


async def test_approving_redirects_with_a_code_and_the_state(client: httpx2.AsyncClient) -> None:
    response = await authorize(client, state="xyz")
    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith(REDIRECT_URI + "?")
    query = query_of(location)
    assert query["state"] == "xyz"
    assert query["code"].startswith("AQ")


async def test_without_a_state_the_redirect_carries_only_the_code(client: httpx2.AsyncClient) -> None:
    response = await authorize(client, state=None)
    assert set(query_of(response.headers["location"])) == {"code"}


async def test_denying_redirects_with_access_denied(client: httpx2.AsyncClient) -> None:
    response = await authorize(client, action="deny", state="abc")
    assert response.status_code == 302
    assert query_of(response.headers["location"]) == {"error": "access_denied", "state": "abc"}


async def test_an_unknown_client_gets_an_error_page_not_a_redirect(client: httpx2.AsyncClient) -> None:
    response = await client.get("/authorize", params=params(client_id="nope"))
    assert response.status_code == 400
    assert "location" not in response.headers
    assert "INVALID_CLIENT: Invalid client" in response.text


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "http://127.0.0.1:8000/other",
        "http://localhost:8000/callback",
        "https://evil.example/callback",
        "http://127.0.0.1:8000/callback/",
        "http://127.0.0.1:8000/callback#frag",
        None,
    ],
)
async def test_an_unregistered_redirect_uri_gets_an_error_page(
    client: httpx2.AsyncClient, redirect_uri: str | None
) -> None:
    response = await client.get("/authorize", params=params(redirect_uri=redirect_uri))
    assert response.status_code == 400
    assert "location" not in response.headers
    assert "INVALID_CLIENT: Invalid redirect URI" in response.text


async def test_a_loopback_redirect_uri_may_use_any_port(client: httpx2.AsyncClient) -> None:
    response = await authorize(client, redirect_uri="http://127.0.0.1:53123/callback")
    assert response.headers["location"].startswith("http://127.0.0.1:53123/callback?code=")


def test_localhost_is_refused_even_when_registered() -> None:
    config = EmulatorConfig("c", "s", ["http://localhost:8000/callback", "http://[::1]/cb", "https://app.example/cb"])
    assert not config.accepts_redirect_uri("http://localhost:8000/callback")
    assert config.accepts_redirect_uri("http://[::1]:4711/cb")
    assert config.accepts_redirect_uri("https://app.example/cb")
    assert not config.accepts_redirect_uri("https://app.example:8443/cb")


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"response_type": None}, "invalid_request"),
        ({"scope": "user-read-private user-read-minds"}, "invalid_scope"),
        ({"code_challenge_method": "plain", "code_challenge": pkce_pair()[1]}, "invalid_request"),
        ({"code_challenge_method": "S256"}, "invalid_request"),
        ({"code_challenge": pkce_pair()[1]}, "invalid_request"),
        ({"code_challenge_method": "S256", "code_challenge": "short"}, "invalid_request"),
    ],
)
async def test_other_invalid_requests_redirect_back_with_an_error(
    client: httpx2.AsyncClient, overrides: dict[str, str | None], error: str
) -> None:
    response = await client.get("/authorize", params=params(**overrides))
    assert response.status_code == 302
    assert query_of(response.headers["location"]) == {"error": error, "state": "s1"}


async def test_the_submitted_form_is_validated_again(client: httpx2.AsyncClient) -> None:
    form = {**params(redirect_uri="https://evil.example/cb"), "user": "premium-user", "action": "approve"}
    response = await client.post("/authorize", data=form)
    assert response.status_code == 400
    assert "Invalid redirect URI" in response.text


@pytest.mark.parametrize(
    "extra",
    [{"user": "sam-curator", "action": "approve"}, {"user": "nobody", "action": "approve"}, {"user": "free-user"}],
)
async def test_a_submission_without_a_test_user_or_decision_is_refused(
    client: httpx2.AsyncClient, extra: dict[str, str]
) -> None:
    response = await client.post("/authorize", data={**params(), **extra})
    assert response.status_code == 400
    assert "location" not in response.headers


async def test_the_sign_in_page_escapes_what_it_echoes(client: httpx2.AsyncClient) -> None:
    state = '"><script>alert(1)</script>'
    page = await client.get("/authorize", params=params(state=state))
    assert "<script>" not in page.text
    assert parse_sign_in_form(page.text).hidden["state"] == state


async def test_the_not_allow_listed_user_can_still_sign_in(client: httpx2.AsyncClient) -> None:
    response = await authorize(client, user="unlisted-user")
    assert "code" in query_of(response.headers["location"])


async def test_a_redirect_uri_with_a_query_keeps_it() -> None:
    app = create_emulator_app(EmulatorConfig(CLIENT_ID, "s", ["https://app.example/cb?tenant=1"]))
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://e") as c:
        response = await authorize(c, redirect_uri="https://app.example/cb?tenant=1")
    assert response.headers["location"].startswith("https://app.example/cb?tenant=1&code=")
