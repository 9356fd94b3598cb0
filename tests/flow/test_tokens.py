"""/token and /revoke: code exchange, replay, rotation, reuse detection, revocation, confidential clients."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from spotify_mcp.clock import ManualClock
from tests.support import CLIENT_REDIRECT, PUBLIC, Harness, code_form

pytestmark = pytest.mark.anyio

RPC = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


async def exchange(h: Harness, client_id: str, **overrides: str) -> Any:
    query, verifier = await h.authorize(client_id)
    form = {
        "grant_type": "authorization_code",
        "code": query["code"][0],
        "redirect_uri": CLIENT_REDIRECT,
        "code_verifier": verifier,
        "client_id": client_id,
        **overrides,
    }
    return await h.http.post(f"{PUBLIC}/token", data=form), form


async def refresh(h: Harness, client_id: str, token: str) -> Any:
    return await h.http.post(
        f"{PUBLIC}/token",
        data={"grant_type": "refresh_token", "refresh_token": token, "client_id": client_id},
    )


async def authorized_status(h: Harness, access_token: str) -> int:
    response = await h.http.post(
        f"{PUBLIC}/mcp", json=RPC, headers={**MCP_HEADERS, "Authorization": f"Bearer {access_token}"}
    )
    return response.status_code


async def test_a_code_is_exchanged_for_our_own_tokens(h: Harness) -> None:
    client = await h.register()
    response, _ = await exchange(h, client["client_id"])
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["access_token"].startswith("smcp_at_")
    assert body["refresh_token"].startswith("smcp_rt_")
    assert body["expires_in"] == 3600
    assert "user-read-private" in body["scope"].split()
    assert await authorized_status(h, body["access_token"]) != 401


async def test_a_wrong_code_verifier_is_refused(h: Harness) -> None:
    client = await h.register()
    response, _ = await exchange(h, client["client_id"], code_verifier="x" * 43)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


async def test_a_wrong_redirect_uri_at_the_token_endpoint_is_refused(h: Harness) -> None:
    client = await h.register()
    response, _ = await exchange(h, client["client_id"], redirect_uri="http://127.0.0.1:3031/callback")
    assert response.json()["error"] == "invalid_grant"


async def test_a_wrong_resource_at_the_token_endpoint_is_refused(h: Harness) -> None:
    client = await h.register()
    response, _ = await exchange(h, client["client_id"], resource="https://other.example/mcp")
    assert response.json()["error"] == "invalid_target"


async def test_a_replayed_code_fails_and_revokes_what_it_issued(h: Harness) -> None:
    client = await h.register()
    first, form = await exchange(h, client["client_id"])
    tokens = first.json()
    replay = await h.http.post(f"{PUBLIC}/token", data=form)
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    assert await authorized_status(h, tokens["access_token"]) == 401
    assert (await refresh(h, client["client_id"], tokens["refresh_token"])).status_code == 400


async def test_an_expired_code_is_refused(h: Harness, clock: ManualClock) -> None:
    client = await h.register()
    query, verifier = await h.authorize(client["client_id"])
    clock.advance(301)
    response = await h.http.post(f"{PUBLIC}/token", data=code_form(query["code"][0], verifier, client["client_id"]))
    assert response.json()["error"] == "invalid_grant"


async def test_a_code_minted_before_the_user_disconnected_is_refused(h: Harness) -> None:
    client = await h.register()
    query, verifier = await h.authorize(client["client_id"])
    store = h.app.state.runtime.services.store
    await store.delete_user("premium-user")
    response = await h.http.post(f"{PUBLIC}/token", data=code_form(query["code"][0], verifier, client["client_id"]))
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert await store.list_grants("premium-user") == []


async def test_another_clients_code_is_refused(h: Harness) -> None:
    victim, attacker = await h.register(), await h.register()
    query, verifier = await h.authorize(victim["client_id"])
    response = await h.http.post(f"{PUBLIC}/token", data=code_form(query["code"][0], verifier, attacker["client_id"]))
    assert response.json()["error"] == "invalid_grant"


async def test_refresh_rotates_the_refresh_token(h: Harness) -> None:
    client = await h.register()
    tokens = (await exchange(h, client["client_id"]))[0].json()
    rotated = await refresh(h, client["client_id"], tokens["refresh_token"])
    assert rotated.status_code == 200
    fresh = rotated.json()
    assert fresh["refresh_token"] != tokens["refresh_token"]
    assert await authorized_status(h, fresh["access_token"]) != 401


async def test_reusing_a_rotated_refresh_token_revokes_the_grant(h: Harness) -> None:
    client = await h.register()
    tokens = (await exchange(h, client["client_id"]))[0].json()
    fresh = (await refresh(h, client["client_id"], tokens["refresh_token"])).json()
    reuse = await refresh(h, client["client_id"], tokens["refresh_token"])
    assert reuse.status_code == 400
    assert reuse.json()["error"] == "invalid_grant"
    assert await authorized_status(h, fresh["access_token"]) == 401
    assert (await refresh(h, client["client_id"], fresh["refresh_token"])).status_code == 400


async def test_a_refresh_cannot_widen_the_scope(h: Harness) -> None:
    client = await h.register()
    tokens = (await exchange(h, client["client_id"]))[0].json()
    response = await h.http.post(
        f"{PUBLIC}/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "client_id": client["client_id"],
            "scope": "ugc-image-upload",
        },
    )
    assert response.json()["error"] == "invalid_scope"


async def test_an_expired_access_token_gets_401(h: Harness, clock: ManualClock) -> None:
    client = await h.register()
    tokens = (await exchange(h, client["client_id"]))[0].json()
    clock.advance(3601)
    assert await authorized_status(h, tokens["access_token"]) == 401


async def test_a_public_client_can_revoke_without_a_secret(h: Harness) -> None:
    client = await h.register()
    tokens = (await exchange(h, client["client_id"]))[0].json()
    response = await h.http.post(
        f"{PUBLIC}/revoke", data={"token": tokens["refresh_token"], "client_id": client["client_id"]}
    )
    assert response.status_code == 200
    assert await authorized_status(h, tokens["access_token"]) == 401


async def test_another_client_cannot_revoke_my_token(h: Harness) -> None:
    mine, other = await h.register(), await h.register()
    tokens = (await exchange(h, mine["client_id"]))[0].json()
    response = await h.http.post(
        f"{PUBLIC}/revoke", data={"token": tokens["access_token"], "client_id": other["client_id"]}
    )
    assert response.status_code == 200
    assert await authorized_status(h, tokens["access_token"]) != 401


async def test_a_confidential_client_authenticates_with_basic_and_must_not_skip_it(h: Harness) -> None:
    client = await h.register(token_endpoint_auth_method="client_secret_basic")
    assert client["client_secret"].startswith("smcp_cs_")
    query, verifier = await h.authorize(client["client_id"])
    form = {
        "grant_type": "authorization_code",
        "code": query["code"][0],
        "redirect_uri": CLIENT_REDIRECT,
        "code_verifier": verifier,
    }
    unauthenticated = await h.http.post(f"{PUBLIC}/token", data={**form, "client_id": client["client_id"]})
    assert unauthenticated.status_code == 401
    assert unauthenticated.json()["error"] == "invalid_client"
    wrong = base64.b64encode(f"{client['client_id']}:wrong".encode()).decode()
    bad = await h.http.post(f"{PUBLIC}/token", data=form, headers={"Authorization": f"Basic {wrong}"})
    assert bad.status_code == 401
    assert "Basic" in bad.headers["www-authenticate"]
    basic = base64.b64encode(f"{client['client_id']}:{client['client_secret']}".encode()).decode()
    good = await h.http.post(f"{PUBLIC}/token", data=form, headers={"Authorization": f"Basic {basic}"})
    assert good.status_code == 200, good.text


async def test_an_unsupported_grant_type_is_refused(h: Harness) -> None:
    client = await h.register()
    response = await h.http.post(f"{PUBLIC}/token", data={"grant_type": "password", "client_id": client["client_id"]})
    assert response.json()["error"] == "unsupported_grant_type"


async def test_a_database_copy_contains_no_plaintext_token(h: Harness) -> None:
    client = await h.register(token_endpoint_auth_method="client_secret_post")
    query, verifier = await h.authorize(client["client_id"])
    tokens = (
        await h.http.post(
            f"{PUBLIC}/token",
            data={
                "grant_type": "authorization_code",
                "code": query["code"][0],
                "redirect_uri": CLIENT_REDIRECT,
                "code_verifier": verifier,
                "client_id": client["client_id"],
                "client_secret": client["client_secret"],
            },
        )
    ).json()
    secrets = [tokens["access_token"], tokens["refresh_token"], query["code"][0], client["client_secret"]]
    secrets += [*h.world.access_tokens, *h.world.refresh_tokens]
    assert len(secrets) > 4
    db = b"".join(p.read_bytes() for p in h.settings.data_dir.glob("store.db*"))
    assert db
    for secret in secrets:
        assert secret.encode() not in db
