"""Several server processes on one store behave as one server: whichever replica a request lands on.

Each test runs once per shared backend (PostgreSQL, Redis) against real ``spotify-mcp serve`` subprocesses
(see ``conftest.py`` and ``cluster.py``); the client side plays the load balancer.
"""

from __future__ import annotations

from functools import partial
from typing import Any
from urllib.parse import urljoin

import anyio
import httpx2
import pytest
from mcp.client import Client
from mcp.client.auth import OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import OAuthClientMetadata
from pydantic import AnyUrl

from tests.oauth_client import HeadlessBrowser, MemoryStorage
from tests.replicas.cluster import (
    PROTOCOL,
    Cluster,
    Replica,
    Switch,
    authorize,
    authorize_url,
    code_from,
    pinned,
    race,
    redeem,
    refresh,
    register,
    round_robin,
    sign_in,
    tokens_from,
    tool_call,
    tool_result,
)
from tests.support import CLIENT_REDIRECT, pkce, walk

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]

USER = "premium-user"


def replicas(cluster: Cluster) -> tuple[Replica, Replica]:
    return cluster.replicas["a"], cluster.replicas["b"]


async def call_tool(
    http: httpx2.AsyncClient, url: str, bearer: str, name: str = "getCurrentUserProfile", **arguments: Any
) -> httpx2.Response:
    headers, body = tool_call(bearer, name, arguments)
    return await http.post(url, headers=headers, content=body)


def error_of(response: httpx2.Response) -> str:
    assert response.status_code == 400, f"{response.status_code} {response.text}"
    return str(response.json()["error"])


async def assert_grant_gone(cluster: Cluster, http: httpx2.AsyncClient, client_id: str, body: dict[str, Any]) -> None:
    """Neither the access token nor the refresh token of ``body`` works any more, at any replica."""
    for replica in replicas(cluster):
        denied = await call_tool(http, f"{replica.origin}/mcp", body["access_token"])
        assert denied.status_code == 401, denied.text
    assert error_of(await refresh(http, cluster.public, client_id, body["refresh_token"])) == "invalid_grant"


async def test_a_client_authorized_through_one_replica_calls_tools_through_another(cluster: Cluster) -> None:
    a, b = replicas(cluster)
    # Everything but the MCP endpoint (discovery, registration, token) goes to A; /mcp goes to B.
    client_lb = cluster.router(lambda request: b if request.url.path == "/mcp" else a)
    browser_lb = cluster.router(pinned(a))
    storage = MemoryStorage()
    async with cluster.http(browser_lb) as browser, cluster.http(client_lb) as raw:
        user = HeadlessBrowser(browser, cluster.hosts)
        provider = OAuthClientProvider(
            cluster.mcp_url,
            OAuthClientMetadata(client_name="replica e2e", redirect_uris=[AnyUrl(CLIENT_REDIRECT)]),
            storage,
            redirect_handler=user.redirect_handler,
            callback_handler=user.callback_handler,
        )
        async with cluster.http(client_lb, auth=provider) as http:
            async with Client(streamable_http_client(cluster.mcp_url, http_client=http), mode="auto") as client:
                assert client.protocol_version == PROTOCOL
                me = await client.call_tool("getCurrentUserProfile", {})
                assert not me.is_error, me
                assert me.structured_content is not None
                assert me.structured_content["id"] == USER
                found = await client.call_tool("searchTracks", {"query": "a", "limit": 5})
                assert not found.is_error, found
            # A 2025-era session, opened and used at B with the same tokens.
            async with Client(streamable_http_client(cluster.mcp_url, http_client=http), mode="legacy") as legacy:
                assert legacy.protocol_version != PROTOCOL
                again = await legacy.call_tool("getCurrentUserProfile", {})
                assert not again.is_error, again
        assert storage.tokens is not None
        # A stateless 2026-07-28 request with that bearer, addressed to B's own host:port (no load balancer).
        direct = await call_tool(raw, f"{b.origin}/mcp", storage.tokens.access_token)
        assert tool_result(direct)["structuredContent"]["id"] == USER

    assert {"/authorize", "/consent", "/callback"} <= browser_lb.paths("a")
    assert browser_lb.paths("b") == set()
    assert {"/register", "/token", "/.well-known/oauth-authorization-server"} <= client_lb.paths("a")
    assert "/mcp" not in client_lb.paths("a")
    assert client_lb.paths("b") == {"/mcp"}


async def test_racing_refreshes_at_two_replicas_rotate_once_and_the_loser_revokes_the_grant(cluster: Cluster) -> None:
    """Exactly one refresh wins; the other presentation is reuse of a rotated token, so the grant is revoked
    (the store contract: ``RefreshToken[rotated] ──presented again──► grant revoked``), winner's tokens included."""
    a, b = replicas(cluster)
    async with cluster.http(pinned(a)) as at_a, cluster.http(pinned(b)) as at_b:
        for _ in range(3):
            tokens = await sign_in(at_a, cluster)
            await at_b.get(f"{cluster.public}/healthz")  # both connections open before the race
            responses = await race(
                partial(refresh, at_a, cluster.public, tokens.client_id, tokens.refresh_token),
                partial(refresh, at_b, cluster.public, tokens.client_id, tokens.refresh_token),
            )
            assert sorted(r.status_code for r in responses) == [200, 400], [r.text for r in responses]
            winner = next(r for r in responses if r.status_code == 200)
            loser = next(r for r in responses if r.status_code == 400)
            assert loser.json()["error"] == "invalid_grant"
            await assert_grant_gone(cluster, at_b, tokens.client_id, winner.json())
            denied = await call_tool(at_a, cluster.mcp_url, tokens.access_token)
            assert denied.status_code == 401


async def test_racing_redemptions_of_one_code_at_two_replicas_yield_one_token_set_then_revoke_it(
    cluster: Cluster,
) -> None:
    """One redemption wins; the other is a replayed code, which revokes the grant the winner got."""
    a, b = replicas(cluster)
    async with cluster.http(pinned(a)) as at_a, cluster.http(pinned(b)) as at_b:
        for _ in range(3):
            client_id = await register(at_a, cluster.public)
            code, verifier = await authorize(at_a, cluster, client_id)
            await at_b.get(f"{cluster.public}/healthz")
            responses = await race(
                partial(redeem, at_a, cluster.public, client_id, code, verifier),
                partial(redeem, at_b, cluster.public, client_id, code, verifier),
            )
            assert sorted(r.status_code for r in responses) == [200, 400], [r.text for r in responses]
            winner = next(r for r in responses if r.status_code == 200)
            assert error_of(next(r for r in responses if r.status_code == 400)) == "invalid_grant"
            assert set(winner.json()) >= {"access_token", "refresh_token"}
            await assert_grant_gone(cluster, at_a, client_id, winner.json())


async def test_fifty_racing_tool_calls_on_two_replicas_after_spotify_expired_the_token_refresh_it_once(
    cluster: Cluster,
) -> None:
    assert cluster.world is not None
    a, b = replicas(cluster)
    async with cluster.http(pinned(a)) as at_a, cluster.http(pinned(b)) as at_b:
        tokens = await sign_in(at_a, cluster)
        assert tool_result(await call_tool(at_b, cluster.mcp_url, tokens.access_token))
        cluster.world.expire_access_tokens()
        cluster.world.refreshes_by_user.clear()
        calls = [partial(call_tool, http, cluster.mcp_url, tokens.access_token) for http in (at_a, at_b)]
        with anyio.fail_after(60):
            responses = await race(*(calls * 25))
    assert len(responses) == 50
    for response in responses:
        assert tool_result(response)["structuredContent"]["id"] == USER
    assert cluster.world.refreshes_by_user[USER] == 1


async def test_every_hop_of_the_flow_may_land_on_a_different_replica(cluster: Cluster) -> None:
    """Consent CSRF, the browser-binding cookie, upstream state and codes are all in the store or sealed with
    the shared key, so a load balancer without sticky sessions is fine for the authorization flow."""
    a, b = replicas(cluster)
    lb = cluster.router(round_robin([a, b]))
    async with cluster.http(lb) as http:
        tokens = await sign_in(http, cluster)
        for _ in range(4):
            assert tool_result(await call_tool(http, cluster.mcp_url, tokens.access_token))
    assert lb.paths("a") & {"/authorize", "/consent", "/callback", "/token"}
    assert lb.paths("b") & {"/authorize", "/consent", "/callback", "/token"}


INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
}


async def test_a_2025_era_session_lives_on_the_replica_that_opened_it(cluster: Cluster) -> None:
    """2025-era Streamable HTTP sessions are in-process state: another replica answers 404 (the spec's "start a
    new session"), so such clients need session-sticky routing; 2026-07-28 stateless requests need none."""
    a, b = replicas(cluster)
    async with cluster.http(pinned(a)) as at_a, cluster.http(pinned(b)) as at_b:
        tokens = await sign_in(at_a, cluster)
        base = {"Accept": "application/json, text/event-stream", "Authorization": f"Bearer {tokens.access_token}"}
        opened = await at_a.post(cluster.mcp_url, json=INITIALIZE, headers=base)
        assert opened.status_code == 200, opened.text
        session = {**base, "Mcp-Session-Id": opened.headers["mcp-session-id"], "Mcp-Protocol-Version": "2025-06-18"}
        listing = {"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}}
        assert (await at_b.post(cluster.mcp_url, json=listing, headers=session)).status_code == 404
        assert (await at_a.post(cluster.mcp_url, json=listing, headers=session)).status_code == 200


async def test_killing_a_replica_mid_flow_loses_nothing(cluster: Cluster) -> None:
    """Last in the module so that the other tests need not wait for A to start again (``cluster`` revives it)."""
    a, b = replicas(cluster)
    lb = Switch(a)
    router = cluster.router(lb)
    async with cluster.http(router) as browser:
        # A grant issued entirely by the replica that is about to die.
        earlier = await sign_in(browser, cluster)
        # A second flow: registration, /authorize and consent at A, up to Spotify's sign-in page.
        client_id = await register(browser, cluster.public)
        verifier, challenge = pkce()
        to_spotify = await walk(browser, authorize_url(cluster.public, client_id, challenge), (f"{cluster.public}/",))
        assert to_spotify.status_code in (302, 303), to_spotify.text
        sign_in_page = urljoin(str(to_spotify.url), to_spotify.headers["location"])
        assert sign_in_page.startswith(cluster.spotify)

        assert {"/register", "/authorize", "/consent"} <= router.paths("a")
        a.kill()
        assert await a.wait_exit(10)
        lb.replica = b  # the load balancer takes the dead replica out
        killed_at = len(router.routed)

        # The user signs in at Spotify; /callback and /token land on B.
        code = code_from(await walk(browser, sign_in_page, cluster.hosts))
        tokens = tokens_from(client_id, await redeem(browser, cluster.public, client_id, code, verifier))
        assert tool_result(await call_tool(browser, cluster.mcp_url, tokens.access_token))
        # The refresh token the dead replica issued works at B.
        renewed = tokens_from(
            earlier.client_id, await refresh(browser, cluster.public, earlier.client_id, earlier.refresh_token)
        )
        assert tool_result(await call_tool(browser, cluster.mcp_url, renewed.access_token))
    after = router.routed[killed_at:]
    assert {name for name, _, _ in after} == {"b"}
    assert {"/callback", "/token", "/mcp"} <= {path for _, _, path in after}
    assert not a.alive
