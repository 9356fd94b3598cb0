"""Request ids: one per HTTP request, echoed in X-Request-Id, on every log record made while serving it."""

from __future__ import annotations

import logging
from typing import Any

import httpx2
import pytest

from spotify_mcp.observability.request_id import current_request_id, is_safe_request_id
from tests.observability.conftest import Logs, connect
from tests.support import PUBLIC, Harness

pytestmark = pytest.mark.anyio


async def test_a_request_without_an_id_gets_a_fresh_one(h: Harness) -> None:
    first = await h.http.get(f"{PUBLIC}/healthz")
    second = await h.http.get(f"{PUBLIC}/healthz")
    ids = [first.headers["x-request-id"], second.headers["x-request-id"]]
    assert all(is_safe_request_id(i) and len(i) == 16 for i in ids)
    assert ids[0] != ids[1]


@pytest.mark.parametrize("incoming", ["abc-123", "4bf92f3577b34da6a3ce929d0e0e4736", "req_1.2:3", "A" * 64])
async def test_a_short_safe_incoming_id_is_echoed(h: Harness, incoming: str) -> None:
    response = await h.http.get(f"{PUBLIC}/healthz", headers={"X-Request-Id": incoming})
    assert response.headers.get_list("x-request-id") == [incoming]


@pytest.mark.parametrize("incoming", ["has space", "<script>", "A" * 65, "-leading-dash", "a/b", "smcp_at_x%0d%0a"])
async def test_an_unsafe_incoming_id_is_replaced(h: Harness, incoming: str) -> None:
    response = await h.http.get(f"{PUBLIC}/healthz", headers={"X-Request-Id": incoming})
    replaced = response.headers["x-request-id"]
    assert replaced != incoming
    assert is_safe_request_id(replaced)


async def test_errors_and_redirects_carry_the_id_too(h: Harness) -> None:
    missing = await h.http.get(f"{PUBLIC}/no-such-page", headers={"X-Request-Id": "trace-404"})
    assert (missing.status_code, missing.headers["x-request-id"]) == (404, "trace-404")
    unauthorized = await h.http.post(f"{PUBLIC}/mcp", json={}, headers={"X-Request-Id": "trace-401"})
    assert (unauthorized.status_code, unauthorized.headers["x-request-id"]) == (401, "trace-401")


async def test_every_record_logged_while_serving_a_request_has_its_id(h: Harness, capture_logs: Any) -> None:
    logs: Logs = capture_logs("json")
    ids: dict[str, str] = {}

    async def note(response: httpx2.Response) -> None:
        if str(response.request.url).startswith(PUBLIC):
            ids[response.request.url.path] = response.headers["x-request-id"]

    h.http.event_hooks["response"].append(note)
    await h.tokens((await h.register())["client_id"])
    callback_id = ids["/callback"]
    during_callback = [r for r in logs.records() if r["request_id"] == callback_id]
    messages = [r["message"] for r in during_callback]
    assert any(m.startswith("authorization completed for client") for m in messages)
    assert any(m.startswith("Spotify GET /me -> 200 in ") for m in messages)
    assert {r["logger"] for r in during_callback} >= {"spotify_mcp.oauth.callback", "spotify_mcp.spotify.api"}
    # The test's own client logs each of its requests after the response, outside any request: no id.
    outside = [r for r in logs.records() if r["logger"] == "httpx2" and f" {PUBLIC}/" in r["message"]]
    assert outside
    assert all(r["request_id"] is None for r in outside)
    assert current_request_id() is None


async def test_a_tool_call_logs_with_the_id_of_the_http_request_that_carried_it(h: Harness, capture_logs: Any) -> None:
    tokens = await h.tokens((await h.register())["client_id"])
    logs: Logs = capture_logs("json")
    carried: list[str] = []

    async def note(response: httpx2.Response) -> None:
        if b'"tools/call"' in response.request.content:
            carried.append(response.headers["x-request-id"])

    async with connect(h, tokens["access_token"], event_hooks={"response": [note]}) as mcp:
        for _ in range(2):
            assert not (await mcp.call_tool("getCurrentUserProfile", {})).is_error
    upstream = [r for r in logs.records() if r["message"].startswith("Spotify GET /me -> ")]
    assert len(carried) == 2
    assert carried[0] != carried[1]
    assert [r["request_id"] for r in upstream] == carried


async def test_the_request_id_is_never_sent_to_spotify(h: Harness) -> None:
    sent: list[httpx2.Headers] = []

    async def note(request: httpx2.Request) -> None:
        sent.append(request.headers)

    h.app.state.runtime.services.spotify_http.event_hooks["request"].append(note)
    tokens = await h.tokens((await h.register())["client_id"])
    async with connect(h, tokens["access_token"]) as mcp:
        assert not (await mcp.call_tool("getCurrentUserProfile", {})).is_error
    assert len(sent) >= 3
    assert all("x-request-id" not in headers for headers in sent)


def test_records_outside_requests_have_no_id(capture_logs: Any) -> None:
    logs: Logs = capture_logs("json")
    logging.getLogger("spotify_mcp.test").info("no request here")
    [record] = [r for r in logs.records() if r["message"] == "no request here"]
    assert record["request_id"] is None
