"""Every Spotify failure becomes a tool error that says what to do next; retries stay bounded."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from spotify_mcp.clock import ManualClock
from tests.support import Harness
from tests.tools.conftest import Call, data, text

pytestmark = pytest.mark.anyio


def player_error(status: int, reason: str, message: str = "Player command failed") -> dict[str, Any]:
    return {"error": {"status": status, "message": message, "reason": reason}}


def calls_to(h: Harness, path: str) -> int:
    return sum(1 for _, p in h.world.api_calls if p == path)


async def test_no_active_device_lists_the_devices_to_retry_with(call: Call, h: Harness) -> None:
    h.world.fail_next("/v1/me/player/pause", 404, body=player_error(404, "NO_ACTIVE_DEVICE"))
    result = await call("pausePlayback")
    assert result.is_error
    message = text(result)
    assert "No Spotify device is active" in message
    assert "Kitchen Speaker" in message
    assert "deviceId=" in message


async def test_no_active_device_and_no_devices_asks_the_user_to_open_spotify(call: Call, h: Harness) -> None:
    h.world.devices["premium-user"] = []
    h.world.fail_next("/v1/me/player/play", 404, body=player_error(404, "NO_ACTIVE_DEVICE"))
    result = await call("resumePlayback")
    assert result.is_error
    assert "open Spotify" in text(result)


async def test_premium_required_is_explained(call: Call, h: Harness) -> None:
    h.world.fail_next("/v1/me/player/next", 403, body=player_error(403, "PREMIUM_REQUIRED"))
    result = await call("skipToNext")
    assert result.is_error
    assert "Premium" in text(result)


async def test_already_paused_is_reported_as_success(call: Call, h: Harness) -> None:
    h.world.fail_next("/v1/me/player/pause", 403, body=player_error(403, "ALREADY_PAUSED"))
    result = await call("pausePlayback")
    assert data(result)["message"] == "Playback was already paused."


async def test_a_device_without_volume_control_says_to_use_the_device(call: Call, h: Harness) -> None:
    h.world.fail_next("/v1/me/player/volume", 403, body=player_error(403, "VOLUME_CONTROL_DISALLOW"))
    result = await call("setVolume", volumePercent=30)
    assert result.is_error
    assert "volume" in text(result)
    assert "on the device" in text(result)


async def test_an_exhausted_quota_is_not_retried_and_says_so(call: Call, h: Harness) -> None:
    body = {"error": {"status": 429, "message": "Too many requests", "reason": "QUOTA_EXCEEDED"}}
    h.world.fail_next("/v1/search", 429, body=body, headers={"Retry-After": "1"}, times=5)
    result = await call("searchTracks", query="x", limit=1)
    assert result.is_error
    assert "quota" in text(result)
    assert calls_to(h, "/v1/search") == 1


async def test_a_short_rate_limit_is_waited_out_on_the_clock(call: Call, h: Harness, clock: ManualClock) -> None:
    h.world.fail_next("/v1/search", 429, headers={"Retry-After": "2"})
    start = clock.now()
    result = await call("searchTracks", query="x", limit=1)
    assert not result.is_error
    assert calls_to(h, "/v1/search") == 2
    assert clock.now() - start >= 2


async def test_a_long_rate_limit_tells_the_model_when_to_retry(call: Call, h: Harness) -> None:
    h.world.fail_next("/v1/search", 429, headers={"Retry-After": "30"})
    result = await call("searchTracks", query="x", limit=1)
    assert result.is_error
    assert "31 seconds" in text(result)
    assert calls_to(h, "/v1/search") == 1


async def test_a_server_error_on_a_read_is_retried_with_backoff(call: Call, h: Harness) -> None:
    h.world.fail_next("/v1/search", 503, times=2)
    result = await call("searchTracks", query="x", limit=1)
    assert not result.is_error
    assert calls_to(h, "/v1/search") == 3


async def test_a_server_error_on_a_non_idempotent_command_is_not_retried(call: Call, h: Harness) -> None:
    h.world.fail_next("/v1/me/player/queue", 503)
    result = await call("addToQueue", uri="spotify:track:4uLU6hMCjMI75M1A2tKUQC")
    assert result.is_error
    assert "503" in text(result)
    assert calls_to(h, "/v1/me/player/queue") == 1


async def test_a_user_missing_from_the_allow_list_is_told_who_can_fix_it(call: Call, h: Harness) -> None:
    message = "The user is not registered for this application. Please check your settings."
    h.world.fail_next("/v1/me/top/tracks", 403, body={"error": {"status": 403, "message": message}})
    result = await call("getTopTracks")
    assert result.is_error
    assert "allow-list" in text(result)
    assert "developer dashboard" in text(result)


async def test_a_users_calls_to_a_slow_spotify_are_capped_at_four_in_flight(call: Call, h: Harness) -> None:
    release = h.world.hold_next("/v1/search", times=6)
    results: list[bool] = []

    async def search() -> None:
        results.append((await call("searchTracks", query="x", limit=1)).is_error)

    async with anyio.create_task_group() as group:
        for _ in range(6):
            group.start_soon(search)
        await h.world.until_held(4)
        await anyio.wait_all_tasks_blocked()
        release.set()
    assert results == [False] * 6
    assert h.world.max_held == 4
    assert h.world.held == 0
