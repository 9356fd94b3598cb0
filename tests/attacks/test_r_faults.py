"""Catalogue §4.4, R1–R9: faults at the store boundary and upstream, clock jumps, restarts.

The store faults come from ``support_gm.StoreFaults``: the app opens the real SQLite store through
``create_app(store_opener=...)`` and gets a proxy that raises where the test says — before an operation,
half-way through its transaction (a duplicate token row: the real store must roll back), or after it committed
(the answer is lost, as when the process dies before responding). Checks afterwards read the real store.

Covered elsewhere:

* R9 (tokens, grants, clients and sealed credentials written before a schema migration still work after it):
  ``tests/store/test_upgrades.py``.
* K9 (revocation while the store is down): R4 below.
* I10 (a transient Spotify failure during a tool call revokes nothing): ``test_i_refresh.py``.
* R5's error shape at ``/callback`` is also F8 in ``test_f_upstream.py``; R5 here adds that the user's
  existing grant survives, that the answer comes within the budget, and that the next sign-in recovers.

Not applicable as written: R2/R3's ``kill -9`` needs a process to kill; the in-process equivalent is the store
failing before, during and after its transaction (the three modes below), which is what a crash can leave.

Policies:

* R2: when a redemption committed but its answer was lost, the client's retry is a replay: ``invalid_grant``,
  and the grant made by the lost redemption is revoked (its tokens never reached anyone). The user signs in again.
* R3: likewise for a rotation whose answer was lost: exactly one refresh token is live (the successor nobody
  received); the client's retry with the old one is reuse and ends the grant. There is no grace window.
* R4: every endpoint that needs the store answers 503 with ``Retry-After`` (JSON ``temporarily_unavailable``
  on the API endpoints, an HTML page on the browser ones); ``/mcp`` fails closed with 503; metadata and
  ``/healthz`` stay 200 and ``/readyz`` says 503.
* R5: an unreachable, slow or failing Spotify during ``/callback`` sends the browser back to the client with
  ``temporarily_unavailable`` (``state`` and ``iss`` included); the HTTP client's budget is 5 s to connect and
  10 s overall (``app.SPOTIFY_TIMEOUT``).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import anyio
import httpx2
import pytest

from spotify_mcp.clock import ManualClock
from spotify_mcp.crypto import KeyRing, hash_secret
from spotify_mcp.store.base import Store
from tests.attacks.support_gm import (
    MCP,
    MCP_HEADERS,
    REVOKE,
    RPC,
    TOKEN,
    StoreFaults,
    exchange,
    mcp_post,
    mcp_status,
    new_emulator,
    refresh,
    serve,
    sign_in_as,
    tokens_for,
)
from tests.support import CLIENT_REDIRECT, PUBLIC, Harness, code_form, mcp_client

pytestmark = pytest.mark.anyio


@pytest.fixture
def clock() -> ManualClock:
    """A clock the test moves by hand."""
    return ManualClock()


@pytest.fixture
def faults() -> StoreFaults:
    """The switchboard of the store the app opens."""
    return StoreFaults()


@pytest.fixture
async def h(tmp_path: Path, clock: ManualClock, faults: StoreFaults) -> AsyncIterator[Harness]:
    """A running server whose store fails on demand."""
    async with serve(tmp_path, clock=clock, faults=faults) as running:
        yield running


def assert_unavailable(response: httpx2.Response) -> None:
    assert response.status_code == 503, response.text
    assert int(response.headers["retry-after"]) > 0
    assert response.headers["cache-control"] == "no-store"
    assert response.json()["error"] == "temporarily_unavailable"


# -- R1 -----------------------------------------------------------------------------------------------------
async def test_r01_everything_issued_survives_a_restart(tmp_path: Path, clock: ManualClock) -> None:
    emulator, keys = new_emulator(clock), KeyRing.ephemeral()
    async with serve(tmp_path, clock=clock, emulator=emulator, keys=keys) as before:
        client_id, tokens = await tokens_for(before)
        confidential = await before.register(token_endpoint_auth_method="client_secret_post")
    async with serve(tmp_path, clock=clock, emulator=emulator, keys=keys) as after:
        async with mcp_client(after, tokens["access_token"]) as client:
            me = await client.call_tool("getCurrentUserProfile", {})
        assert not me.is_error, me
        rotated = await refresh(after, client_id, tokens["refresh_token"])
        assert rotated.status_code == 200
        query, verifier = await after.authorize(confidential["client_id"])
        form = code_form(
            query["code"][0], verifier, confidential["client_id"], client_secret=confidential["client_secret"]
        )
        assert (await after.http.post(TOKEN, data=form)).status_code == 200


# -- R2 -----------------------------------------------------------------------------------------------------
async def start_redemption(h: Harness) -> tuple[dict[str, str], str]:
    client = await h.register()
    query, verifier = await h.authorize(client["client_id"])
    return code_form(query["code"][0], verifier, client["client_id"], resource=MCP), query["code"][0]


async def test_r02_a_redemption_failing_before_or_inside_its_transaction_writes_nothing(
    h: Harness, faults: StoreFaults
) -> None:
    for fail in (lambda: faults.fail("redeem_code"), lambda: faults.poison("redeem_code")):
        form, code = await start_redemption(h)
        fail()
        assert_unavailable(await h.http.post(TOKEN, data=form))
        record = await faults.store.get_code(hash_secret(code))
        assert record is not None
        assert record.grant_id is None, "the code was consumed without tokens"
        assert await faults.store.list_grants() == []
        retried = await h.http.post(TOKEN, data=form)
        assert retried.status_code == 200, retried.text
        assert await mcp_status(h, retried.json()["access_token"]) != 401
        await faults.store.revoke_grant((await faults.store.list_grants())[0].grant_id)


async def test_r02_a_redemption_whose_answer_is_lost_is_whole_and_its_retry_is_a_replay(
    h: Harness, faults: StoreFaults
) -> None:
    form, code = await start_redemption(h)
    faults.fail("redeem_code", after=True)
    assert_unavailable(await h.http.post(TOKEN, data=form))
    # Committed as a whole: the code is used, and the grant and both tokens it made exist.
    record = await faults.store.get_code(hash_secret(code))
    assert record is not None
    assert record.grant_id is not None
    assert await faults.store.get_grant(record.grant_id) is not None
    _, grant, tokens, _ = faults.last_args["redeem_code"]
    assert grant.grant_id == record.grant_id
    for token in tokens:
        assert await faults.store.get_token(token.token_hash) == token
    # The retry is a replay: refused, and the unseen grant is revoked.
    retried = await h.http.post(TOKEN, data=form)
    assert retried.status_code == 400
    assert retried.json()["error"] == "invalid_grant"
    assert await faults.store.list_grants() == []


# -- R3 -----------------------------------------------------------------------------------------------------
async def test_r03_a_rotation_failing_before_or_inside_its_transaction_keeps_the_old_token(
    h: Harness, faults: StoreFaults
) -> None:
    client_id, tokens = await tokens_for(h)
    old = tokens["refresh_token"]
    for fail in (lambda: faults.fail("rotate_refresh_token"), lambda: faults.poison("rotate_refresh_token")):
        fail()
        assert_unavailable(await refresh(h, client_id, old))
        record = await faults.store.get_token(hash_secret(old))
        assert record is not None
        assert not record.rotated
        _, successors, _ = faults.last_args["rotate_refresh_token"]
        for successor in successors:
            assert await faults.store.get_token(successor.token_hash) is None
    retried = await refresh(h, client_id, old)
    assert retried.status_code == 200, retried.text
    assert await mcp_status(h, retried.json()["access_token"]) != 401


async def test_r03_a_rotation_whose_answer_is_lost_leaves_exactly_one_live_refresh_token(
    h: Harness, faults: StoreFaults
) -> None:
    client_id, tokens = await tokens_for(h)
    old = tokens["refresh_token"]
    faults.fail("rotate_refresh_token", after=True)
    assert_unavailable(await refresh(h, client_id, old))
    old_record = await faults.store.get_token(hash_secret(old))
    assert old_record is not None
    assert old_record.rotated
    _, successors, _ = faults.last_args["rotate_refresh_token"]
    stored = [await faults.store.get_token(s.token_hash) for s in successors]
    assert [s.kind.value for s in stored if s is not None and not s.rotated] == ["access", "refresh"]
    # The client only has the old one: presenting it again is reuse, and the grant ends.
    retried = await refresh(h, client_id, old)
    assert retried.json()["error"] == "invalid_grant"
    assert await faults.store.list_grants() == []


# -- R4 -----------------------------------------------------------------------------------------------------
async def test_r04_with_the_store_unreachable_every_stateful_endpoint_answers_503_and_mcp_fails_closed(
    h: Harness, faults: StoreFaults
) -> None:
    client_id, tokens = await tokens_for(h)
    query, verifier = await h.authorize(client_id)
    faults.unreachable = True
    origin = {"Origin": "http://localhost:6274"}
    api = {
        "token (code)": await h.http.post(TOKEN, data=code_form(query["code"][0], verifier, client_id)),
        "token (refresh)": await refresh(h, client_id, tokens["refresh_token"]),
        "register": await h.http.post(
            f"{PUBLIC}/register",
            json={"redirect_uris": [CLIENT_REDIRECT], "token_endpoint_auth_method": "none"},
            headers=origin,
        ),
        "revoke": await h.http.post(REVOKE, data={"token": tokens["access_token"], "client_id": client_id}),
    }
    for name, response in api.items():
        assert_unavailable(response)
        assert response.headers["content-type"].startswith("application/json"), name
    assert api["register"].headers["access-control-allow-origin"] == "*"
    mcp = await mcp_post(h, tokens["access_token"])
    assert_unavailable(mcp)
    assert "www-authenticate" not in mcp.headers
    pages = {
        "authorize": await h.http.get(
            f"{PUBLIC}/authorize",
            params={"response_type": "code", "client_id": client_id, "redirect_uri": CLIENT_REDIRECT},
        ),
        "consent": await h.http.get(f"{PUBLIC}/consent", params={"request": "whatever"}),
        "callback": await h.http.get(f"{PUBLIC}/callback", params={"state": "whatever", "code": "c"}),
    }
    for name, page in pages.items():
        assert page.status_code == 503, (name, page.text)
        assert page.headers["content-type"].startswith("text/html"), name
        assert int(page.headers["retry-after"]) > 0
    for path in ("/.well-known/oauth-authorization-server", "/.well-known/oauth-protected-resource/mcp", "/healthz"):
        assert (await h.http.get(f"{PUBLIC}{path}")).status_code == 200, path
    assert (await h.http.get(f"{PUBLIC}/readyz")).status_code == 503
    # Once the store is back, nothing was lost: the token works and the code still redeems.
    faults.heal()
    assert await mcp_status(h, tokens["access_token"]) != 401
    assert (await h.http.post(TOKEN, data=code_form(query["code"][0], verifier, client_id))).status_code == 200


@pytest.mark.parametrize("operation", ["get_client", "get_token", "get_grant", "touch_client"])
async def test_r04_any_failing_store_operation_during_a_refresh_is_a_retryable_503(
    h: Harness, faults: StoreFaults, operation: str
) -> None:
    client_id, tokens = await tokens_for(h)
    faults.fail(operation)
    assert_unavailable(await refresh(h, client_id, tokens["refresh_token"]))
    assert (await refresh(h, client_id, tokens["refresh_token"])).status_code == 200


# -- R5 -----------------------------------------------------------------------------------------------------
class BrokenUpstream(httpx2.AsyncBaseTransport):
    """Fails the next request to ``path`` with ``error`` (as httpx raises it), else forwards."""

    def __init__(self, inner: httpx2.AsyncBaseTransport) -> None:
        self.inner = inner
        self.failures: list[tuple[str, Callable[[httpx2.Request], Exception]]] = []

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        for failure in self.failures:
            path, error = failure
            if request.url.path.startswith(path):
                self.failures.remove(failure)
                raise error(request)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_r05_spotify_down_slow_or_failing_at_the_callback_sends_temporarily_unavailable(
    tmp_path: Path, clock: ManualClock
) -> None:
    broken: list[BrokenUpstream] = []

    def wrap(inner: httpx2.AsyncBaseTransport) -> httpx2.AsyncBaseTransport:
        broken.append(BrokenUpstream(inner))
        return broken[0]

    async with serve(tmp_path, clock=clock, upstream=wrap) as h:
        timeout = h.app.state.runtime.services.spotify_http.timeout
        assert timeout.connect is not None
        assert timeout.connect <= 5
        assert timeout.read is not None
        assert timeout.read <= 10
        client_id, earlier = await tokens_for(h)
        faults: list[Callable[[], None]] = [
            lambda: broken[0].failures.append(("/api/token", lambda r: httpx2.ConnectError("refused", request=r))),
            lambda: broken[0].failures.append(("/api/token", lambda r: httpx2.ReadTimeout("timed out", request=r))),
            lambda: broken[0].failures.append(("/api/token", lambda r: httpx2.ConnectTimeout("timed out", request=r))),
            lambda: h.world.fail_next("/api/token", 503),
            lambda: h.world.fail_next("/api/token", 500, body="<html>upstream stack trace</html>"),
        ]
        for inject in faults:
            inject()
            started = time.monotonic()
            query, _ = await h.authorize(client_id)
            assert time.monotonic() - started < 5
            assert query["error"] == ["temporarily_unavailable"], query
            assert query["state"] == ["client-state-123"]
            assert query["iss"] == [PUBLIC]
            assert "upstream" not in query.get("error_description", [""])[0]
            # The grant the user already had is untouched.
            assert await mcp_status(h, earlier["access_token"]) != 401
        assert len(await h.app.state.runtime.services.store.list_grants()) == 1
        # Spotify is back: the next sign-in completes.
        response, _ = await exchange(h, client_id)
        assert response.status_code == 200


# -- R6 -----------------------------------------------------------------------------------------------------
async def test_r06_spotify_invalid_grant_on_refresh_ends_the_grant_once_without_a_retry_storm(
    h: Harness, clock: ManualClock, faults: StoreFaults
) -> None:
    client_id, tokens = await tokens_for(h)
    h.world.revoke_user_consent("premium-user")
    clock.advance(3500)  # the user's Spotify access token is due for a refresh
    release = h.world.hold_next("/api/token")
    async with mcp_client(h, tokens["access_token"]) as client:
        results = []

        async def call() -> None:
            results.append(await client.call_tool("getCurrentUserProfile", {}))

        checked = faults.calls["get_token"]
        async with anyio.create_task_group() as group:
            for _ in range(5):
                group.start_soon(call)
            with anyio.fail_after(10):
                await h.world.until_held(1)
                await faults.until_called("get_token", checked + 5)  # every call is past the bearer check
            await anyio.sleep(0.05)
            release.set()
    assert len(results) == 5
    assert all(r.is_error for r in results)
    assert h.world.token_requests["refresh_token"] == 1
    assert (await mcp_post(h, tokens["access_token"])).status_code == 401
    assert (await refresh(h, client_id, tokens["refresh_token"])).json()["error"] == "invalid_grant"
    assert h.world.token_requests["refresh_token"] == 1


# -- R7 -----------------------------------------------------------------------------------------------------
async def test_r07_concurrent_sign_ins_of_different_users_never_mix_identities(h: Harness) -> None:
    users = ["premium-user", "free-user"] * 4
    clients = [(await h.register(client_name=f"client {i}"))["client_id"] for i in range(len(users))]
    codes: dict[int, tuple[str, str]] = {}

    async def sign_in(i: int) -> None:
        codes[i] = await sign_in_as(h, clients[i], users[i])

    async with anyio.create_task_group() as group:
        for i in range(len(users)):
            group.start_soon(sign_in, i)
    store: Store = h.app.state.runtime.services.store
    for i, user in enumerate(users):
        code, verifier = codes[i]
        response = await h.http.post(TOKEN, data=code_form(code, verifier, clients[i], resource=MCP))
        assert response.status_code == 200, response.text
        access = response.json()["access_token"]
        record = await store.get_token(hash_secret(access))
        assert record is not None
        assert (record.user_id, record.client_id) == (user, clients[i])
        async with mcp_client(h, access) as client:
            me = await client.call_tool("getCurrentUserProfile", {})
        assert me.structured_content is not None
        assert me.structured_content["id"] == user


# -- R8 -----------------------------------------------------------------------------------------------------
async def test_r08_expiry_holds_exactly_across_clock_jumps(h: Harness, clock: ManualClock) -> None:
    client_id, tokens = await tokens_for(h)
    clock.advance(3599)
    assert await mcp_status(h, tokens["access_token"]) != 401
    clock.advance(1)
    assert await mcp_status(h, tokens["access_token"]) == 401
    # Codes: good until 300 s, not at 300 s.
    form, _ = await start_redemption(h)
    clock.advance(299)
    assert (await h.http.post(TOKEN, data=form)).status_code == 200
    late, _ = await start_redemption(h)
    clock.advance(300)
    assert (await h.http.post(TOKEN, data=late)).json()["error"] == "invalid_grant"
    # The clock jumps back a day: what is issued now has a full, positive lifetime, and expires on time.
    clock.advance(-86400)
    rotated = await refresh(h, client_id, tokens["refresh_token"])
    assert rotated.status_code == 200
    assert rotated.json()["expires_in"] == 3600
    fresh = rotated.json()["access_token"]
    assert await mcp_status(h, fresh) != 401
    clock.advance(3600)
    assert await mcp_status(h, fresh) == 401
    assert (await h.http.post(MCP, json=RPC, headers=MCP_HEADERS)).status_code == 401
