"""Response helpers that carry the right security headers every time.

Every HTML page gets a strict Content-Security-Policy: nothing may load (``default-src 'none'``), the one
inline ``<style>`` is allowed by its SHA-256 hash (no ``'unsafe-inline'``, no scripts at all), forms may
only go to this server and to the targets the caller names (``form-action`` is also enforced on the
redirects that follow a form post), and no other origin may frame the page (``frame-ancestors 'none'``
plus ``X-Frame-Options: DENY`` for older browsers). Pages, redirects and secret-bearing JSON are never
cached (``Cache-Control: no-store``); every response sent on an https deployment pins https (HSTS).

Referrers: redirects and JSON say ``no-referrer``. HTML pages say ``same-origin``, which sends nothing to
any other origin either, because a page whose policy is ``no-referrer`` makes browsers send
``Origin: null`` on its own form posts, and the consent endpoint's same-origin check (rightly) refuses
those. ``same-origin`` keeps the ``Origin`` header exact on our own forms and absent everywhere else.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from spotify_mcp.web.pages import STYLE

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
HSTS = {"Strict-Transport-Security": "max-age=63072000; includeSubDomains"}
PAGE_REFERRER_POLICY = "same-origin"


def _hash_source(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


STYLE_SOURCE = _hash_source(STYLE)


def page_csp(form_action: str = "") -> str:
    """The Content-Security-Policy of our HTML pages; ``form_action`` adds form (and form redirect) targets."""
    targets = " ".join(["'self'", *form_action.split()])
    return (
        f"default-src 'none'; style-src {STYLE_SOURCE}; form-action {targets}; frame-ancestors 'none'; base-uri 'none'"
    )


def form_action_sources(*urls: str) -> str:
    """CSP source expressions for redirect targets: the origin of an http(s) URL, the scheme of any other.

    The consent page needs Spotify's accounts origin (approve redirects there) and the client's redirect
    URI (deny redirects there, possibly to a private-use scheme such as ``com.example.app:/cb``).
    """
    sources: list[str] = []
    for url in urls:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if not scheme or any(c in url for c in " ;,'\""):
            continue
        host = parts.netloc.rpartition("@")[2].lower()
        source = f"{scheme}://{host}" if scheme in ("http", "https") and host else f"{scheme}:"
        if source not in sources:
            sources.append(source)
    return " ".join(sources)


def json_response(
    body: Mapping[str, Any],
    status: int = 200,
    headers: Mapping[str, str] | None = None,
    *,
    secret: bool = True,
) -> JSONResponse:
    """A JSON response; ``secret`` responses (tokens, client secrets, errors about them) are never cached."""
    merged = {
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        **(NO_STORE if secret else {}),
        **(headers or {}),
    }
    return JSONResponse(dict(body), status_code=status, headers=merged)


def oauth_error(
    error: str, description: str, status: int = 400, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """An RFC 6749 §5.2 error body."""
    return json_response({"error": error, "error_description": description}, status, headers)


def page_headers(*, https: bool, form_action: str = "") -> dict[str, str]:
    """Headers for every HTML page: strict CSP, unframeable, no cross-origin referrer, not cached."""
    headers = {
        "Content-Security-Policy": page_csp(form_action),
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": PAGE_REFERRER_POLICY,
        **NO_STORE,
    }
    if https:
        headers.update(HSTS)
    return headers


def html_page(body: str, *, status: int = 200, https: bool, form_action: str = "") -> HTMLResponse:
    """An HTML page with the page security headers."""
    return HTMLResponse(body, status_code=status, headers=page_headers(https=https, form_action=form_action))


def redirect(location: str, *, https: bool) -> Response:
    """A 302 that leaks nothing through caches or the Referer header."""
    headers = {"Location": location, "Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff", **NO_STORE}
    if https:
        headers.update(HSTS)
    return Response(status_code=302, headers=headers)


class NoStore:
    """ASGI wrapper making sure every response says ``Cache-Control: no-store`` (added to what it already says)."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; mark the response start as not to be stored."""
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return

        async def marked(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(raw=list(message["headers"]))
                existing = headers.get("cache-control", "")
                if "no-store" not in existing:
                    headers["Cache-Control"] = f"{existing}, no-store" if existing else "no-store"
                message = {**message, "headers": headers.raw}
            await send(message)

        await self._app(scope, receive, marked)
