"""Response helpers that carry the right security headers every time."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.responses import HTMLResponse, JSONResponse, Response

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}

PAGE_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' https: data:; "
    "form-action 'self' {form_action}; frame-ancestors 'none'; base-uri 'none'"
)


def json_response(
    body: Mapping[str, Any],
    status: int = 200,
    headers: Mapping[str, str] | None = None,
    *,
    secret: bool = True,
) -> JSONResponse:
    """A JSON response; ``secret`` responses (tokens, client secrets, errors about them) are never cached."""
    merged = {**(NO_STORE if secret else {}), **(headers or {})}
    return JSONResponse(dict(body), status_code=status, headers=merged)


def oauth_error(
    error: str, description: str, status: int = 400, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """An RFC 6749 §5.2 error body."""
    return json_response({"error": error, "error_description": description}, status, headers)


def page_headers(*, https: bool, form_action: str = "") -> dict[str, str]:
    """Headers for every HTML page: strict CSP, unframeable, no referrer, not cached."""
    headers = {
        "Content-Security-Policy": PAGE_CSP.format(form_action=form_action).replace("  ", " "),
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        **NO_STORE,
    }
    if https:
        headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
    return headers


def html_page(body: str, *, status: int = 200, https: bool, form_action: str = "") -> HTMLResponse:
    """An HTML page with the page security headers."""
    return HTMLResponse(body, status_code=status, headers=page_headers(https=https, form_action=form_action))


def redirect(location: str, *, https: bool) -> Response:
    """A 302 that leaks nothing through caches or the Referer header."""
    headers = {"Location": location, "Referrer-Policy": "no-referrer", **NO_STORE}
    if https:
        headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
    return Response(status_code=302, headers=headers)
