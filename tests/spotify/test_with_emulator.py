"""The Spotify client against the emulator: login, refresh once, revoked consent, faults."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import parse_qs, parse_qsl, urlsplit

import anyio
import httpx2
import pytest

from spotify_mcp.clock import ManualClock
from spotify_mcp.crypto import KeyRing, new_pkce_verifier, pkce_challenge
from spotify_mcp.emulator import PREMIUM_USER, EmulatorConfig, World, create_emulator_app
from spotify_mcp.scopes import DEFAULT_SCOPES
from spotify_mcp.spotify.accounts import SpotifyAccounts
from spotify_mcp.spotify.api import SpotifyAPI
from spotify_mcp.spotify.credentials import CredentialsManager
from spotify_mcp.spotify.errors import ReconnectRequired, SpotifyAPIError
from spotify_mcp.store.sqlite import SqliteStore
from tests.spotify.conftest import CLIENT_ID, CLIENT_SECRET, FakeSleep

pytestmark = pytest.mark.anyio

BASE = "http://emulator.test"
REDIRECT = "http://127.0.0.1:8000/callback"


@dataclass
class Rig:
    """The emulator, and our accounts, credentials and API clients pointed at it."""

    world: World
    http: httpx2.AsyncClient
    accounts: SpotifyAccounts
    credentials: CredentialsManager
    api: SpotifyAPI
    sleep: FakeSleep


@pytest.fixture(params=[False, True], ids=["kept-refresh-token", "rotated-refresh-token"])
async def rig(
    request: pytest.FixtureRequest, store: SqliteStore, keys: KeyRing, clock: ManualClock
) -> AsyncIterator[Rig]:
    """Everything wired to an in-process emulator, once without and once with refresh-token rotation."""
    config = EmulatorConfig(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        redirect_uris=[REDIRECT],
        rotate_refresh_tokens=request.param,
    )
    app = create_emulator_app(config, clock=clock)
    sleep = FakeSleep(clock)
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app)) as http:
        accounts = SpotifyAccounts(http, accounts_url=BASE, client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
        credentials = CredentialsManager(store, keys, accounts, clock, owner="replica-a", sleep=sleep)
        api = SpotifyAPI(http, api_url=f"{BASE}/v1", credentials=credentials, clock=clock, sleep=sleep)
        yield Rig(app.state.world, http, accounts, credentials, api, sleep)


async def _login(rig: Rig) -> None:
    verifier = new_pkce_verifier()
    url = rig.accounts.authorize_url(
        redirect_uri=REDIRECT, state="state-1", code_challenge=pkce_challenge(verifier), scopes=DEFAULT_SCOPES
    )
    page = await rig.http.get(url)
    assert page.status_code == 200
    form = {**dict(parse_qsl(urlsplit(url).query)), "user": PREMIUM_USER, "action": "approve"}
    answer = await rig.http.post(f"{BASE}/authorize", data=form)
    assert answer.status_code == 302
    back = parse_qs(urlsplit(answer.headers["location"]).query)
    assert back["state"] == ["state-1"]
    tokens = await rig.accounts.exchange_code(code=back["code"][0], redirect_uri=REDIRECT, code_verifier=verifier)
    assert set(tokens.scopes) == set(DEFAULT_SCOPES)
    me = await rig.api.me_with_token(tokens.access_token)
    assert me["id"] == PREMIUM_USER
    await rig.credentials.save_login(user_id=me["id"], display_name=me.get("display_name"), tokens=tokens)


async def test_a_login_then_a_call_uses_the_stored_token_without_refreshing(rig: Rig) -> None:
    await _login(rig)
    response = await rig.api.request(PREMIUM_USER, "GET", "/me")
    assert (response.status, response.data["id"]) == (200, PREMIUM_USER)
    assert rig.world.refreshes_by_user[PREMIUM_USER] == 0
    assert rig.world.token_requests["authorization_code"] == 1


async def test_an_access_token_spotify_expired_early_is_refreshed_once_and_the_call_retried(rig: Rig) -> None:
    await _login(rig)
    rig.world.expire_access_tokens(PREMIUM_USER)
    response = await rig.api.request(PREMIUM_USER, "GET", "/me")
    assert response.status == 200
    assert rig.world.refreshes_by_user[PREMIUM_USER] == 1
    assert rig.world.api_calls[-2:] == [("GET", "/v1/me"), ("GET", "/v1/me")]


async def test_fifty_concurrent_calls_with_an_expired_token_cause_exactly_one_refresh(
    rig: Rig, clock: ManualClock
) -> None:
    await _login(rig)
    clock.advance(3600)
    statuses: list[int] = []

    async def call() -> None:
        statuses.append((await rig.api.request(PREMIUM_USER, "GET", "/me")).status)

    async with anyio.create_task_group() as tg:
        for _ in range(50):
            tg.start_soon(call)
    assert statuses == [200] * 50
    assert rig.world.refreshes_by_user[PREMIUM_USER] == 1
    clock.advance(3600)
    assert (await rig.api.request(PREMIUM_USER, "GET", "/me")).status == 200
    assert rig.world.refreshes_by_user[PREMIUM_USER] == 2


async def test_revoked_consent_deletes_the_user_and_asks_to_reconnect(
    rig: Rig, clock: ManualClock, store: SqliteStore
) -> None:
    await _login(rig)
    rig.world.revoke_user_consent(PREMIUM_USER)
    with pytest.raises(ReconnectRequired):
        await rig.api.request(PREMIUM_USER, "GET", "/me")
    assert await store.get_spotify_credentials(PREMIUM_USER) is None
    assert rig.world.refreshes_by_user[PREMIUM_USER] == 1


async def test_a_refresh_token_past_its_six_months_asks_to_reconnect(rig: Rig, clock: ManualClock) -> None:
    await _login(rig)
    clock.advance(181 * 24 * 3600)
    with pytest.raises(ReconnectRequired):
        await rig.credentials.access_token(PREMIUM_USER)


async def test_emulated_faults_are_retried_or_reported_as_spotify_says(rig: Rig) -> None:
    await _login(rig)
    rig.world.fail_next("/v1/me", 503)
    assert (await rig.api.request(PREMIUM_USER, "GET", "/me")).status == 200
    rig.world.fail_next("/v1/me", 429, headers={"Retry-After": "2"})
    assert (await rig.api.request(PREMIUM_USER, "GET", "/me")).status == 200
    quota = {"error": {"status": 429, "message": "Too many requests", "reason": "QUOTA_EXCEEDED"}}
    rig.world.fail_next("/v1/me", 429, body=quota, headers={"Retry-After": "1"})
    with pytest.raises(SpotifyAPIError) as info:
        await rig.api.request(PREMIUM_USER, "GET", "/me")
    assert (info.value.status, info.value.reason) == (429, "QUOTA_EXCEEDED")
    assert rig.sleep.delays[-1] == 2.0
    assert len(rig.sleep.delays) == 2


async def test_a_player_command_without_a_device_reports_spotifys_reason(rig: Rig) -> None:
    await _login(rig)
    rig.world.fail_next(
        "/v1/me/player/play",
        404,
        body={
            "error": {
                "status": 404,
                "message": "Player command failed: No active device found",
                "reason": "NO_ACTIVE_DEVICE",
            }
        },
    )
    with pytest.raises(SpotifyAPIError) as info:
        await rig.api.request(PREMIUM_USER, "PUT", "/me/player/play")
    assert (info.value.status, info.value.reason) == (404, "NO_ACTIVE_DEVICE")


async def test_an_unchanged_resource_is_revalidated_with_its_etag_and_served_from_memory(rig: Rig) -> None:
    await _login(rig)
    seen: list[tuple[int, str | None]] = []

    async def record(response: httpx2.Response) -> None:
        seen.append((response.status_code, response.request.headers.get("if-none-match")))

    rig.http.event_hooks["response"].append(record)
    first = await rig.api.request(PREMIUM_USER, "GET", "/me/playlists", params={"limit": 5})
    again = await rig.api.request(PREMIUM_USER, "GET", "/me/playlists", params={"limit": 5})
    assert (again.status, again.data) == (200, first.data)
    assert seen[0] == (200, None)
    assert seen[1][0] == 304
    assert seen[1][1] == first.headers["etag"]


async def test_a_changed_resource_comes_back_whole_with_a_new_etag(rig: Rig) -> None:
    await _login(rig)
    first = await rig.api.request(PREMIUM_USER, "GET", "/me/playlists", params={"limit": 5})
    rig.world.playlist_by_name("Pia's Road Trip").name = "Road Trip 2027"
    changed = await rig.api.request(PREMIUM_USER, "GET", "/me/playlists", params={"limit": 5})
    assert changed.headers["etag"] != first.headers["etag"]
    assert changed.data["items"][0]["name"] == "Road Trip 2027"
