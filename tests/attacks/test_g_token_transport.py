"""Catalogue group G: the token endpoint's transport and client authentication.

Covered elsewhere:

* G6 (a wrong secret in ``Authorization: Basic`` gets 401 ``invalid_client`` with ``WWW-Authenticate: Basic``,
  and the code survives it): ``tests/flow/test_tokens.py``,
  ``test_a_confidential_client_authenticates_with_basic_and_must_not_skip_it``.

Policies where the catalogue leaves a choice:

* G1: ``GET /token`` is answered 405 by the router (the token endpoint is POST-only).
* G3: the token endpoint takes no query string at all: a URL carrying parameters is refused with
  ``invalid_request`` before anything else is looked at, whatever the body says.
* G5: this server implements no ``client_credentials`` grant for anyone (there is no machine identity that
  could act on a Spotify account), so it is ``unsupported_grant_type``, not ``unauthorized_client``.
* G9: a confidential client must use exactly the method it registered (``client_secret_basic`` or
  ``client_secret_post``); a public client (``none``) must not send a secret.
* G11: client ids are not secrets (``/authorize`` already tells whether one exists), so the descriptions of
  "unknown client" and "wrong secret" may differ; status, error code and challenge are the same.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from spotify_mcp.clock import ManualClock
from tests.attacks.support_gm import DESCRIPTION_CHARS, MCP, TOKEN, basic, refresh, serve, tokens_for
from tests.support import Harness, code_form

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


async def confidential(h: Harness, method: str) -> tuple[dict[str, Any], dict[str, str]]:
    """Register a confidential client and run the browser leg; return the client and an unauthenticated form."""
    client = await h.register(token_endpoint_auth_method=method)
    query, verifier = await h.authorize(client["client_id"])
    return client, code_form(query["code"][0], verifier, resource=MCP)


def assert_oauth_error(response: Any, status: int, error: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["cache-control"] == "no-store"
    assert response.json()["error"] == error


async def test_g01_get_token_is_not_allowed(h: Harness) -> None:
    client_id, _ = await tokens_for(h)
    response = await h.http.get(TOKEN, params={"grant_type": "refresh_token", "client_id": client_id})
    assert response.status_code == 405


async def test_g02_a_json_body_is_invalid_request_and_consumes_nothing(h: Harness) -> None:
    client = await h.register()
    query, verifier = await h.authorize(client["client_id"])
    form = code_form(query["code"][0], verifier, client["client_id"])
    as_json = await h.http.post(TOKEN, json=form)
    assert_oauth_error(as_json, 400, "invalid_request")
    assert (await h.http.post(TOKEN, data=form)).status_code == 200


@pytest.mark.parametrize("in_url", ["client_secret", "code"])
async def test_g03_credentials_in_the_url_are_refused_never_accepted(h: Harness, in_url: str) -> None:
    client, form = await confidential(h, "client_secret_post")
    body = {**form, "client_id": client["client_id"], "client_secret": client["client_secret"]}
    query = {in_url: body.pop(in_url)}
    refused = await h.http.post(TOKEN, params=query, data=body)
    assert_oauth_error(refused, 400, "invalid_request")
    # The refusal consumed nothing: the same request, with everything in the body, succeeds.
    assert (await h.http.post(TOKEN, data={**body, **query})).status_code == 200


@pytest.mark.parametrize(
    ("grant_type", "error"),
    [
        (None, "invalid_request"),
        ("", "invalid_request"),
        ("urn:ietf:params:oauth:grant-type:device_code", "unsupported_grant_type"),
        ("implicit", "unsupported_grant_type"),
    ],
)
async def test_g04_a_missing_or_unknown_grant_type(h: Harness, grant_type: str | None, error: str) -> None:
    client = await h.register()
    form = {"client_id": client["client_id"], **({"grant_type": grant_type} if grant_type is not None else {})}
    assert_oauth_error(await h.http.post(TOKEN, data=form), 400, error)


@pytest.mark.parametrize("method", ["none", "client_secret_post"])
async def test_g05_client_credentials_is_not_a_grant_here(h: Harness, method: str) -> None:
    client = await h.register(token_endpoint_auth_method=method)
    form = {"grant_type": "client_credentials", "client_id": client["client_id"]}
    if "client_secret" in client:
        form["client_secret"] = client["client_secret"]
    response = await h.http.post(TOKEN, data=form)
    assert_oauth_error(response, 400, "unsupported_grant_type")
    assert "access_token" not in response.text
    metadata = (await h.http.get(f"{h.settings.public_url}/.well-known/oauth-authorization-server")).json()
    assert "client_credentials" not in metadata["grant_types_supported"]


async def test_g07_a_wrong_post_secret_is_invalid_client_and_does_not_consume_the_code(h: Harness) -> None:
    client, form = await confidential(h, "client_secret_post")
    wrong = await h.http.post(TOKEN, data={**form, "client_id": client["client_id"], "client_secret": "smcp_cs_no"})
    assert_oauth_error(wrong, 401, "invalid_client")
    right = await h.http.post(
        TOKEN, data={**form, "client_id": client["client_id"], "client_secret": client["client_secret"]}
    )
    assert right.status_code == 200, right.text


async def test_g08_two_authentication_methods_at_once_are_invalid_request(h: Harness) -> None:
    client, form = await confidential(h, "client_secret_basic")
    both = await h.http.post(
        TOKEN,
        data={**form, "client_secret": client["client_secret"]},
        headers=basic(client["client_id"], client["client_secret"]),
    )
    assert_oauth_error(both, 400, "invalid_request")
    good = await h.http.post(TOKEN, data=form, headers=basic(client["client_id"], client["client_secret"]))
    assert good.status_code == 200, good.text


async def test_g09_the_registered_method_is_enforced_exactly(h: Harness) -> None:
    # Registered client_secret_basic, presents the secret in the body.
    as_basic, form = await confidential(h, "client_secret_basic")
    posted = await h.http.post(
        TOKEN, data={**form, "client_id": as_basic["client_id"], "client_secret": as_basic["client_secret"]}
    )
    assert_oauth_error(posted, 401, "invalid_client")
    # Registered client_secret_post, presents the secret in a Basic header.
    as_post, form = await confidential(h, "client_secret_post")
    header = await h.http.post(TOKEN, data=form, headers=basic(as_post["client_id"], as_post["client_secret"]))
    assert_oauth_error(header, 401, "invalid_client")
    assert "Basic" in header.headers["www-authenticate"]
    # A public client sends a secret.
    public = await h.register()
    query, verifier = await h.authorize(public["client_id"])
    with_secret = code_form(query["code"][0], verifier, public["client_id"], client_secret="smcp_cs_made_up")
    assert_oauth_error(await h.http.post(TOKEN, data=with_secret), 401, "invalid_client")
    # None of those refusals consumed the public client's code.
    assert (
        await h.http.post(TOKEN, data=code_form(query["code"][0], verifier, public["client_id"]))
    ).status_code == 200


async def test_g10_basic_credentials_are_form_url_decoded_and_odd_ones_never_crash(h: Harness) -> None:
    client, form = await confidential(h, "client_secret_basic")
    encoded = basic(quote(client["client_id"], safe=""), "".join(f"%{b:02X}" for b in client["client_secret"].encode()))
    assert (await h.http.post(TOKEN, data=form, headers=encoded)).status_code == 200
    for client_id, secret in [("a:b", "c:d"), ("100%", "%zz"), ("a+b", "c+d"), ("", ""), ("é", "ü")]:
        response = await h.http.post(TOKEN, data=form, headers=basic(client_id, secret))
        assert_oauth_error(response, 401, "invalid_client")
    garbage = await h.http.post(TOKEN, data=form, headers={"Authorization": "Basic !!!not-base64"})
    assert_oauth_error(garbage, 401, "invalid_client")


async def test_g11_an_unknown_client_and_a_wrong_secret_look_alike(h: Harness) -> None:
    client, form = await confidential(h, "client_secret_basic")
    unknown = await h.http.post(TOKEN, data=form, headers=basic("smcp_client_doesnotexist", client["client_secret"]))
    wrong = await h.http.post(TOKEN, data=form, headers=basic(client["client_id"], "smcp_cs_wrong"))
    for response in (unknown, wrong):
        assert_oauth_error(response, 401, "invalid_client")
    assert unknown.headers["www-authenticate"] == wrong.headers["www-authenticate"]
    assert set(unknown.json()) == set(wrong.json())


async def test_g12_a_repeated_body_parameter_is_invalid_request_and_consumes_nothing(h: Harness) -> None:
    client = await h.register()
    query, verifier = await h.authorize(client["client_id"])
    form = code_form(query["code"][0], verifier, client["client_id"])
    repeated = "&".join(f"{k}={quote(v, safe='')}" for k, v in form.items()) + "&code=other"
    response = await h.http.post(TOKEN, content=repeated, headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert_oauth_error(response, 400, "invalid_request")
    assert (await h.http.post(TOKEN, data=form)).status_code == 200


async def test_g13_every_token_response_is_json_and_never_cached(h: Harness) -> None:
    client_id, tokens = await tokens_for(h)
    responses = [
        await refresh(h, client_id, tokens["refresh_token"]),
        await refresh(h, client_id, "smcp_rt_unknown"),
        await h.http.post(TOKEN, data={"grant_type": "refresh_token", "client_id": "smcp_client_nobody"}),
        await h.http.post(TOKEN, data={"grant_type": "password", "client_id": client_id}),
        await h.http.post(TOKEN, data={"client_id": client_id}),
        await h.http.post(
            TOKEN, content=b"x=" + b"a" * 70_000, headers={"Content-Type": "application/x-www-form-urlencoded"}
        ),
        await h.http.post(TOKEN, content=b"{}", headers={"Content-Type": "application/json"}),
    ]
    assert [r.status_code for r in responses] == [200, 400, 401, 400, 400, 413, 400]
    for response in responses:
        assert response.headers["content-type"].startswith("application/json"), response.status_code
        assert response.headers["cache-control"] == "no-store", response.status_code


async def test_g14_error_descriptions_use_only_the_allowed_characters_and_leak_nothing(h: Harness) -> None:
    client, form = await confidential(h, "client_secret_post")
    public_id, tokens = await tokens_for(h)
    weird = 'é"\\<script>\x00' * 3
    attempts = [
        {**form, "client_id": client["client_id"], "client_secret": weird},
        {**form, "client_id": weird},
        {**form, "client_id": "http://127.0.0.1/" + weird},
        {**form, "client_id": public_id, "code": weird},
        {**form, "client_id": public_id, "code_verifier": weird},
        {**form, "client_id": public_id, "resource": weird},
        {"grant_type": weird, "client_id": public_id},
        {
            "grant_type": "refresh_token",
            "client_id": public_id,
            "refresh_token": tokens["refresh_token"],
            "scope": weird,
        },
        {"grant_type": "refresh_token", "client_id": public_id, "refresh_token": weird},
    ]
    for data in attempts:
        response = await h.http.post(TOKEN, data=data)
        assert response.status_code in (400, 401), response.text
        description = response.json().get("error_description", "")
        assert set(description) <= DESCRIPTION_CHARS, description
        for leak in ("Traceback", 'File "', "sqlite", "SELECT", "/work/", "smcp_rt_", "smcp_cs_"):
            assert leak not in description, description
    # The refusals above did not cost the public client its grant.
    assert (await refresh(h, public_id, tokens["refresh_token"])).status_code == 200
