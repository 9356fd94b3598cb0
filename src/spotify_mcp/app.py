"""The application factory: every route, and a lifespan that owns every resource."""

from __future__ import annotations

import functools
import os
import secrets
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager

import anyio
import httpx2
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, request_response
from starlette.types import ASGIApp, Receive, Scope, Send

from spotify_mcp.account.routes import account_routes
from spotify_mcp.clock import Clock, SystemClock
from spotify_mcp.crypto import KeyRing
from spotify_mcp.oauth.authorize import AuthorizeEndpoint
from spotify_mcp.oauth.callback import CallbackEndpoint
from spotify_mcp.oauth.cimd import CIMDFetcher
from spotify_mcp.oauth.client_request import guard_store
from spotify_mcp.oauth.consent import ConsentEndpoint
from spotify_mcp.oauth.metadata import (
    MetadataEndpoint,
    authorization_server_metadata,
    protected_resource_metadata,
    resource_metadata_url,
)
from spotify_mcp.oauth.registration import RegistrationEndpoint
from spotify_mcp.oauth.revoke import RevokeEndpoint
from spotify_mcp.oauth.token import TokenEndpoint
from spotify_mcp.observability.health import readyz
from spotify_mcp.observability.metrics import HttpMetricsMiddleware, Metrics, metrics_endpoint
from spotify_mcp.observability.request_id import RequestIdMiddleware
from spotify_mcp.server.bearer import BearerAuth
from spotify_mcp.server.mcp_server import build_mcp_server
from spotify_mcp.server.step_up import ScopeStepUp
from spotify_mcp.server.transports import sse, streamable_http
from spotify_mcp.services import Runtime, assemble_services
from spotify_mcp.settings import Settings
from spotify_mcp.spotify.accounts import SpotifyAccounts
from spotify_mcp.spotify.credentials import CredentialsManager
from spotify_mcp.store import Store, open_store
from spotify_mcp.store.sweeper import sweep_forever
from spotify_mcp.web.cors import with_cors
from spotify_mcp.web.home import home_page
from spotify_mcp.web.ratelimit import RateLimiter
from spotify_mcp.web.responses import NoStore, html_page

SPOTIFY_TIMEOUT = httpx2.Timeout(10.0, connect=5.0)


def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    keys: KeyRing | None = None,
    spotify_transport: httpx2.AsyncBaseTransport | None = None,
    store_opener: Callable[[str], Awaitable[Store]] | None = None,
) -> Starlette:
    """Build the whole server. ``spotify_transport`` lets tests reach an in-process Spotify emulator.

    ``store_opener`` opens the store from its URL (default ``open_store``); tests use it to put a store that
    fails on demand in front of the real one. The lifespan closes whatever it returns.
    """
    clock = clock or SystemClock()
    keys = keys or settings.key_ring()
    runtime = Runtime()
    limiter = RateLimiter.from_settings(runtime, settings)
    server = build_mcp_server(runtime)
    metrics = Metrics()
    server.tool_metrics = metrics.tools
    mcp_app, session_manager = streamable_http(server, settings)
    sse_app = sse(server, settings)

    def bearer(app: ASGIApp) -> ASGIApp:
        metadata_url = resource_metadata_url(settings)
        stepped = ScopeStepUp(app, server.required_scopes, resource_metadata=metadata_url)
        limited = limiter.per_user("tools", stepped)
        return BearerAuth(limited, runtime, resource_metadata=metadata_url, scopes=" ".join(settings.scopes))

    def endpoint(handler: object, methods: list[str], *, cors: bool = False, limit: str | None = None) -> ASGIApp:
        # A store failure is 503 + Retry-After (JSON for APIs, a page for browser endpoints), not a 500.
        app = request_response(guard_store(handler, page=not cors, https=settings.is_https))  # type: ignore[arg-type]
        if limit is not None:
            app = limiter.per_address(limit, app)
        return with_cors(app, methods) if cors else _AsgiEndpoint(app)

    as_metadata = MetadataEndpoint(authorization_server_metadata(settings))
    pr_metadata = MetadataEndpoint(protected_resource_metadata(settings))
    routes = [
        # First: nearly every request is an MCP one, and Starlette tries the routes in order.
        Route("/mcp", with_cors(NoStore(bearer(mcp_app)), ["GET", "POST", "DELETE"])),
        Route("/", endpoint=_home(settings), methods=["GET"]),
        Route("/healthz", endpoint=_healthz, methods=["GET"]),
        Route("/readyz", endpoint=readyz(runtime), methods=["GET"]),
        Route("/.well-known/oauth-authorization-server", endpoint(as_metadata, ["GET"], cors=True)),
        Route("/.well-known/oauth-protected-resource/mcp", endpoint(pr_metadata, ["GET"], cors=True)),
        Route("/.well-known/oauth-protected-resource", endpoint(pr_metadata, ["GET"], cors=True)),
        Route(
            "/register",
            endpoint(RegistrationEndpoint(runtime), ["POST"], cors=True, limit="register"),
            methods=["POST", "OPTIONS"],
        ),
        Route(
            "/authorize",
            endpoint(AuthorizeEndpoint(runtime, metrics=metrics.oauth), ["GET", "POST"], limit="authorize"),
            methods=["GET", "POST"],
        ),
        Route(
            "/consent",
            endpoint(ConsentEndpoint(runtime, metrics=metrics.oauth), ["GET", "POST"], limit="consent"),
            methods=["GET", "POST"],
        ),
        Route(
            "/callback",
            endpoint(CallbackEndpoint(runtime, metrics=metrics.oauth), ["GET"], limit="callback"),
            methods=["GET"],
        ),
        Route(
            "/token",
            endpoint(TokenEndpoint(runtime, metrics=metrics.oauth), ["POST"], cors=True, limit="token"),
            methods=["POST", "OPTIONS"],
        ),
        Route(
            "/revoke",
            endpoint(RevokeEndpoint(runtime), ["POST"], cors=True, limit="revoke"),
            methods=["POST", "OPTIONS"],
        ),
        # The account page counts against the consent group: the same people, the same kind of browser traffic.
        *account_routes(runtime, lambda handler: endpoint(handler, ["GET", "POST"], limit="consent")),
        Route("/sse", with_cors(NoStore(bearer(sse_app)), ["GET"]), methods=["GET", "OPTIONS"]),
        Route("/messages/", with_cors(NoStore(bearer(sse_app)), ["POST"]), methods=["POST", "OPTIONS"]),
    ]
    if settings.metrics_on_main_port:
        routes.append(Route("/metrics", metrics_endpoint(metrics), methods=["GET"]))

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            store = await (store_opener or open_store)(settings.effective_store_url)
            stack.push_async_callback(store.close)
            spotify_http = await stack.enter_async_context(
                httpx2.AsyncClient(transport=spotify_transport, timeout=SPOTIFY_TIMEOUT, follow_redirects=False)
            )
            cimd_http = await stack.enter_async_context(
                httpx2.AsyncClient(follow_redirects=False, verify=_cimd_tls(settings))
            )
            cimd = CIMDFetcher(
                cimd_http,
                clock,
                allow_private_addresses=settings.cimd_allow_private_addresses,
                allow_http_loopback=settings.cimd_allow_http_loopback,
            )
            accounts = SpotifyAccounts(
                spotify_http,
                accounts_url=settings.spotify_accounts_url,
                client_id=settings.spotify_client_id,
                client_secret=settings.spotify_client_secret.get_secret_value(),
            )
            credentials = CredentialsManager(store, keys, accounts, clock, owner=_replica_id(), metrics=metrics.spotify)
            runtime.start(
                assemble_services(
                    settings,
                    clock,
                    keys,
                    store,
                    spotify_http=spotify_http,
                    cimd=cimd,
                    accounts=accounts,
                    credentials=credentials,
                    spotify_metrics=metrics.spotify,
                )
            )
            stack.callback(runtime.stop)
            await stack.enter_async_context(session_manager.run())
            background = await stack.enter_async_context(anyio.create_task_group())
            stack.callback(background.cancel_scope.cancel)
            if settings.sweep_interval > 0:
                background.start_soon(
                    functools.partial(
                        sweep_forever,
                        store,
                        clock,
                        settings.sweep_interval,
                        unused_client_ttl=settings.unused_client_ttl,
                    )
                )
            yield

    observed = [Middleware(RequestIdMiddleware), Middleware(HttpMetricsMiddleware, metrics=metrics.http)]
    app = Starlette(routes=routes, lifespan=lifespan, middleware=observed)
    app.state.runtime = runtime
    app.state.metrics = metrics
    return app


class _AsgiEndpoint:
    """Marks a request handler as an ASGI app, so ``Route`` does not wrap it a second time."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._app(scope, receive, send)


def _cimd_tls(settings: Settings) -> ssl.SSLContext:
    """The system's trust store, plus the operator's own CAs for client metadata documents if configured."""
    context = ssl.create_default_context()
    if settings.cimd_ca_file is not None:
        context.load_verify_locations(cafile=settings.cimd_ca_file)
    return context


def _replica_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def _home(settings: Settings) -> Callable[[Request], Awaitable[Response]]:
    async def home(request: Request) -> Response:
        return html_page(
            home_page(mcp_url=settings.mcp_url, callback_url=settings.callback_url), https=settings.is_https
        )

    return home


async def _healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"}, headers={"Cache-Control": "no-store"})
