"""One id per HTTP request: accepted from ``X-Request-Id`` when safe, else generated; echoed back.

The id lives in a contextvar for the request's duration, so every log record made while serving it
carries it (see ``logs.RequestIdFilter``). It is also kept in the ASGI scope, so work the MCP SDK runs in
a session task of its own (tool calls) can bind the id of the HTTP request that carried the message.
It is never sent to Spotify.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = "X-Request-Id"
SCOPE_KEY = "spotify_mcp.request_id"
_HEADER_BYTES = HEADER.lower().encode("latin-1")
_SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")

_current: ContextVar[str | None] = ContextVar("spotify_mcp_request_id", default=None)


def current_request_id() -> str | None:
    """The id of the request being served, or None outside one."""
    return _current.get()


def new_request_id() -> str:
    """A fresh random request id (16 hex digits)."""
    return secrets.token_hex(8)


def is_safe_request_id(value: str) -> bool:
    """Whether an incoming id is a short token safe to log and echo (letters, digits, ``.``, ``_``, ``:``, ``-``)."""
    return _SAFE.fullmatch(value) is not None


@contextmanager
def bound_request_id(request_id: str | None) -> Iterator[None]:
    """Make ``request_id`` the current one inside the block (nothing changes for None)."""
    if request_id is None:
        yield
        return
    token = _current.set(request_id)
    try:
        yield
    finally:
        _current.reset(token)


def request_id_of(scope: Mapping[str, Any] | None) -> str | None:
    """The id the middleware gave the request whose ASGI scope this is, if any."""
    value = scope.get(SCOPE_KEY) if scope is not None else None
    return value if isinstance(value, str) else None


def request_id_of_context(context: object) -> str | None:
    """The request id of the HTTP request behind an MCP tool ``Context``, if it came over HTTP."""
    try:
        request = getattr(context, "request_context", None)
    except ValueError:  # the SDK raises when the context has no request
        return None
    scope = getattr(getattr(request, "request", None), "scope", None)
    return request_id_of(scope) if isinstance(scope, Mapping) else None


class RequestIdMiddleware:
    """Pure ASGI middleware: picks the request id, binds it for the request, returns it as ``X-Request-Id``."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request with its id bound and echoed."""
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        request_id = _incoming(scope) or new_request_id()
        scope[SCOPE_KEY] = request_id
        header = (_HEADER_BYTES, request_id.encode("latin-1"))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != _HEADER_BYTES]
                message = {**message, "headers": [*headers, header]}
            await send(message)

        with bound_request_id(request_id):
            await self._app(scope, receive, send_with_id)


def _incoming(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name.lower() == _HEADER_BYTES:
            try:
                text = value.decode("ascii")
            except UnicodeDecodeError:
                return None
            return text if is_safe_request_id(text) else None
    return None
