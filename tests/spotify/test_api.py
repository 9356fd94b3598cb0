"""The Web API client: bearer, one refresh on 401, bounded retries, errors, paths, per-user cap."""

from __future__ import annotations

from email.utils import formatdate

import anyio
import httpx2
import pytest

from spotify_mcp.clock import ManualClock
from spotify_mcp.spotify.api import SpotifyAPI, parse_retry_after
from spotify_mcp.spotify.credentials import CredentialsManager
from spotify_mcp.spotify.errors import ReconnectRequired, SpotifyAPIError, SpotifyUnavailable
from tests.spotify.conftest import API_URL, USER, FakeSleep, Upstream, login_tokens

pytestmark = pytest.mark.anyio


def _error(status: int, message: str, reason: str | None = None, **headers: str) -> httpx2.Response:
    body: dict[str, object] = {"status": status, "message": message}
    if reason:
        body["reason"] = reason
    return httpx2.Response(status, json={"error": body}, headers=headers)


@pytest.fixture
async def logged_in(credentials: CredentialsManager) -> None:
    """The Premium user has logged in."""
    await credentials.save_login(user_id=USER, display_name=None, tokens=login_tokens())


@pytest.mark.usefixtures("logged_in")
async def test_a_request_carries_the_users_bearer_and_returns_json(api: SpotifyAPI, upstream: Upstream) -> None:
    upstream.api_script = [httpx2.Response(200, json={"id": "x"}, headers={"ETag": "abc"})]
    response = await api.request(USER, "get", "/me/player", params={"market": "from_token", "limit": 5})
    assert (response.status, response.data, response.headers["etag"]) == (200, {"id": "x"}, "abc")
    sent = upstream.api_requests[0]
    assert sent.method == "GET"
    assert str(sent.url) == f"{API_URL}/me/player?market=from_token&limit=5"
    assert sent.headers["authorization"] == "Bearer access-0"


async def test_a_user_who_never_logged_in_must_reconnect(api: SpotifyAPI, upstream: Upstream) -> None:
    with pytest.raises(ReconnectRequired):
        await api.request(USER, "GET", "/me")
    assert upstream.api_requests == []


@pytest.mark.usefixtures("logged_in")
async def test_a_401_triggers_one_refresh_and_one_retry(api: SpotifyAPI, upstream: Upstream) -> None:
    upstream.api_script = [_error(401, "The access token expired"), httpx2.Response(200, json={"ok": 1})]
    response = await api.request(USER, "POST", "/me/player/next")
    assert response.data == {"ok": 1}
    assert upstream.refreshes == 1
    assert [r.headers["authorization"] for r in upstream.api_requests] == [
        "Bearer access-0",
        "Bearer access-1",
    ]


@pytest.mark.usefixtures("logged_in")
async def test_a_second_401_after_the_refresh_is_an_error(api: SpotifyAPI, upstream: Upstream) -> None:
    upstream.api_script = [_error(401, "Invalid access token"), _error(401, "Invalid access token")]
    with pytest.raises(SpotifyAPIError) as info:
        await api.request(USER, "GET", "/me")
    assert (info.value.status, info.value.message) == (401, "Invalid access token")
    assert upstream.refreshes == 1
    assert len(upstream.api_requests) == 2


@pytest.mark.usefixtures("logged_in")
async def test_retry_after_is_honoured_up_to_the_bound(api: SpotifyAPI, upstream: Upstream, sleep: FakeSleep) -> None:
    upstream.api_script = [
        _error(429, "API rate limit exceeded", **{"Retry-After": "2"}),
        _error(429, "API rate limit exceeded", **{"Retry-After": "5"}),
        httpx2.Response(200, json={"ok": 1}),
    ]
    response = await api.request(USER, "POST", "/me/player/queue", params={"uri": "spotify:track:x"})
    assert response.data == {"ok": 1}
    assert sleep.delays == [2.0, 5.0]
    assert len(upstream.api_requests) == 3


@pytest.mark.usefixtures("logged_in")
async def test_a_retry_after_beyond_the_bound_is_reported_not_slept(
    api: SpotifyAPI, upstream: Upstream, sleep: FakeSleep
) -> None:
    upstream.api_script = [_error(429, "API rate limit exceeded", **{"Retry-After": "3600"})]
    with pytest.raises(SpotifyAPIError) as info:
        await api.request(USER, "GET", "/me")
    assert (info.value.status, info.value.retry_after) == (429, 3600.0)
    assert sleep.delays == []


@pytest.mark.usefixtures("logged_in")
async def test_rate_limits_stop_when_attempts_run_out(api: SpotifyAPI, upstream: Upstream, sleep: FakeSleep) -> None:
    upstream.api_script = [_error(429, "slow down", **{"Retry-After": "1"}) for _ in range(5)]
    with pytest.raises(SpotifyAPIError) as info:
        await api.request(USER, "GET", "/me")
    assert (info.value.status, info.value.retry_after) == (429, 1.0)
    assert len(upstream.api_requests) == 3
    assert sleep.delays == [1.0, 1.0]


@pytest.mark.usefixtures("logged_in")
async def test_a_429_without_retry_after_is_not_retried(api: SpotifyAPI, upstream: Upstream) -> None:
    upstream.api_script = [_error(429, "slow down")]
    with pytest.raises(SpotifyAPIError) as info:
        await api.request(USER, "GET", "/me")
    assert (info.value.status, info.value.retry_after) == (429, None)
    assert len(upstream.api_requests) == 1


@pytest.mark.usefixtures("logged_in")
async def test_quota_exceeded_is_never_retried(api: SpotifyAPI, upstream: Upstream, sleep: FakeSleep) -> None:
    upstream.api_script = [_error(429, "Too many requests", "QUOTA_EXCEEDED", **{"Retry-After": "1"})]
    with pytest.raises(SpotifyAPIError) as info:
        await api.request(USER, "GET", "/me/top/tracks")
    assert (info.value.status, info.value.reason, info.value.retry_after) == (429, "QUOTA_EXCEEDED", 1.0)
    assert len(upstream.api_requests) == 1
    assert sleep.delays == []


@pytest.mark.usefixtures("logged_in")
@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
async def test_an_idempotent_request_is_retried_after_a_503_with_bounded_backoff(
    api: SpotifyAPI, upstream: Upstream, sleep: FakeSleep, method: str
) -> None:
    upstream.api_script = [_error(503, "Service unavailable"), _error(502, "Bad gateway")]
    response = await api.request(USER, method, "/me/player/pause")
    assert response.status == 200
    assert len(upstream.api_requests) == 3
    assert len(sleep.delays) == 2
    assert 0.125 <= sleep.delays[0] <= 0.25
    assert 0.25 <= sleep.delays[1] <= 0.5


@pytest.mark.usefixtures("logged_in")
async def test_a_get_that_keeps_failing_gives_up_after_max_attempts(api: SpotifyAPI, upstream: Upstream) -> None:
    upstream.api_script = [_error(500, "Server error") for _ in range(5)]
    with pytest.raises(SpotifyAPIError) as info:
        await api.request(USER, "GET", "/me")
    assert (info.value.status, info.value.message) == (500, "Server error")
    assert len(upstream.api_requests) == 3


@pytest.mark.usefixtures("logged_in")
async def test_a_post_is_not_retried_after_a_503(api: SpotifyAPI, upstream: Upstream, sleep: FakeSleep) -> None:
    upstream.api_script = [_error(503, "Service unavailable")]
    with pytest.raises(SpotifyAPIError) as info:
        await api.request(USER, "POST", "/playlists/abc/items", json={"uris": []})
    assert info.value.status == 503
    assert len(upstream.api_requests) == 1
    assert sleep.delays == []


@pytest.mark.usefixtures("logged_in")
async def test_a_post_marked_idempotent_is_retried_and_a_put_marked_not_is_not(
    api: SpotifyAPI, upstream: Upstream
) -> None:
    upstream.api_script = [_error(503, "x")]
    assert (await api.request(USER, "POST", "/me/player/next", idempotent=True)).status == 200
    upstream.api_script = [_error(503, "x")]
    with pytest.raises(SpotifyAPIError):
        await api.request(USER, "PUT", "/me/player/volume", idempotent=False)


@pytest.mark.usefixtures("logged_in")
async def test_a_timeout_on_a_get_is_retried_then_reported_unavailable(api: SpotifyAPI, upstream: Upstream) -> None:
    upstream.api_script = [httpx2.ReadTimeout("slow") for _ in range(3)]
    with pytest.raises(SpotifyUnavailable, match="timed out") as info:
        await api.request(USER, "GET", "/me")
    assert len(upstream.api_requests) == 3
    assert "access-0" not in str(info.value)


@pytest.mark.usefixtures("logged_in")
async def test_a_post_is_not_retried_after_a_read_timeout_but_is_after_a_refused_connection(
    api: SpotifyAPI, upstream: Upstream
) -> None:
    upstream.api_script = [httpx2.ReadTimeout("slow")]
    with pytest.raises(SpotifyUnavailable):
        await api.request(USER, "POST", "/me/player/next")
    assert len(upstream.api_requests) == 1
    upstream.api_script = [httpx2.ConnectError("refused")]
    assert (await api.request(USER, "POST", "/me/player/next")).status == 200
    assert len(upstream.api_requests) == 3


@pytest.mark.usefixtures("logged_in")
@pytest.mark.parametrize(
    "answer",
    [httpx2.Response(204), httpx2.Response(202, content=b"accepted"), httpx2.Response(200, content=b"")],
)
async def test_no_content_answers_have_no_data(api: SpotifyAPI, upstream: Upstream, answer: httpx2.Response) -> None:
    upstream.api_script = [answer]
    response = await api.request(USER, "PUT", "/me/player/play")
    assert (response.status, response.data) == (answer.status_code, None)


@pytest.mark.usefixtures("logged_in")
async def test_player_errors_keep_spotifys_message_and_reason(api: SpotifyAPI, upstream: Upstream) -> None:
    upstream.api_script = [_error(404, "Player command failed: No active device found", "NO_ACTIVE_DEVICE")]
    with pytest.raises(SpotifyAPIError) as info:
        await api.request(USER, "PUT", "/me/player/play")
    error = info.value
    assert (error.status, error.message, error.reason, error.retry_after) == (
        404,
        "Player command failed: No active device found",
        "NO_ACTIVE_DEVICE",
        None,
    )
    assert len(upstream.api_requests) == 1


@pytest.mark.usefixtures("logged_in")
async def test_an_error_without_a_spotify_error_object_still_says_what_happened(
    api: SpotifyAPI, upstream: Upstream
) -> None:
    upstream.api_script = [httpx2.Response(403, content=b"<html>nope</html>")]
    with pytest.raises(SpotifyAPIError) as info:
        await api.request(USER, "GET", "/me")
    assert (info.value.status, info.value.message, info.value.reason) == (403, "Forbidden", None)


@pytest.mark.usefixtures("logged_in")
@pytest.mark.parametrize(
    "path",
    [
        "me",
        "https://evil.test/v1/me",
        "//evil.test/me",
        "/me/../../admin",
        "/playlists/%2e%2e/x",
        "/me?x=1",
        "/me#x",
        "/me/ player",
        "/me\\x",
        "/me\r\nX: y",
    ],
)
async def test_paths_that_are_not_plain_relative_paths_are_refused(
    api: SpotifyAPI, upstream: Upstream, path: str
) -> None:
    with pytest.raises(ValueError, match="refusing"):
        await api.request(USER, "GET", path)
    assert upstream.api_requests == []


async def test_me_with_token_uses_the_raw_token_and_a_403_is_an_error(api: SpotifyAPI, upstream: Upstream) -> None:
    upstream.api_script = [httpx2.Response(200, json={"id": "premium-user", "display_name": "P"})]
    assert await api.me_with_token("raw-token") == {"id": "premium-user", "display_name": "P"}
    assert upstream.api_requests[0].headers["authorization"] == "Bearer raw-token"
    assert str(upstream.api_requests[0].url) == f"{API_URL}/me"
    upstream.api_script = [_error(403, "User not registered in the Developer Dashboard")]
    with pytest.raises(SpotifyAPIError) as info:
        await api.me_with_token("raw-token")
    assert info.value.status == 403
    assert upstream.refreshes == 0


async def test_me_with_token_refuses_a_profile_without_an_id(api: SpotifyAPI, upstream: Upstream) -> None:
    upstream.api_script = [httpx2.Response(200, json={"display_name": "P"})]
    with pytest.raises(SpotifyAPIError, match="without a user id"):
        await api.me_with_token("raw-token")


async def test_at_most_four_calls_per_user_are_in_flight_and_other_users_are_not_held_up(
    api: SpotifyAPI, upstream: Upstream, credentials: CredentialsManager
) -> None:
    await credentials.save_login(user_id=USER, display_name=None, tokens=login_tokens())
    await credentials.save_login(user_id="other-user", display_name=None, tokens=login_tokens())
    upstream.api_gate = anyio.Event()
    async with anyio.create_task_group() as tg:
        for _ in range(10):
            tg.start_soon(api.request, USER, "GET", "/me")
        tg.start_soon(api.request, "other-user", "GET", "/me")
        await upstream.wait_for(lambda: upstream.in_flight == 5)
        await anyio.sleep(0.02)
        assert (upstream.in_flight, api.in_flight(USER), api.in_flight("other-user")) == (5, 4, 1)
        upstream.api_gate.set()
    assert upstream.max_in_flight == 5
    assert len(upstream.api_requests) == 11
    assert api.in_flight(USER) == 0


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    clock = ManualClock(1_800_000_000.0)
    assert parse_retry_after("7", clock.now()) == 7.0
    assert parse_retry_after(formatdate(clock.now() + 30, usegmt=True), clock.now()) == 30.0
    assert parse_retry_after(formatdate(clock.now() - 30, usegmt=True), clock.now()) == 0.0
    assert parse_retry_after("soon", clock.now()) is None
    assert parse_retry_after("nan", clock.now()) is None
    assert parse_retry_after(None, clock.now()) is None
