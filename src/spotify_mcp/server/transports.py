"""Mounting the MCP transports: Streamable HTTP at /mcp (both protocol eras) and legacy SSE at /sse."""

from __future__ import annotations

from urllib.parse import urlsplit

from mcp.server.mcpserver import MCPServer
from mcp.server.streamable_http_manager import StreamableHTTPASGIApp, StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from starlette.types import ASGIApp

from spotify_mcp.settings import Settings

_LOOPBACK = ("127.0.0.1", "localhost", "[::1]")


def transport_security(settings: Settings) -> TransportSecuritySettings:
    """Host/Origin allow-lists: the public URL, SPOTIFY_MCP_ALLOWED_HOSTS, and loopback origins.

    Loopback origins are allowed so browser-based clients running locally (MCP Inspector's web UI)
    can connect; they still need a bearer token, so a foreign page gains nothing.
    """
    public = urlsplit(settings.public_url)
    hosts = [public.netloc]
    origins = [f"{public.scheme}://{public.netloc}"]
    for host in settings.allowed_hosts:
        hosts.append(host if ":" in host else f"{host}:*")
        if ":" not in host:
            hosts.append(host)
        origins.extend([f"https://{host}", f"http://{host}"])
        if ":" not in host:
            origins.extend([f"https://{host}:*", f"http://{host}:*"])
    if public.hostname in ("127.0.0.1", "localhost", "::1"):
        hosts.extend(f"{h}:*" for h in _LOOPBACK)
        hosts.extend(_LOOPBACK)
    origins.extend(f"http://{h}:*" for h in _LOOPBACK)
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=list(dict.fromkeys(hosts)),
        allowed_origins=list(dict.fromkeys(origins)),
    )


def streamable_http(server: MCPServer, settings: Settings) -> tuple[ASGIApp, StreamableHTTPSessionManager]:
    """The /mcp ASGI app and its session manager (whose ``run()`` the lifespan must enter).

    POSTs are answered with one ``application/json`` document, never an SSE stream: no tool sends progress,
    log or server-to-client requests while it runs, so a stream would only frame that one document. (In the
    2026-07-28 era the SDK otherwise runs each request in a task group with a stream and a disconnect watcher:
    a tenth of our server's instructions per tool call, by ``bench/bench_instructions.py``.) Server-initiated
    messages of the 2025 era still have the ``GET /mcp`` stream.
    """
    server.streamable_http_app(
        streamable_http_path="/mcp",
        transport_security=transport_security(settings),
        stateless_http=settings.stateless_http,
        json_response=True,
    )
    manager = server.session_manager
    return StreamableHTTPASGIApp(manager), manager


def sse(server: MCPServer, settings: Settings) -> ASGIApp:
    """The legacy HTTP+SSE app; it answers GET /sse and POST /messages/ by path."""
    return server.sse_app(sse_path="/sse", message_path="/messages/", transport_security=transport_security(settings))
