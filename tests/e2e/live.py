"""Real sockets: the server and the Spotify emulator under uvicorn on 127.0.0.1, in the test's event loop."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import uvicorn
from starlette.applications import Starlette

from spotify_mcp.app import create_app
from spotify_mcp.crypto import KeyRing
from spotify_mcp.emulator import EmulatorConfig, World, create_emulator_app
from spotify_mcp.settings import Settings
from tests.e2e.tls import LoopbackPKI
from tests.support import SPOTIFY_CLIENT_ID, SPOTIFY_CLIENT_SECRET


def bound_socket() -> socket.socket:
    """A listening socket on a free loopback port (listening before uvicorn starts, so no wait is needed)."""
    # proto must say TCP: asyncio sets TCP_NODELAY on accepted connections only then, and without it every
    # response written in two parts waits ~40 ms for a delayed ACK (Nagle).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    return sock


@dataclass
class Live:
    """URLs of the running servers and the emulator's world."""

    base: str
    mcp_url: str
    emulator: str
    world: World
    settings: Settings


class EmbeddedServer(uvicorn.Server):
    """A uvicorn server inside the test's event loop: it leaves the process's signal handlers alone.

    Several servers each installing and restoring SIGINT/SIGTERM handlers restore them out of order, leaving a
    stopped server's handler behind; sse-starlette then believes the process is exiting and closes every
    later stream.
    """

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        """Install nothing."""
        yield


@asynccontextmanager
async def serve(apps: list[tuple[Starlette, socket.socket]], *, tls: LoopbackPKI | None = None) -> AsyncIterator[None]:
    """Run ASGI apps on pre-bound sockets until the block ends (over https with ``tls``)."""
    options: dict[str, Any] = {"log_level": "warning", "lifespan": "on"}
    if tls is not None:
        options.update(ssl_certfile=str(tls.cert_file), ssl_keyfile=str(tls.key_file))
    servers = [(EmbeddedServer(uvicorn.Config(app, **options)), sock) for app, sock in apps]
    async with anyio.create_task_group() as group:
        for server, sock in servers:
            group.start_soon(lambda s=server, k=sock: s.serve(sockets=[k]))
        try:
            yield
        finally:
            for server, _ in servers:
                server.should_exit = True


@asynccontextmanager
async def live(tmp_path: Path, **overrides: Any) -> AsyncIterator[Live]:
    """Start the emulator and the server over real sockets."""
    server_sock, emulator_sock = bound_socket(), bound_socket()
    base = f"http://127.0.0.1:{server_sock.getsockname()[1]}"
    emulator_base = f"http://127.0.0.1:{emulator_sock.getsockname()[1]}"
    values: dict[str, Any] = {
        "spotify_client_id": SPOTIFY_CLIENT_ID,
        "spotify_client_secret": SPOTIFY_CLIENT_SECRET,
        "public_url": base,
        "data_dir": tmp_path,
        "store_url": f"sqlite:///{tmp_path / 'live.db'}",
        "spotify_accounts_url": emulator_base,
        "spotify_api_url": f"{emulator_base}/v1",
        **overrides,
    }
    settings = Settings(**values)
    emulator = create_emulator_app(
        EmulatorConfig(
            client_id=SPOTIFY_CLIENT_ID,
            client_secret=SPOTIFY_CLIENT_SECRET,
            redirect_uris=[settings.callback_url],
        )
    )
    app = create_app(settings, keys=KeyRing.ephemeral())
    async with serve([(emulator, emulator_sock), (app, server_sock)]):
        yield Live(base, settings.mcp_url, emulator_base, emulator.state.world, settings)
