"""Per-address limits on the OAuth endpoints, through HTTP: 429 with Retry-After past the limit, then recovery.

Limits are small here (``SPOTIFY_MCP_RATE_LIMITS``) and the ManualClock moves to the next window: no sleeps.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx2
import pytest

from spotify_mcp.clock import ManualClock
from spotify_mcp.store.base import StoreError
from tests.support import CLIENT_REDIRECT, PUBLIC, Harness, harness

from .conftest import browser

pytestmark = pytest.mark.anyio

LIMIT = 3
SMALL = ",".join(f"{group}={LIMIT}/60" for group in ("authorize", "consent", "callback", "token", "revoke"))
SMALL += f",register={LIMIT}/3600"

REQUESTS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "register": (
        "POST",
        "/register",
        {"json": {"client_name": "x", "redirect_uris": [CLIENT_REDIRECT], "token_endpoint_auth_method": "none"}},
    ),
    "authorize": ("GET", "/authorize", {"params": {"client_id": "nobody", "response_type": "code"}}),
    "consent": ("GET", "/consent", {"params": {"request": "nobody"}}),
    "callback": ("GET", "/callback", {"params": {"state": "forged", "code": "forged"}}),
    "token": ("POST", "/token", {"data": {"grant_type": "authorization_code", "code": "guess"}}),
    "revoke": ("POST", "/revoke", {"data": {"token": "guess", "client_id": "nobody"}}),
}
"""One request per endpoint group; most are refused by the endpoint itself, which still counts them."""
WINDOWS = {"register": 3600}
BROWSER = ("authorize", "consent", "callback")


@pytest.fixture
async def h(tmp_path: Path, clock: ManualClock) -> AsyncIterator[Harness]:
    """A server whose every OAuth endpoint group allows three requests per window and address."""
    async with harness(tmp_path, clock=clock, rate_limits=SMALL) as running:
        yield running


async def send(http: httpx2.AsyncClient, group: str, **extra: Any) -> httpx2.Response:
    """Send the group's request."""
    method, path, kwargs = REQUESTS[group]
    return await http.request(method, f"{PUBLIC}{path}", **kwargs, **extra)


async def exhaust(http: httpx2.AsyncClient, group: str) -> None:
    """Use up a group's allowance (none of it refused by the limiter)."""
    for _ in range(LIMIT):
        assert (await send(http, group)).status_code != 429


@pytest.mark.parametrize("group", list(REQUESTS))
async def test_past_the_limit_an_endpoint_answers_429_until_the_next_window(
    h: Harness, clock: ManualClock, group: str
) -> None:
    window = WINDOWS.get(group, 60)
    async with browser(h, "192.0.2.1") as http:
        await exhaust(http, group)
        refused = await send(http, group)
        assert refused.status_code == 429
        assert refused.headers["retry-after"] == str(window)
        assert refused.headers["cache-control"] == "no-store"
        if group in BROWSER:
            assert refused.headers["content-type"].startswith("text/html")
            assert "Too many requests" in refused.text
            assert "frame-ancestors 'none'" in refused.headers["content-security-policy"]
            assert refused.headers["x-frame-options"] == "DENY"
        else:
            assert refused.headers["content-type"] == "application/json"
            assert refused.json()["error"] == "rate_limited"
            assert refused.json()["error_description"] == f"too many requests; retry after {window} seconds"
        clock.advance(window - 0.5)
        assert (await send(http, group)).headers["retry-after"] == "1"  # never 0, however close the end
        clock.advance(0.5)
        recovered = await send(http, group)
        assert recovered.status_code != 429
        if group == "register":
            assert recovered.status_code == 201


async def test_retry_after_counts_down_to_the_end_of_the_window(h: Harness, clock: ManualClock) -> None:
    async with browser(h) as http:
        await exhaust(http, "token")
        clock.advance(44.2)
        assert (await send(http, "token")).headers["retry-after"] == "16"


async def test_one_address_over_its_limit_leaves_other_addresses_alone(h: Harness) -> None:
    async with browser(h, "192.0.2.1") as first, browser(h, "192.0.2.2") as second:
        for group in REQUESTS:
            await exhaust(first, group)
            assert (await send(first, group)).status_code == 429
        for group in REQUESTS:
            assert (await send(second, group)).status_code != 429


async def test_each_group_counts_separately(h: Harness) -> None:
    async with browser(h) as http:
        await exhaust(http, "token")
        assert (await send(http, "token")).status_code == 429
        for group in ("register", "revoke", "authorize"):
            assert (await send(http, group)).status_code != 429


async def test_ipv6_addresses_in_one_64_share_a_count(h: Harness) -> None:
    async with (
        browser(h, "2001:db8:1:2::a") as one,
        browser(h, "2001:db8:1:2:ffff::b") as same_network,
        browser(h, "2001:db8:1:3::a") as other_network,
    ):
        await exhaust(one, "token")
        assert (await send(same_network, "token")).status_code == 429
        assert (await send(other_network, "token")).status_code != 429


async def test_a_cors_preflight_is_never_counted_and_a_refusal_is_readable_cross_origin(h: Harness) -> None:
    origin = {"Origin": "https://app.example"}
    async with browser(h) as http:
        for _ in range(LIMIT * 3):
            preflight = await http.options(
                f"{PUBLIC}/token", headers={**origin, "Access-Control-Request-Method": "POST"}
            )
            assert preflight.status_code == 200
        await exhaust(http, "token")
        refused = await send(http, "token", headers=origin)
    assert refused.status_code == 429
    assert refused.headers["access-control-allow-origin"] == "*"
    assert "retry-after" in refused.headers["access-control-expose-headers"].lower()


async def test_the_home_page_metadata_and_health_are_not_limited(h: Harness) -> None:
    async with browser(h) as http:
        for _ in range(LIMIT * 4):
            for path in ("/", "/healthz", "/.well-known/oauth-authorization-server"):
                assert (await http.get(f"{PUBLIC}{path}")).status_code == 200


# -- forwarded addresses ---------------------------------------------------------------------------
async def test_x_forwarded_for_is_ignored_without_trusted_proxies(h: Harness) -> None:
    async with browser(h, "192.0.2.1") as http:
        for i in range(LIMIT):
            response = await send(http, "token", headers={"X-Forwarded-For": f"203.0.113.{i}"})
            assert response.status_code != 429
        spoofed = await send(http, "token", headers={"X-Forwarded-For": "203.0.113.200"})
    assert spoofed.status_code == 429


async def test_x_forwarded_for_from_a_trusted_proxy_names_the_client(tmp_path: Path, clock: ManualClock) -> None:
    async with (
        harness(tmp_path, clock=clock, rate_limits="token=3/60", trusted_proxies="10.0.0.0/8") as h,
        browser(h, "10.0.0.2") as proxy,
        browser(h, "192.0.2.1") as direct,
    ):
        alice = {"X-Forwarded-For": "203.0.113.5"}
        for _ in range(LIMIT):
            assert (await send(proxy, "token", headers=alice)).status_code != 429
        assert (await send(proxy, "token", headers=alice)).status_code == 429
        # Alice prepending forged addresses is still Alice: the proxy appended the address it saw.
        forged = {"X-Forwarded-For": "198.51.100.1, 203.0.113.5"}
        assert (await send(proxy, "token", headers=forged)).status_code == 429
        # Someone else behind the same proxy is counted apart, and the proxy itself is not throttled as one.
        assert (await send(proxy, "token", headers={"X-Forwarded-For": "203.0.113.6"})).status_code != 429
        # A peer that is not a trusted proxy cannot borrow a fresh address.
        for i in range(LIMIT):
            fresh = {"X-Forwarded-For": f"198.51.100.{10 + i}"}
            assert (await send(direct, "token", headers=fresh)).status_code != 429
        assert (await send(direct, "token", headers={"X-Forwarded-For": "198.51.100.99"})).status_code == 429


# -- configuration and failures --------------------------------------------------------------------
async def test_off_disables_every_limit(tmp_path: Path, clock: ManualClock) -> None:
    async with harness(tmp_path, clock=clock, rate_limits="off") as h, browser(h) as http:
        for _ in range(25):  # more than the default 20 registrations an hour
            assert (await send(http, "register")).status_code == 201
        for _ in range(130):  # more than the default 120 token requests a minute
            assert (await send(http, "token")).status_code == 401  # no client_id: invalid_client


async def test_one_group_can_be_turned_off_alone(tmp_path: Path, clock: ManualClock) -> None:
    async with harness(tmp_path, clock=clock, rate_limits="register=off,token=2/60") as h, browser(h) as http:
        for _ in range(25):
            assert (await send(http, "register")).status_code == 201
        await send(http, "token")
        await send(http, "token")
        assert (await send(http, "token")).status_code == 429


async def test_a_failing_store_lets_requests_through_and_warns(
    h: Harness, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(key: str, window: float, now: float) -> int:
        raise StoreError("SQLite store could not count a rate-limited request: disk I/O error")

    monkeypatch.setattr(h.app.state.runtime.services.store, "hit", broken)
    caplog.set_level(logging.WARNING, logger="spotify_mcp.web.ratelimit")
    async with browser(h) as http:
        for _ in range(LIMIT * 3):
            assert (await send(http, "register")).status_code == 201
            assert (await send(http, "authorize")).status_code == 400
    warnings = [r for r in caplog.records if r.name == "spotify_mcp.web.ratelimit"]
    assert len(warnings) == 1  # at most one a minute
    assert warnings[0].levelno == logging.WARNING
    assert "failing open" in warnings[0].getMessage()
    assert "disk I/O error" in warnings[0].getMessage()
