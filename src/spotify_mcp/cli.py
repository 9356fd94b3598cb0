"""The ``spotify-mcp`` command: ``serve`` (production), ``demo`` (server + Spotify emulator), ``login`` and ``stdio``
(local mode), ``admin`` (operating the store) and ``config check``."""

from __future__ import annotations

import argparse
import importlib.util
import logging
import secrets
import socket
import sys
import tempfile
from collections.abc import Generator, Sequence
from contextlib import contextmanager
from pathlib import Path

import anyio
import uvicorn
from pydantic import SecretStr
from starlette.applications import Starlette

from spotify_mcp import admin
from spotify_mcp.app import create_app
from spotify_mcp.crypto import KeyRing
from spotify_mcp.observability.logs import configure_logging
from spotify_mcp.observability.metrics import Metrics, metrics_app
from spotify_mcp.settings import ConfigError, Settings, load_settings

DEMO_CLIENT_ID = "spotify-mcp-demo"
STARTUP_FAILURE = 3
EVENT_LOOP = {"use_uvloop": importlib.util.find_spec("uvloop") is not None}
"""uvloop under anyio where it exists (not on Windows): the server's event loop. uvicorn picks httptools itself."""


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``spotify-mcp`` command."""
    parser = argparse.ArgumentParser(prog="spotify-mcp", description="A remote MCP server for Spotify.")
    commands = parser.add_subparsers(dest="command", required=True)
    for name, help_text in (
        ("serve", "run the server against Spotify (configured by environment variables or .env)"),
        ("demo", "run the server against the built-in Spotify emulator, with an ephemeral key and store"),
    ):
        command = commands.add_parser(name, help=help_text)
        command.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
        command.add_argument("--port", type=int, default=None, help="port to listen on (default: $PORT or 8000)")
    login = commands.add_parser("login", help="sign in to Spotify once, for local use over stdio")
    login.add_argument(
        "--port", type=int, default=8888, help="port of the redirect URI http://127.0.0.1:PORT/callback (default 8888)"
    )
    login.add_argument("--no-browser", action="store_true", help="print the sign-in URL without opening a browser")
    commands.add_parser("stdio", help="serve MCP over stdio as the user signed in with `login`")
    admin.add_commands(commands)
    args = parser.parse_args(argv)
    try:
        if args.command in ("admin", "config"):
            return admin.run(args)
        if args.command in ("login", "stdio"):
            from spotify_mcp.local.commands import run_login, run_stdio

            return run_login(args.port, open_browser=not args.no_browser) if args.command == "login" else run_stdio()
        if args.command == "serve":
            return _serve(args.host, args.port)
        return _demo(args.host, args.port)
    except ConfigError as exc:
        print(f"spotify-mcp: {exc}", file=sys.stderr)
        return 2


def _serve(host: str, port: int | None) -> int:
    settings = load_settings()
    keys = settings.key_ring()
    port = port or settings.port
    configure_logging(settings.log_level, settings.log_format)
    servers = build_servers(create_app(settings, keys=keys), settings, host, port)
    print(f"spotify-mcp serving {settings.mcp_url} (listening on {host}:{port})", file=sys.stderr)
    print(f"Spotify redirect URI to register: {settings.callback_url}", file=sys.stderr)
    if settings.metrics_port is not None:
        print(f"Prometheus metrics: http://{settings.metrics_host}:{settings.metrics_port}/metrics", file=sys.stderr)
    return 0 if anyio.run(run_servers, servers, backend_options=EVENT_LOOP) else STARTUP_FAILURE


def build_servers(app: Starlette, settings: Settings, host: str, port: int) -> list[uvicorn.Server]:
    """The main server, plus a metrics-only listener when SPOTIFY_MCP_METRICS is a port number."""
    # log_config=None: uvicorn's loggers propagate to the root handler (format, request ids, redaction). uvicorn
    # sets its own loggers' level, and a record they let through is printed whatever the root's level: so it
    # gets the configured one (at WARNING, no access or startup lines).
    log_level = logging.getLevelNamesMapping().get(settings.log_level.upper(), logging.INFO)
    servers = [
        uvicorn.Server(
            uvicorn.Config(app, host=host, port=port, log_level=log_level, log_config=None, proxy_headers=False)
        )
    ]
    metrics_port = settings.metrics_port
    if metrics_port is not None:
        if metrics_port == port:
            raise ConfigError(f"SPOTIFY_MCP_METRICS is the main port {port}; choose another port, or on to share it")
        metrics: Metrics = app.state.metrics
        config = uvicorn.Config(
            metrics_app(metrics),
            host=settings.metrics_host,
            port=metrics_port,
            log_level=log_level,
            log_config=None,
            lifespan="off",
            proxy_headers=False,
        )
        # Scrapes are access-logged too: uvicorn's access_log=False would silence the process-wide
        # uvicorn.access logger, and with it the main server's access log.
        servers.append(_FollowerServer(config))
    return servers


class _FollowerServer(uvicorn.Server):
    """A listener that leaves signals to the main server, which stops it when it stops (see ``run_servers``).

    Two servers each capturing signals would restore each other's handlers out of order.
    """

    @contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        """Capture nothing."""
        yield


async def run_servers(servers: Sequence[uvicorn.Server], sockets: Sequence[list[socket.socket]] | None = None) -> bool:
    """Serve until one server stops, then stop the others; True when every one had started."""

    async def run(index: int) -> None:
        try:
            await servers[index].serve(sockets=sockets[index] if sockets is not None else None)
        except SystemExit:  # uvicorn exits when it cannot bind
            pass
        finally:
            for server in servers:
                server.should_exit = True

    async with anyio.create_task_group() as group:
        for index in range(len(servers)):
            group.start_soon(run, index)
    return all(server.started for server in servers)


def _demo(host: str, port: int | None) -> int:
    from spotify_mcp.emulator import EmulatorConfig, create_emulator_app

    base = load_settings(spotify_client_id=DEMO_CLIENT_ID, spotify_client_secret="unused")
    port = port or base.port
    emulator_port = port + 1
    data_dir = Path(tempfile.mkdtemp(prefix="spotify-mcp-demo-"))
    client_secret = secrets.token_urlsafe(24)
    settings = Settings(
        spotify_client_id=DEMO_CLIENT_ID,
        spotify_client_secret=SecretStr(client_secret),
        public_url=f"http://127.0.0.1:{port}",
        data_dir=data_dir,
        store_url=f"sqlite:///{data_dir / 'demo.db'}",
        spotify_accounts_url=f"http://127.0.0.1:{emulator_port}",
        spotify_api_url=f"http://127.0.0.1:{emulator_port}/v1",
        cimd_allow_private_addresses=base.cimd_allow_private_addresses,
        cimd_allow_http_loopback=base.cimd_allow_http_loopback,
    )
    emulator = create_emulator_app(
        EmulatorConfig(client_id=DEMO_CLIENT_ID, client_secret=client_secret, redirect_uris=[settings.callback_url])
    )
    app = create_app(settings, keys=KeyRing.ephemeral())
    configure_logging("INFO", base.log_format)
    print(_demo_banner(settings, emulator_port), file=sys.stderr, flush=True)

    async def run() -> None:
        servers = [
            uvicorn.Server(
                uvicorn.Config(emulator, host="127.0.0.1", port=emulator_port, log_level="warning", log_config=None)
            ),
            uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="info", log_config=None)),
        ]
        async with anyio.create_task_group() as group:
            for server in servers:
                group.start_soon(server.serve)

    anyio.run(run)
    return 0


def _demo_banner(settings: Settings, emulator_port: int) -> str:
    return f"""
spotify-mcp demo: the server is backed by the built-in Spotify emulator (no real Spotify account needed).

  MCP endpoint:      {settings.mcp_url}
  Spotify emulator:  http://127.0.0.1:{emulator_port}  (sign-in page lists test users)
  Store:             {settings.effective_store_url} (ephemeral key: nothing survives a restart)

Connect MCP Inspector (then switch its server card on, approve, and pick a test user):
  npx @modelcontextprotocol/inspector --transport http --server-url {settings.mcp_url}
Or any MCP client that speaks OAuth: point it at {settings.mcp_url}.
Press Ctrl+C to stop.
"""


if __name__ == "__main__":
    raise SystemExit(main())
