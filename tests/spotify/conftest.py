"""Fixtures for the Spotify client tests: a real SQLite store, a manual clock and a scripted upstream."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs

import anyio
import anyio.lowlevel
import httpx2
import pytest

from spotify_mcp.clock import ManualClock
from spotify_mcp.crypto import KeyRing
from spotify_mcp.spotify.accounts import SpotifyAccounts, SpotifyTokens
from spotify_mcp.spotify.api import SpotifyAPI
from spotify_mcp.spotify.credentials import CredentialsManager
from spotify_mcp.store.sqlite import SqliteStore

CLIENT_ID = "test-client-id"
CLIENT_SECRET = "test-client-secret"
ACCOUNTS_URL = "https://accounts.test"
API_URL = "https://api.test/v1"
USER = "premium-user"


@dataclass
class Upstream:
    """A scripted Spotify: a token endpoint that counts refreshes, and a Web API that replays a script."""

    refreshes: int = 0
    rotate: bool = False
    refresh_error: tuple[int, dict[str, str]] | None = None
    gate: anyio.Event | None = None
    token_requests: list[httpx2.Request] = field(default_factory=list)
    api_requests: list[httpx2.Request] = field(default_factory=list)
    api_script: list[httpx2.Response | Exception] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    api_gate: anyio.Event | None = None
    _changed: anyio.Event | None = None

    async def wait_for(self, predicate: Callable[[], bool]) -> None:
        """Wait (at most five seconds) until ``predicate`` holds, re-checking whenever a request arrives."""
        with anyio.fail_after(5):
            while not predicate():
                self._changed = anyio.Event()
                await self._changed.wait()

    def _notify(self) -> None:
        if self._changed is not None:
            self._changed.set()

    async def __call__(self, request: httpx2.Request) -> httpx2.Response:
        if request.url.path == "/api/token":
            return await self._token(request)
        self.api_requests.append(request)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        self._notify()
        try:
            if self.api_gate is not None:
                await self.api_gate.wait()
            if self.api_script:
                item = self.api_script.pop(0)
                if isinstance(item, Exception):
                    raise item
                return item
            return httpx2.Response(200, json={"ok": True})
        finally:
            self.in_flight -= 1

    async def _token(self, request: httpx2.Request) -> httpx2.Response:
        self.token_requests.append(request)
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        if form.get("grant_type") != "refresh_token":
            return httpx2.Response(400, json={"error": "unsupported_grant_type"})
        self.refreshes += 1
        self._notify()
        if self.gate is not None:
            await self.gate.wait()
        if self.refresh_error is not None:
            status, error = self.refresh_error
            return httpx2.Response(status, json=error)
        body: dict[str, object] = {
            "access_token": f"access-{self.refreshes}",
            "token_type": "Bearer",
            "expires_in": 3600,
            "scope": "user-read-private user-read-playback-state",
        }
        if self.rotate:
            body["refresh_token"] = f"refresh-{self.refreshes}"
        return httpx2.Response(200, json=body)


@dataclass
class FakeSleep:
    """An injectable sleep that records delays, optionally advances the clock, and never really waits."""

    clock: ManualClock
    advance: bool = False
    delays: list[float] = field(default_factory=list)

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        if self.advance:
            self.clock.advance(seconds)
        await anyio.lowlevel.checkpoint()


def login_tokens(access: str = "access-0", refresh: str = "refresh-0", expires_in: int = 3600) -> SpotifyTokens:
    """Return what a fresh Spotify login yields."""
    return SpotifyTokens(
        access_token=access, refresh_token=refresh, expires_in=expires_in, scopes=("user-read-private",)
    )


@pytest.fixture
def keys() -> KeyRing:
    """A one-key ring."""
    return KeyRing([b"k" * 32])


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """Where the SQLite store lives."""
    return tmp_path / "store.db"


@pytest.fixture
async def store(anyio_backend: str, db_path: Path) -> AsyncIterator[SqliteStore]:
    """A migrated SQLite store on a temporary file."""
    async with SqliteStore(db_path) as s:
        await s.migrate()
        yield s


@pytest.fixture
def upstream() -> Upstream:
    """The scripted Spotify."""
    return Upstream()


@pytest.fixture
async def http(anyio_backend: str, upstream: Upstream) -> AsyncIterator[httpx2.AsyncClient]:
    """An HTTP client whose every request goes to the scripted Spotify."""
    async with httpx2.AsyncClient(transport=httpx2.MockTransport(upstream)) as client:
        yield client


@pytest.fixture
def accounts(http: httpx2.AsyncClient) -> SpotifyAccounts:
    """The accounts client, pointed at the scripted Spotify."""
    return SpotifyAccounts(http, accounts_url=ACCOUNTS_URL, client_id=CLIENT_ID, client_secret=CLIENT_SECRET)


@pytest.fixture
def sleep(clock: ManualClock) -> FakeSleep:
    """A sleep that does not wait."""
    return FakeSleep(clock)


@pytest.fixture
def credentials(
    store: SqliteStore, keys: KeyRing, accounts: SpotifyAccounts, clock: ManualClock, sleep: FakeSleep
) -> CredentialsManager:
    """Replica A's credentials manager."""
    return CredentialsManager(store, keys, accounts, clock, owner="replica-a", sleep=sleep)


@pytest.fixture
def api(http: httpx2.AsyncClient, credentials: CredentialsManager, clock: ManualClock, sleep: FakeSleep) -> SpotifyAPI:
    """The Web API client, pointed at the scripted Spotify."""
    return SpotifyAPI(http, api_url=API_URL, credentials=credentials, clock=clock, sleep=sleep)
