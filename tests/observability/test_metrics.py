"""/metrics: per-app Prometheus registries counting HTTP routes, the OAuth funnel, tools and Spotify calls."""

from __future__ import annotations

from pathlib import Path

import httpx2
import pytest
from prometheus_client import REGISTRY

from spotify_mcp.app import create_app
from spotify_mcp.clock import ManualClock
from spotify_mcp.crypto import KeyRing
from spotify_mcp.observability.metrics import Metrics, spotify_endpoint
from tests.observability.conftest import connect, samples, value
from tests.support import CLIENT_REDIRECT, PUBLIC, Harness, code_form, make_settings

pytestmark = pytest.mark.anyio


async def scrape(h: Harness) -> str:
    """GET /metrics and return the exposition."""
    response = await h.http.get(f"{PUBLIC}/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert response.headers["cache-control"] == "no-store"
    return response.text


async def test_a_full_authorization_flow_shows_in_the_funnel(h: Harness) -> None:
    client = await h.register()
    tokens = await h.tokens(client["client_id"])
    refreshed = await h.http.post(
        f"{PUBLIC}/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "client_id": client["client_id"],
        },
    )
    assert refreshed.status_code == 200
    replayed = await h.http.post(
        f"{PUBLIC}/token",
        data={"grant_type": "refresh_token", "refresh_token": "smcp_rt_unknown", "client_id": client["client_id"]},
    )
    assert replayed.status_code == 400
    refused = await h.http.get(f"{PUBLIC}/authorize", params={"client_id": "nobody", "response_type": "code"})
    assert refused.status_code == 400

    text = await scrape(h)
    assert value(text, "spotify_mcp_oauth_authorize_requests_total", outcome="accepted") == 1
    assert value(text, "spotify_mcp_oauth_authorize_requests_total", outcome="refused") == 1
    assert value(text, "spotify_mcp_oauth_consent_decisions_total", decision="approved") == 1
    assert value(text, "spotify_mcp_oauth_consent_decisions_total", decision="denied") == 0
    assert value(text, "spotify_mcp_oauth_callbacks_total", outcome="success") == 1
    assert value(text, "spotify_mcp_oauth_tokens_issued_total", grant_type="authorization_code") == 1
    assert value(text, "spotify_mcp_oauth_tokens_issued_total", grant_type="refresh_token") == 1
    assert value(text, "spotify_mcp_oauth_token_requests_refused_total", error="invalid_grant") == 1
    # The Spotify leg: one code exchange is not a Web API call; /me at login is.
    assert value(text, "spotify_mcp_spotify_requests_total", endpoint="/me", method="GET", status="200") == 1


async def test_denials_at_consent_and_at_spotify_are_counted_apart(h: Harness) -> None:
    client = await h.register()
    params = {
        "response_type": "code",
        "client_id": client["client_id"],
        "redirect_uri": CLIENT_REDIRECT,
        "code_challenge": "A" * 43,
        "code_challenge_method": "S256",
    }
    url = str(httpx2.URL(f"{PUBLIC}/authorize", params=params))
    denied_here = await h.follow(url, action="deny")
    assert "error=access_denied" in denied_here.headers["location"]
    text = await scrape(h)
    assert value(text, "spotify_mcp_oauth_consent_decisions_total", decision="denied") == 1
    assert value(text, "spotify_mcp_oauth_callbacks_total", outcome="denied") == 0

    state = "some-unknown-upstream-state"
    await h.http.get(f"{PUBLIC}/callback", params={"state": state, "error": "access_denied"})
    text = await scrape(h)
    assert value(text, "spotify_mcp_oauth_callbacks_total", outcome="error") == 1


async def test_token_requests_are_refused_by_error_code(h: Harness) -> None:
    client = await h.register()
    query, verifier = await h.authorize(client["client_id"])
    wrong = code_form(query["code"][0], verifier + "x", client["client_id"])
    assert (await h.http.post(f"{PUBLIC}/token", data=wrong)).status_code == 400
    unsupported = {"grant_type": "password", "client_id": client["client_id"]}
    assert (await h.http.post(f"{PUBLIC}/token", data=unsupported)).status_code == 400
    unknown_client = {"grant_type": "refresh_token", "refresh_token": "x", "client_id": "nobody"}
    assert (await h.http.post(f"{PUBLIC}/token", data=unknown_client)).status_code == 401
    text = await scrape(h)
    assert value(text, "spotify_mcp_oauth_token_requests_refused_total", error="invalid_grant") == 1
    assert value(text, "spotify_mcp_oauth_token_requests_refused_total", error="unsupported_grant_type") == 1
    assert value(text, "spotify_mcp_oauth_token_requests_refused_total", error="invalid_client") == 1
    assert value(text, "spotify_mcp_oauth_tokens_issued_total", grant_type="authorization_code") == 0


async def test_tool_calls_are_counted_by_tool_and_outcome_and_timed(h: Harness) -> None:
    tokens = await h.tokens((await h.register())["client_id"])
    async with connect(h, tokens["access_token"]) as mcp:
        assert not (await mcp.call_tool("getCurrentUserProfile", {})).is_error
        assert not (await mcp.call_tool("getCurrentUserProfile", {})).is_error
        assert (await mcp.call_tool("getPlaylistTracks", {"playlistId": "not a playlist id!"})).is_error
        assert (await mcp.call_tool("noSuchTool", {})).is_error
    text = await scrape(h)
    assert value(text, "spotify_mcp_tool_calls_total", tool="getCurrentUserProfile", outcome="ok") == 2
    assert value(text, "spotify_mcp_tool_calls_total", tool="getPlaylistTracks", outcome="error") == 1
    assert value(text, "spotify_mcp_tool_calls_total", tool="(unknown)", outcome="error") == 1
    assert value(text, "spotify_mcp_tool_call_duration_seconds_count", tool="getCurrentUserProfile") == 2
    assert "noSuchTool" not in text


async def test_spotify_calls_are_labelled_by_endpoint_template_never_by_id(h: Harness) -> None:
    tokens = await h.tokens((await h.register())["client_id"])
    playlist_id = next(iter(h.world.playlists))
    async with connect(h, tokens["access_token"]) as mcp:
        result = await mcp.call_tool("getPlaylistTracks", {"playlistId": playlist_id})
    assert not result.is_error
    text = await scrape(h)
    assert value(
        text, "spotify_mcp_spotify_requests_total", endpoint="/playlists/{id}/items", method="GET", status="200"
    )
    assert playlist_id not in text
    assert "premium-user" not in text


async def test_http_requests_are_labelled_by_route_template_never_by_raw_path(h: Harness) -> None:
    secret_looking = "3cEYpjA9oz9GiPac4AsH4n"
    assert (await h.http.get(f"{PUBLIC}/no/such/{secret_looking}")).status_code == 404
    assert (await h.http.get(f"{PUBLIC}/authorize", params={"client_id": secret_looking})).status_code == 400
    assert (await h.http.delete(f"{PUBLIC}/healthz")).status_code == 405
    text = await scrape(h)
    assert secret_looking not in text
    assert value(text, "spotify_mcp_http_requests_total", route="(unmatched)", method="GET", status="404") == 1
    assert value(text, "spotify_mcp_http_requests_total", route="/authorize", method="GET", status="400") == 1
    assert value(text, "spotify_mcp_http_requests_total", route="/healthz", method="DELETE", status="405") == 1
    assert value(text, "spotify_mcp_http_request_duration_seconds_count", route="/authorize", method="GET") == 1
    routes = {dict(labels).get("route") for (name, labels) in samples(text) if name.startswith("spotify_mcp_http")}
    assert routes <= {"(unmatched)", "/authorize", "/healthz", "/metrics", None}


def test_spotify_paths_become_bounded_templates() -> None:
    assert spotify_endpoint("/me") == "/me"
    assert spotify_endpoint("/me/player/queue") == "/me/player/queue"
    assert spotify_endpoint("/me/top/artists") == "/me/top/artists"
    assert spotify_endpoint("/playlists/3cEYpjA9oz9GiPac4AsH4n/items") == "/playlists/{id}/items"
    assert spotify_endpoint("/albums/4aawyAB9vmqN3uQ7FjRGTy/tracks") == "/albums/{id}/tracks"
    assert spotify_endpoint("/users/smedjan/playlists") == "/users/{user_id}/playlists"
    assert spotify_endpoint("/users/me/playlists") == "/users/{user_id}/playlists"
    assert spotify_endpoint("/tracks/x?market=SE") == "/tracks/{id}"
    assert spotify_endpoint("/a/b/c/d/e/f/g/h") == "/{id}/{id}/{id}/{id}/{id}/{id}/…"


def test_every_app_has_its_own_registry_and_the_global_one_stays_empty(tmp_path: Path) -> None:
    first = create_app(make_settings(tmp_path), keys=KeyRing.ephemeral())
    second = create_app(make_settings(tmp_path), keys=KeyRing.ephemeral())
    assert isinstance(first.state.metrics, Metrics)
    assert first.state.metrics.registry is not second.state.metrics.registry
    assert REGISTRY.get_sample_value("spotify_mcp_http_requests_total") is None
    first.state.metrics.http.observe("/healthz", "GET", 200, 0.01)
    assert b'route="/healthz"' in first.state.metrics.exposition()
    assert b'route="/healthz"' not in second.state.metrics.exposition()


async def test_metrics_off_serves_no_metrics_route(tmp_path: Path) -> None:
    for setting in ("off", "9464"):
        app = create_app(make_settings(tmp_path, metrics=setting), keys=KeyRing.ephemeral())
        async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url=PUBLIC) as http:
            assert (await http.get("/metrics")).status_code == 404


def test_the_metrics_setting_accepts_on_off_or_a_port(tmp_path: Path) -> None:
    assert make_settings(tmp_path).metrics == "on"
    assert make_settings(tmp_path).metrics_on_main_port
    assert make_settings(tmp_path, metrics="OFF").metrics == "off"
    assert make_settings(tmp_path, metrics="9464").metrics_port == 9464
    assert make_settings(tmp_path, metrics=9464).metrics_port == 9464
    assert make_settings(tmp_path, metrics="off").metrics_port is None
    for bad in ("yes", "0", "70000", "-1"):
        with pytest.raises(ValueError, match="port number"):
            make_settings(tmp_path, metrics=bad)


async def test_spotify_retries_rate_limits_and_token_refreshes_are_counted(h: Harness, clock: ManualClock) -> None:
    tokens = await h.tokens((await h.register())["client_id"])
    h.world.fail_next("/v1/me", 429, headers={"Retry-After": "1"})
    h.world.fail_next("/v1/me", 503)
    clock.advance(3500)
    async with connect(h, tokens["access_token"]) as mcp:
        assert not (await mcp.call_tool("getCurrentUserProfile", {})).is_error
    text = await scrape(h)
    assert value(text, "spotify_mcp_spotify_requests_total", endpoint="/me", method="GET", status="429") == 1
    assert value(text, "spotify_mcp_spotify_requests_total", endpoint="/me", method="GET", status="503") == 1
    assert value(text, "spotify_mcp_spotify_requests_total", endpoint="/me", method="GET", status="200") == 2
    assert value(text, "spotify_mcp_spotify_retries_total", reason="429") == 1
    assert value(text, "spotify_mcp_spotify_retries_total", reason="5xx") == 1
    assert value(text, "spotify_mcp_spotify_rate_limited_total") == 1
    assert value(text, "spotify_mcp_spotify_token_refreshes_total", outcome="ok") == 1
    assert value(text, "spotify_mcp_spotify_request_duration_seconds_count", endpoint="/me", method="GET") == 4
