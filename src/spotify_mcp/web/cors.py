"""CORS for the endpoints browser-based MCP clients call: discovery, registration, token, revoke, /mcp.

Never applied to /authorize, /consent or /callback, which are top-level browser navigations.
Bearer tokens are sent explicitly, never as cookies, so any origin may call (no credentials mode).
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp

ALLOWED_HEADERS = (
    "Authorization",
    "Content-Type",
    "Accept",
    "Mcp-Protocol-Version",
    "Mcp-Session-Id",
    "Mcp-Method",
    "Mcp-Name",
    "Last-Event-ID",
)
EXPOSED_HEADERS = ("Mcp-Session-Id", "WWW-Authenticate", "Mcp-Protocol-Version", "Retry-After")


def with_cors(app: ASGIApp, methods: Sequence[str]) -> ASGIApp:
    """Wrap an endpoint so browsers on any origin may call it without credentials."""
    return CORSMiddleware(
        app,
        allow_origins=["*"],
        allow_methods=[*methods, "OPTIONS"],
        allow_headers=list(ALLOWED_HEADERS),
        expose_headers=list(EXPOSED_HEADERS),
        max_age=600,
    )
