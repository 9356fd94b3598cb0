"""For the admin tests: the CLI run in-process against a configured store, stores seeded through the real Store,
and servers with a chosen key ring sharing one Spotify emulator (so a user outlives a server restart)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import anyio
import httpx2
import pytest
from starlette.applications import Starlette

from spotify_mcp.app import create_app
from spotify_mcp.cli import main
from spotify_mcp.clock import ManualClock
from spotify_mcp.crypto import KeyRing
from spotify_mcp.emulator import EmulatorConfig, create_emulator_app
from spotify_mcp.spotify.credentials import seal_context
from spotify_mcp.store import SqliteStore, Store
from spotify_mcp.store.records import SpotifyCredentials
from tests.emulator.openapi_requests import ConformingTransport
from tests.support import (
    EMULATOR,
    PUBLIC,
    SPOTIFY_CLIENT_ID,
    SPOTIFY_CLIENT_SECRET,
    Harness,
    make_settings,
)

T = TypeVar("T")
NOW = 1_800_000_000.0


@dataclass(frozen=True, slots=True)
class Ran:
    """What one CLI run returned and printed."""

    code: int
    out: str
    err: str


class Cli:
    """Runs ``spotify-mcp`` in-process with an environment set through monkeypatch, capturing its output."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
        self._monkeypatch = monkeypatch
        self._capsys = capsys
        self.store_path = tmp_path / "store.db"
        monkeypatch.chdir(tmp_path)
        for name, value in (
            ("SPOTIFY_CLIENT_ID", SPOTIFY_CLIENT_ID),
            ("SPOTIFY_CLIENT_SECRET", SPOTIFY_CLIENT_SECRET),
            ("SPOTIFY_MCP_DATA_DIR", str(tmp_path / "data")),
            ("SPOTIFY_MCP_STORE_URL", f"sqlite:///{self.store_path}"),
        ):
            monkeypatch.setenv(name, value)
        monkeypatch.delenv("SPOTIFY_MCP_SECRET_KEY", raising=False)

    def env(self, **values: str | None) -> None:
        """Set (or, with None, unset) environment variables for the next runs."""
        for name, value in values.items():
            if value is None:
                self._monkeypatch.delenv(name, raising=False)
            else:
                self._monkeypatch.setenv(name, value)

    def __call__(self, *argv: str) -> Ran:
        """Run ``spotify-mcp ARGV…`` (from a test without an event loop)."""
        self._capsys.readouterr()
        code = main(list(argv))
        captured = self._capsys.readouterr()
        return Ran(code, captured.out, captured.err)

    async def from_async(self, *argv: str) -> Ran:
        """Run ``spotify-mcp ARGV…`` from an async test: in a worker thread, which runs its own event loop."""
        return await anyio.to_thread.run_sync(lambda: self(*argv))


def with_store(path: Path, work: Callable[[Store], Awaitable[T]]) -> T:
    """Run ``work`` on the (migrated) SQLite store at ``path``, from a test without an event loop."""

    async def run() -> T:
        async with SqliteStore(path) as store:
            await store.migrate()
            return await work(store)

    return anyio.run(run)


def sealed_credentials(
    keys: KeyRing, user_id: str, *, authorized_at: float = NOW - 86_400, display_name: str | None = "Test User"
) -> SpotifyCredentials:
    """A user's Spotify tokens (``access-<user>``, ``refresh-<user>``) sealed under the ring's current key."""
    return SpotifyCredentials(
        user_id=user_id,
        display_name=display_name,
        access_token_sealed=keys.seal(f"access-{user_id}", seal_context(user_id, "access")),
        refresh_token_sealed=keys.seal(f"refresh-{user_id}", seal_context(user_id, "refresh")),
        expires_at=NOW + 3600,
        scopes=("user-read-private", "user-read-playback-state"),
        authorized_at=authorized_at,
        updated_at=NOW,
    )


def opened_tokens(keys: KeyRing, creds: SpotifyCredentials) -> tuple[str, str]:
    """The access and refresh tokens a user's sealed credentials hold, opened with ``keys``."""
    return (
        keys.unseal(creds.access_token_sealed, seal_context(creds.user_id, "access")),
        keys.unseal(creds.refresh_token_sealed, seal_context(creds.user_id, "refresh")),
    )


def spotify_emulator(clock: ManualClock) -> Starlette:
    """One Spotify emulator that several servers in a test talk to in turn."""
    return create_emulator_app(
        EmulatorConfig(
            client_id=SPOTIFY_CLIENT_ID, client_secret=SPOTIFY_CLIENT_SECRET, redirect_uris=[f"{PUBLIC}/callback"]
        ),
        clock=clock,
    )


@asynccontextmanager
async def server(tmp_path: Path, keys: KeyRing, emulator: Starlette, clock: ManualClock) -> AsyncIterator[Harness]:
    """The server on ``tmp_path/store.db`` with the key ring ``keys``, wired to ``emulator`` (lifespan included)."""
    settings = make_settings(tmp_path)
    upstream = ConformingTransport(httpx2.ASGITransport(app=emulator))
    app = create_app(settings, clock=clock, keys=keys, spotify_transport=upstream)
    mounts = {PUBLIC: httpx2.ASGITransport(app=app), EMULATOR: httpx2.ASGITransport(app=emulator)}
    async with app.router.lifespan_context(app), httpx2.AsyncClient(mounts=mounts) as http:
        yield Harness(app, emulator, emulator.state.world, settings, clock, keys, http, upstream)
    upstream.assert_conforming()


async def mcp_status(h: Harness, access_token: str) -> int:
    """The HTTP status /mcp answers a bearer with (401 when the token is not, or no longer, valid)."""
    response = await h.http.post(f"{PUBLIC}/mcp", json={}, headers={"Authorization": f"Bearer {access_token}"})
    return response.status_code
