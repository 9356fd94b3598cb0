"""Fault injection and the call log, the hooks tests use to disturb and observe the emulator."""

from __future__ import annotations

import anyio
import httpx2
import pytest

from spotify_mcp.emulator import World
from tests.emulator.flow import CLIENT_ID, CLIENT_SECRET, sign_in
from tests.emulator.openapi import assert_conforms

pytestmark = pytest.mark.anyio


async def test_an_injected_429_carries_retry_after_then_things_recover(
    client: httpx2.AsyncClient, premium: dict[str, str], world: World
) -> None:
    world.fail_next("/v1/search", 429, headers={"Retry-After": "3"})
    response = await client.get("/v1/search?q=luna&type=track", headers=premium)
    assert response.status_code == 429
    assert response.headers["retry-after"] == "3"
    assert response.json() == {"error": {"status": 429, "message": "API rate limit exceeded"}}
    assert_conforms(response)
    assert (await client.get("/v1/search?q=luna&type=track", headers=premium)).status_code == 200


async def test_a_quota_429_has_the_quota_exceeded_reason(
    client: httpx2.AsyncClient, premium: dict[str, str], world: World
) -> None:
    body = {"error": {"status": 429, "message": "Too many requests", "reason": "QUOTA_EXCEEDED"}}
    world.fail_next("/v1/me", 429, body=body, headers={"Retry-After": "86400"})
    response = await client.get("/v1/me/player", headers=premium)
    assert response.status_code == 429
    assert response.json()["error"]["reason"] == "QUOTA_EXCEEDED"
    assert_conforms(response)


async def test_a_fault_can_repeat_and_only_hits_its_prefix(
    client: httpx2.AsyncClient, premium: dict[str, str], world: World
) -> None:
    world.fail_next("/v1/me/player", 503, times=2)
    assert (await client.get("/v1/me", headers=premium)).status_code == 200
    statuses = [(await client.get("/v1/me/player/devices", headers=premium)).status_code for _ in range(3)]
    assert statuses == [503, 503, 200]


async def test_faults_queue_in_order(client: httpx2.AsyncClient, premium: dict[str, str], world: World) -> None:
    world.fail_next("/v1/me", 502)
    world.fail_next("/v1/me", 500, body="upstream exploded")
    first = await client.get("/v1/me", headers=premium)
    second = await client.get("/v1/me", headers=premium)
    assert (first.status_code, second.status_code) == (502, 500)
    assert second.text == "upstream exploded"
    assert (await client.get("/v1/me", headers=premium)).status_code == 200


async def test_a_fault_answers_before_authentication(client: httpx2.AsyncClient, world: World) -> None:
    world.fail_next("/v1/", 503)
    assert (await client.get("/v1/me")).status_code == 503


async def test_the_token_endpoint_can_fail_too(client: httpx2.AsyncClient, world: World) -> None:
    tokens = await sign_in(client)
    world.fail_next("/api/token", 503)
    data = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    failed = await client.post("/api/token", data=data, auth=(CLIENT_ID, CLIENT_SECRET))
    assert failed.status_code == 503
    assert failed.json()["error"] == "server_error"
    assert world.token_requests["refresh_token"] == 0
    assert (await client.post("/api/token", data=data, auth=(CLIENT_ID, CLIENT_SECRET))).status_code == 200
    assert world.token_requests["refresh_token"] == 1


def test_a_fault_needs_at_least_one_use(world: World) -> None:
    with pytest.raises(ValueError, match="times"):
        world.fail_next("/v1", 500, times=0)


async def test_api_calls_are_logged_with_method_and_path(
    client: httpx2.AsyncClient, premium: dict[str, str], world: World
) -> None:
    world.fail_next("/v1/me/player", 429)
    await client.get("/v1/me", headers=premium)
    await client.get("/v1/me/player?market=DE", headers=premium)
    await client.get("/v1/search?q=a&type=track", headers=premium)
    await client.post("/v1/me/player/devices", headers=premium)
    assert world.api_calls == [
        ("GET", "/v1/me"),
        ("GET", "/v1/me/player"),
        ("GET", "/v1/search"),
        ("POST", "/v1/me/player/devices"),
    ]


async def test_a_held_request_waits_until_released(
    client: httpx2.AsyncClient, premium: dict[str, str], world: World
) -> None:
    release = world.hold_next("/v1/me")
    answers: list[int] = []

    async def fetch() -> None:
        answers.append((await client.get("/v1/me", headers=premium)).status_code)

    async with anyio.create_task_group() as group:
        group.start_soon(fetch)
        await world.until_held(1)
        assert answers == []
        release.set()
    assert answers == [200]
    assert world.held == 0


async def test_api_latency_delays_web_api_responses_on_the_world_clock_only(
    client: httpx2.AsyncClient, premium: dict[str, str], world: World
) -> None:
    world.api_latency = 0.25
    before = world.clock.now()
    assert (await client.get("/v1/me", headers=premium)).status_code == 200
    assert world.clock.now() - before == pytest.approx(0.25)
    # The accounts service answers at once: sign-in and token requests are not the Web API.
    before = world.clock.now()
    assert (await client.get("/authorize")).status_code in (200, 400)
    assert world.clock.now() == before
