"""The ``spotify-mcp`` command: ``serve`` (production) and ``demo`` (server + Spotify emulator)."""

from __future__ import annotations

import argparse
import logging
import secrets
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import anyio
import uvicorn
from pydantic import SecretStr

from spotify_mcp.app import create_app
from spotify_mcp.crypto import KeyRing
from spotify_mcp.settings import ConfigError, Settings, load_settings

DEMO_CLIENT_ID = "spotify-mcp-demo"


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
    args = parser.parse_args(argv)
    try:
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
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    print(f"spotify-mcp serving {settings.mcp_url} (listening on {host}:{port})", file=sys.stderr)
    print(f"Spotify redirect URI to register: {settings.callback_url}", file=sys.stderr)
    uvicorn.run(create_app(settings, keys=keys), host=host, port=port, log_level="info", proxy_headers=False)
    return 0


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
    logging.basicConfig(level="INFO", format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    print(_demo_banner(settings, emulator_port), file=sys.stderr, flush=True)

    async def run() -> None:
        servers = [
            uvicorn.Server(uvicorn.Config(emulator, host="127.0.0.1", port=emulator_port, log_level="warning")),
            uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="info")),
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

Connect MCP Inspector:
  npx @modelcontextprotocol/inspector
  → Transport "Streamable HTTP", URL {settings.mcp_url}, then "Connect" and approve in the browser.
Or any MCP client that speaks OAuth: point it at {settings.mcp_url}.
Press Ctrl+C to stop.
"""


if __name__ == "__main__":
    raise SystemExit(main())
