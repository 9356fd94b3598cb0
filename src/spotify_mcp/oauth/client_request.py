"""The common start of /token and /revoke: a bounded form and an authenticated client.

Besides reading the form and authenticating, this enforces what RFC 6749 / OAuth 2.1 require of the
request itself: parameters (above all secrets) only in the body, never in the URL; one client
authentication method, not two; and, for a confidential client, exactly the method it registered.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from spotify_mcp.oauth.body import BadForm, BodyTooLarge, read_form
from spotify_mcp.oauth.clients import Client, ClientAuthError, ClientRegistry
from spotify_mcp.store.base import StoreError
from spotify_mcp.web.pages import error_page
from spotify_mcp.web.responses import html_page, oauth_error

Handler = Callable[[Request], Awaitable[Response]]
logger = logging.getLogger(__name__)

BASIC_CHALLENGE = {"WWW-Authenticate": 'Basic realm="spotify-mcp"'}
STORE_RETRY_AFTER = 5
"""Seconds a client is asked to wait (``Retry-After``) when the store cannot be reached."""


def store_unavailable() -> JSONResponse:
    """503 ``temporarily_unavailable``: the store failed, nothing was half-written, the client may retry."""
    return oauth_error(
        "temporarily_unavailable",
        "the server cannot reach its storage right now; retry shortly",
        503,
        {"Retry-After": str(STORE_RETRY_AFTER)},
    )


def guard_store(handler: Handler, *, page: bool, https: bool) -> Handler:
    """Answer 503 with ``Retry-After`` when ``handler`` meets a StoreError: JSON, or an HTML page if ``page``.

    Store operations are atomic, so the failed request changed nothing and is safe to retry.
    """

    async def guarded(request: Request) -> Response:
        try:
            return await handler(request)
        except StoreError as exc:
            logger.warning("the store failed while serving %s %s: %s", request.method, request.url.path, exc)
            if not page:
                return store_unavailable()
            response = html_page(
                error_page("Temporarily unavailable", "The server cannot reach its storage right now."),
                status=503,
                https=https,
            )
            response.headers["Retry-After"] = str(STORE_RETRY_AFTER)
            return response

    return guarded


async def authenticated_form(request: Request, clients: ClientRegistry) -> tuple[Client, FormData] | Response:
    """Read the form and authenticate its client; an error response when either fails."""
    if request.url.query:
        return oauth_error("invalid_request", "send every parameter in the request body, none in the URL")
    try:
        form = await read_form(request)
    except BodyTooLarge as exc:
        return oauth_error("invalid_request", str(exc), 413)
    except BadForm as exc:
        return oauth_error("invalid_request", str(exc))
    used_basic = _uses_basic(request)
    if used_basic and form.get("client_secret"):
        return oauth_error("invalid_request", "use one client authentication method, not two")
    try:
        client = await clients.authenticate(request, form)
    except ClientAuthError as exc:
        return oauth_error("invalid_client", exc.description, 401, BASIC_CHALLENGE if exc.used_basic else None)
    method = client.metadata.token_endpoint_auth_method
    if (method == "client_secret_basic" and not used_basic) or (method == "client_secret_post" and used_basic):
        return oauth_error(
            "invalid_client",
            f"this client registered {method}; authenticate with that method",
            401,
            BASIC_CHALLENGE if used_basic else None,
        )
    return client, form


def _uses_basic(request: Request) -> bool:
    return request.headers.get("authorization", "").partition(" ")[0].lower() == "basic"
