"""What the tool-call benchmarks start: the in-process emulator, the server's environment, the pass-through."""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from starlette.applications import Starlette
from tests.e2e.live import bound_socket
from tests.replicas.cluster import ONE_ADDRESS_RATE_LIMITS, REPO, bytecode_cache, new_secret_key, replica_env
from tests.support import SPOTIFY_CLIENT_ID, SPOTIFY_CLIENT_SECRET

from spotify_mcp.emulator import EmulatorConfig, World, create_emulator_app


@dataclass
class BenchSpotify:
    """The Spotify emulator for a benchmark: its app, the loopback socket it will serve on, its origin."""

    app: Starlette
    sock: socket.socket
    origin: str

    @property
    def world(self) -> World:
        """The emulator's state (tokens, recorded calls, the latency to add)."""
        world: World = self.app.state.world
        return world


def bench_spotify(public: str) -> BenchSpotify:
    """An emulator that accepts the server at ``public`` as its app's redirect URI."""
    sock = bound_socket()
    config = EmulatorConfig(
        client_id=SPOTIFY_CLIENT_ID, client_secret=SPOTIFY_CLIENT_SECRET, redirect_uris=[f"{public}/callback"]
    )
    return BenchSpotify(create_emulator_app(config), sock, f"http://127.0.0.1:{sock.getsockname()[1]}")


def server_env(
    public: str, store_url: str, spotify: BenchSpotify, workdir: Path, settings: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The environment of ``spotify-mcp serve`` for a benchmark: one user makes every call, so the rate limits
    are out of reach, but the limiter keeps counting in the store."""
    return replica_env(
        public_url=public,
        store_url=store_url,
        secret_key=new_secret_key(),
        spotify=spotify.origin,
        data_dir=workdir,
        extra={"SPOTIFY_MCP_RATE_LIMITS": ONE_ADDRESS_RATE_LIMITS, **(settings or {})},
    )


def passthrough_command(port: int, spotify: BenchSpotify) -> tuple[list[str], dict[str, str]]:
    """Argv and environment of ``bench/passthrough.py`` on ``port``, forwarding the emulator's first token."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    token = next(iter(spotify.world.access_tokens))
    env.update({"PYTHONPATH": str(REPO), "PYTHONPYCACHEPREFIX": str(bytecode_cache()), "BENCH_SPOTIFY_TOKEN": token})
    return [sys.executable, "-m", "bench.passthrough", "--port", str(port), "--spotify", spotify.origin], env
