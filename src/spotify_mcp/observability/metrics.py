"""Prometheus metrics on a per-app ``CollectorRegistry``: HTTP, the OAuth funnel, tools and Spotify.

Every label has a bounded set of values: routes are templates (never raw paths), Spotify endpoints are
templates with their IDs replaced, tool names are the registered ones, error codes a known list.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from spotify_mcp.observability.observers import TOKEN_ERRORS, OAuthObserver, SpotifyObserver, ToolObserver

PREFIX = "spotify_mcp"
UNMATCHED_ROUTE = "(unmatched)"
UNKNOWN_TOOL = "(unknown)"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

# Every path word of the Spotify Web API we may call; any other segment is an ID and becomes a placeholder.
_SPOTIFY_WORDS = frozenset(
    {
        "me",
        "users",
        "albums",
        "artists",
        "tracks",
        "playlists",
        "items",
        "player",
        "currently-playing",
        "devices",
        "next",
        "pause",
        "play",
        "previous",
        "queue",
        "recently-played",
        "repeat",
        "seek",
        "shuffle",
        "volume",
        "top",
        "following",
        "follow",
        "followers",
        "contains",
        "library",
        "audiobooks",
        "episodes",
        "shows",
        "chapters",
        "search",
        "browse",
        "categories",
        "new-releases",
        "featured-playlists",
        "recommendations",
        "markets",
        "images",
        "top-tracks",
        "related-artists",
        "audio-features",
        "audio-analysis",
        "available-genre-seeds",
        "genre-seeds",
    }
)
_MAX_SEGMENTS = 6


def method_label(method: str) -> str:
    """An HTTP method as a label: one of the standard ones, else ``OTHER``."""
    method = method.upper()
    return method if method in _METHODS else "OTHER"


def spotify_endpoint(path: str) -> str:
    """The template of a Web API path: ``/playlists/3cEY…/items`` → ``/playlists/{id}/items``.

    Known path words stay; the segment after ``users`` becomes ``{user_id}`` and any other one ``{id}``.
    """
    segments = path.split("?", 1)[0].strip("/").split("/")
    template: list[str] = []
    for index, segment in enumerate(segments[:_MAX_SEGMENTS]):
        if index > 0 and segments[index - 1] == "users":
            template.append("{user_id}")
        elif segment in _SPOTIFY_WORDS:
            template.append(segment)
        else:
            template.append("{id}")
    if len(segments) > _MAX_SEGMENTS:
        template.append("…")
    return "/" + "/".join(template)


class OAuthMetrics(OAuthObserver):
    """The authorization funnel as counters."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.authorize_requests = Counter(
            f"{PREFIX}_oauth_authorize_requests",
            "Authorization requests, by outcome (accepted: sent on to consent; refused).",
            ["outcome"],
            registry=registry,
        )
        self.consent_decisions = Counter(
            f"{PREFIX}_oauth_consent_decisions",
            "Decisions on the consent page (approved, denied).",
            ["decision"],
            registry=registry,
        )
        self.callbacks = Counter(
            f"{PREFIX}_oauth_callbacks",
            "Spotify redirects to /callback, by outcome (success, denied, error).",
            ["outcome"],
            registry=registry,
        )
        self.tokens_issued = Counter(
            f"{PREFIX}_oauth_tokens_issued",
            "Token responses issued by /token, by grant type.",
            ["grant_type"],
            registry=registry,
        )
        self.tokens_refused = Counter(
            f"{PREFIX}_oauth_token_requests_refused",
            "Token requests refused by /token, by OAuth error code.",
            ["error"],
            registry=registry,
        )
        for outcome in ("accepted", "refused"):
            self.authorize_requests.labels(outcome)
        for decision in ("approved", "denied"):
            self.consent_decisions.labels(decision)
        for outcome in ("success", "denied", "error"):
            self.callbacks.labels(outcome)
        for grant_type in ("authorization_code", "refresh_token"):
            self.tokens_issued.labels(grant_type)
        for error in (*sorted(TOKEN_ERRORS), "other"):
            self.tokens_refused.labels(error)

    def authorize(self, *, accepted: bool) -> None:
        """Count an authorization request."""
        self.authorize_requests.labels("accepted" if accepted else "refused").inc()

    def consent(self, decision: str) -> None:
        """Count a consent decision."""
        self.consent_decisions.labels(decision).inc()

    def callback(self, outcome: str) -> None:
        """Count a callback outcome."""
        self.callbacks.labels(outcome).inc()

    def token_issued(self, grant_type: str) -> None:
        """Count issued tokens."""
        self.tokens_issued.labels(grant_type).inc()

    def token_refused(self, error: str) -> None:
        """Count a refused token request."""
        self.tokens_refused.labels(error).inc()


class ToolMetrics(ToolObserver):
    """Tool calls: a counter by tool and outcome, and a latency histogram by tool."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.calls = Counter(
            f"{PREFIX}_tool_calls",
            "MCP tool calls, by tool and outcome (ok, error).",
            ["tool", "outcome"],
            registry=registry,
        )
        self.duration = Histogram(
            f"{PREFIX}_tool_call_duration_seconds",
            "Duration of MCP tool calls, by tool.",
            ["tool"],
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )

    def tool_call(self, tool: str, outcome: str, seconds: float) -> None:
        """Count and time a tool call."""
        self.calls.labels(tool, outcome).inc()
        self.duration.labels(tool).observe(seconds)


class SpotifyMetrics(SpotifyObserver):
    """Web API calls by endpoint template and status, retries, rate limits and token refreshes."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            f"{PREFIX}_spotify_requests",
            "HTTP attempts to the Spotify Web API, by endpoint template, method and status.",
            ["endpoint", "method", "status"],
            registry=registry,
        )
        self.duration = Histogram(
            f"{PREFIX}_spotify_request_duration_seconds",
            "Duration of HTTP attempts to the Spotify Web API, by endpoint template and method.",
            ["endpoint", "method"],
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )
        self.retries = Counter(
            f"{PREFIX}_spotify_retries",
            "Web API attempts retried, by reason (429, 5xx, connection, 401).",
            ["reason"],
            registry=registry,
        )
        self.rate_limits = Counter(
            f"{PREFIX}_spotify_rate_limited", "Web API answers with status 429.", registry=registry
        )
        self.refreshes = Counter(
            f"{PREFIX}_spotify_token_refreshes",
            "Refreshes of users' Spotify access tokens, by outcome (ok, invalid_grant, error).",
            ["outcome"],
            registry=registry,
        )
        for outcome in ("ok", "invalid_grant", "error"):
            self.refreshes.labels(outcome)

    def request(self, method: str, path: str, status: str, seconds: float) -> None:
        """Count and time one attempt."""
        endpoint, method = spotify_endpoint(path), method_label(method)
        self.requests.labels(endpoint, method, status).inc()
        self.duration.labels(endpoint, method).observe(seconds)

    def retry(self, reason: str) -> None:
        """Count a retry."""
        self.retries.labels(reason).inc()

    def rate_limited(self) -> None:
        """Count a 429."""
        self.rate_limits.inc()

    def token_refresh(self, outcome: str) -> None:
        """Count a token refresh."""
        self.refreshes.labels(outcome).inc()


class HttpMetrics:
    """HTTP requests by route template, method and status, with a latency histogram."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            f"{PREFIX}_http_requests",
            "HTTP requests served, by route template, method and status.",
            ["route", "method", "status"],
            registry=registry,
        )
        self.duration = Histogram(
            f"{PREFIX}_http_request_duration_seconds",
            "Time to serve HTTP requests (whole streams for SSE), by route template and method.",
            ["route", "method"],
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        """Count and time one request."""
        self.requests.labels(route, method, str(status)).inc()
        self.duration.labels(route, method).observe(seconds)


class Metrics:
    """Every metric of one app, in its own registry (never the process-global default one)."""

    def __init__(self, registry: CollectorRegistry | None = None, *, process: bool = True) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        if process:
            ProcessCollector(registry=self.registry)
            PlatformCollector(registry=self.registry)
            GCCollector(registry=self.registry)
        self.http = HttpMetrics(self.registry)
        self.oauth = OAuthMetrics(self.registry)
        self.tools = ToolMetrics(self.registry)
        self.spotify = SpotifyMetrics(self.registry)

    def exposition(self) -> bytes:
        """The registry in the Prometheus text format."""
        return generate_latest(self.registry)


def route_template(scope: Scope) -> str:
    """The path template of the route that handled a request (set by Starlette's router), never the raw path."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) and path else UNMATCHED_ROUTE


class HttpMetricsMiddleware:
    """Pure ASGI middleware counting and timing every HTTP request by route template, method and status."""

    def __init__(self, app: ASGIApp, *, metrics: HttpMetrics, timer: Callable[[], float] = time.perf_counter) -> None:
        self._app = app
        self._metrics = metrics
        self._timer = timer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, noting the status it was answered with."""
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = self._timer()
        status = 500

        async def noting_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self._app(scope, receive, noting_send)
        finally:
            self._metrics.observe(
                route_template(scope), method_label(scope.get("method", "")), status, self._timer() - started
            )


def metrics_endpoint(metrics: Metrics) -> Callable[[Request], Awaitable[Response]]:
    """A request handler answering with the registry's exposition, never cached."""

    async def serve_metrics(request: Request) -> Response:
        return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})

    return serve_metrics


def metrics_app(metrics: Metrics) -> Starlette:
    """A separate app serving only ``GET /metrics``, for a listener of its own."""
    return Starlette(routes=[Route("/metrics", metrics_endpoint(metrics), methods=["GET"])])
