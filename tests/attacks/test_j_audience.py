"""Catalogue group J: resource indicators (RFC 8707) and the audience of our tokens.

This server protects exactly one resource, its MCP endpoint (``settings.mcp_url``); every token is bound to it
and ``/mcp`` accepts only tokens bound to it (the foreign-audience side is L4 in ``test_l_resource_server.py``).

Policies:

* J5: an omitted ``resource`` (at /authorize, /token or both) means the MCP endpoint; the token is bound to it.
* J1: any fragment, even an empty one (``…/mcp#``), is refused with ``invalid_target`` (RFC 8707).
* J6: ``resource`` is compared with the MCP endpoint after one documented normalisation (``same_resource``):
  scheme and host are case-insensitive and trailing slashes are ignored. Path case, port, host spelling
  (``localhost`` for ``127.0.0.1``), scheme, query and fragment must match exactly.
* J7: a repeated parameter of any kind is refused, so several ``resource`` values never reach the audience
  check: ``invalid_request`` as JSON at /token, and at /authorize a redirect with ``invalid_request`` (or an
  error page when the client or redirect URI is the repeated one).
* Every refusal at /token leaves the code (or refresh token) usable.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from spotify_mcp.clock import ManualClock
from tests.attacks.support_gm import MCP, TOKEN, mcp_status, refresh, serve, tokens_for
from tests.support import CLIENT_REDIRECT, PUBLIC, Harness, code_form, pkce

pytestmark = pytest.mark.anyio


@pytest.fixture
def clock() -> ManualClock:
    """A clock the test moves by hand."""
    return ManualClock()


@pytest.fixture
async def h(tmp_path: Path, clock: ManualClock) -> AsyncIterator[Harness]:
    """A running server wired to the emulator."""
    async with serve(tmp_path, clock=clock) as running:
        yield running


def authorize_url(client_id: str, **extra: str) -> str:
    _, challenge = pkce()
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": CLIENT_REDIRECT,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "state": "s-1",
        **extra,
    }
    return f"{PUBLIC}/authorize?{urlencode(params)}"


async def assert_refused_everywhere(h: Harness, resources: Sequence[str]) -> None:
    """Each resource: redir(invalid_target) at /authorize, json 400 invalid_target at /token; the code survives."""
    client = await h.register()
    for resource in resources:
        response = await h.http.get(authorize_url(client["client_id"], resource=resource))
        assert response.status_code == 302, resource
        location = response.headers["location"]
        assert location.startswith(CLIENT_REDIRECT)
        query = parse_qs(urlsplit(location).query)
        assert query["error"] == ["invalid_target"], resource
        assert query["state"] == ["s-1"]
        assert query["iss"] == [PUBLIC]
    query, verifier = await h.authorize(client["client_id"])
    form = code_form(query["code"][0], verifier, client["client_id"])
    for resource in resources:
        response = await h.http.post(TOKEN, data={**form, "resource": resource})
        assert response.status_code == 400, resource
        assert response.json()["error"] == "invalid_target", resource
    assert (await h.http.post(TOKEN, data={**form, "resource": MCP})).status_code == 200


async def test_j01_a_resource_with_a_fragment_is_invalid_target(h: Harness) -> None:
    await assert_refused_everywhere(h, [f"{MCP}#frag", f"{MCP}/#x", f"{MCP}#{MCP}", f"{MCP}#"])


async def test_j02_a_relative_or_non_url_resource_is_invalid_target(h: Harness) -> None:
    await assert_refused_everywhere(h, ["/mcp", "mcp", "//127.0.0.1:8000/mcp", "urn:example:mcp", "127.0.0.1:8000/mcp"])


async def test_j03_a_foreign_resource_never_gets_a_token(h: Harness) -> None:
    await assert_refused_everywhere(
        h,
        [
            "https://api.spotify.com/",
            "https://api.spotify.com/v1",
            "https://evil.example/mcp",
            "http://127.0.0.1:9000/mcp",
        ],
    )


async def test_j04_a_token_request_resource_that_differs_from_or_extends_ours_consumes_nothing(h: Harness) -> None:
    client = await h.register()
    query, verifier = await h.authorize(client["client_id"], resource=MCP)
    form = code_form(query["code"][0], verifier, client["client_id"])
    for resource in (f"{MCP}/tools", f"{MCP}/../admin", PUBLIC, f"{PUBLIC}/", f"{PUBLIC}/sse"):
        response = await h.http.post(TOKEN, data={**form, "resource": resource})
        assert response.status_code == 400, resource
        assert response.json()["error"] == "invalid_target"
    redeemed = await h.http.post(TOKEN, data={**form, "resource": MCP})
    assert redeemed.status_code == 200
    assert await mcp_status(h, redeemed.json()["access_token"]) != 401


@pytest.mark.parametrize(("at_authorize", "at_token"), [(False, False), (False, True), (True, False)])
async def test_j05_an_omitted_resource_means_the_mcp_endpoint(h: Harness, at_authorize: bool, at_token: bool) -> None:
    client = await h.register()
    query, verifier = await h.authorize(client["client_id"], resource=MCP if at_authorize else "")
    form = code_form(query["code"][0], verifier, client["client_id"], **({"resource": MCP} if at_token else {}))
    response = await h.http.post(TOKEN, data=form)
    assert response.status_code == 200, response.text
    assert await mcp_status(h, response.json()["access_token"]) != 401


@pytest.mark.parametrize(
    ("resource", "accepted"),
    [
        ("HTTP://127.0.0.1:8000/mcp", True),
        ("http://127.0.0.1:8000/mcp/", True),
        ("http://127.0.0.1:8000/MCP", False),
        ("http://127.0.0.1:8000/mcp//", True),
        ("http://127.0.0.1:8000/mcp/x/..", False),
        ("http://127.0.0.1:8000/mcp?x=1", False),
        ("http://127.0.0.1/mcp", False),
        ("http://localhost:8000/mcp", False),
        ("https://127.0.0.1:8000/mcp", False),
    ],
)
async def test_j06_variants_of_the_canonical_uri_follow_one_documented_normalisation(
    h: Harness, resource: str, accepted: bool
) -> None:
    client = await h.register()
    response = await h.http.get(authorize_url(client["client_id"], resource=resource))
    location = response.headers["location"]
    if accepted:
        assert location.startswith(f"{PUBLIC}/consent"), location
    else:
        assert parse_qs(urlsplit(location).query)["error"] == ["invalid_target"]
    query, verifier = await h.authorize(client["client_id"])
    token = await h.http.post(TOKEN, data=code_form(query["code"][0], verifier, client["client_id"], resource=resource))
    assert (token.status_code == 200) is accepted, token.text


async def test_j07_several_resource_values_are_refused(h: Harness) -> None:
    client = await h.register()
    url = authorize_url(client["client_id"], resource=MCP) + "&" + urlencode({"resource": "https://evil.example/"})
    refused = await h.http.get(url)
    if refused.status_code == 302:
        location = refused.headers["location"]
        assert location.startswith(CLIENT_REDIRECT), location
        assert parse_qs(urlsplit(location).query)["error"] == ["invalid_request"]
    else:
        assert refused.status_code == 400
        assert "location" not in refused.headers
    query, verifier = await h.authorize(client["client_id"])
    form = code_form(query["code"][0], verifier, client["client_id"], resource=MCP)
    body = urlencode(form) + "&" + urlencode({"resource": "https://evil.example/"})
    response = await h.http.post(TOKEN, content=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert (await h.http.post(TOKEN, data=form)).status_code == 200


async def test_j08_a_refresh_for_another_resource_is_invalid_target_and_rotates_nothing(h: Harness) -> None:
    client_id, tokens = await tokens_for(h)
    for resource in ("https://api.spotify.com/", f"{MCP}#x", f"{MCP}/other"):
        response = await refresh(h, client_id, tokens["refresh_token"], resource=resource)
        assert response.status_code == 400, resource
        assert response.json()["error"] == "invalid_target"
    assert (await refresh(h, client_id, tokens["refresh_token"], resource=MCP)).status_code == 200
