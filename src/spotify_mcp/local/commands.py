"""The ``login`` and ``stdio`` subcommands, as the CLI runs them (exit codes and messages)."""

from __future__ import annotations

import sys

import anyio

from spotify_mcp.local.config import load_local_settings
from spotify_mcp.local.login import LoginError, login, success_text
from spotify_mcp.local.stdio import serve_stdio
from spotify_mcp.observability.logs import configure_logging
from spotify_mcp.settings import ConfigError

LOGIN_FAILED = 1


def run_login(port: int, *, open_browser: bool) -> int:
    """``spotify-mcp login``: a ConfigError propagates to the CLI (exit 2); a failed sign-in exits 1."""
    if not 0 <= port <= 65535:
        raise ConfigError(f"--port must be a TCP port (1 to 65535; 0 picks a free one), not {port}")
    settings = load_local_settings()
    configure_logging("WARNING", settings.log_format)  # the terminal shows prose; problems come as messages
    try:
        result = anyio.run(lambda: login(settings, port=port, open_browser=open_browser))
    except LoginError as exc:
        print(f"spotify-mcp login: {exc}", file=sys.stderr)
        return LOGIN_FAILED
    print(success_text(result, settings), flush=True)
    return 0


def run_stdio() -> int:
    """``spotify-mcp stdio``: a missing login is a ConfigError (exit 2, advice on stderr)."""
    settings = load_local_settings()
    configure_logging(settings.log_level, settings.log_format)
    anyio.run(lambda: serve_stdio(settings))
    return 0
