"""``/consent``: the page where a person approves an MCP client before we send them to Spotify.

This is the confused-deputy defence: every client is asked for on every authorization. Only after
approval do we create the upstream ``state``, our PKCE pair toward Spotify, and the browser-binding
cookie that ``/callback`` checks.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

from spotify_mcp.crypto import hash_secret, new_pkce_verifier, pkce_challenge
from spotify_mcp.oauth.body import BadForm, BodyTooLarge, read_form
from spotify_mcp.oauth.clients import ClientLookupError
from spotify_mcp.oauth.redirect_response import redirect_to_client
from spotify_mcp.oauth.redirects import is_loopback_redirect, redirect_host
from spotify_mcp.scopes import spotify_only
from spotify_mcp.services import Runtime, Services
from spotify_mcp.store.records import AuthRequestRecord, RequestStatus
from spotify_mcp.web.cookies import clear_cookie, get_cookie, set_cookie
from spotify_mcp.web.pages import consent_page, error_page
from spotify_mcp.web.responses import html_page, redirect

CSRF_COOKIE = "smcp_csrf"
BINDING_COOKIE_PREFIX = "smcp_bind_"
UPSTREAM_TTL = 600


def binding_cookie(upstream_state: str) -> str:
    """The binding cookie's base name for one upstream state (so parallel sign-ins don't collide)."""
    return BINDING_COOKIE_PREFIX + hash_secret(upstream_state)[:16]


def verifier_context(request_id: str) -> str:
    """The sealing context of the Spotify PKCE verifier of one request."""
    return f"spotify-pkce:{request_id}"


class ConsentEndpoint:
    """GET renders the consent page; POST records the decision."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime

    async def __call__(self, request: Request) -> Response:
        """Dispatch on method."""
        services = self._runtime.services
        if request.method == "POST":
            return await self._decide(request, services)
        return await self._show(request, services)

    async def _show(self, request: Request, services: Services) -> Response:
        https = services.settings.is_https
        pending = await self._pending(services, request.query_params.get("request", ""))
        if pending is None:
            return _expired(https)
        try:
            client = await services.clients.get(pending.client_id)
        except ClientLookupError as exc:
            return html_page(error_page("Unknown application", exc.description), status=400, https=https)
        if client is None:
            return _expired(https)
        nonce = secrets.token_urlsafe(24)
        page = consent_page(
            client_name=client.display_name,
            client_id_host=urlsplit(client.client_id).hostname if client.is_cimd else None,
            redirect_host=redirect_host(pending.redirect_uri),
            loopback_only=all(is_loopback_redirect(u) for u in client.metadata.redirect_uris),
            scopes=spotify_only(pending.scopes),
            request_id=pending.request_id,
            csrf_token=services.keys.sign(_csrf_message(pending.request_id, nonce)),
        )
        response = html_page(page, https=https)
        set_cookie(response, CSRF_COOKIE, nonce, max_age=UPSTREAM_TTL, https=https)
        return response

    async def _decide(self, request: Request, services: Services) -> Response:
        https = services.settings.is_https
        if not _same_origin(request, services.settings.issuer):
            return html_page(
                error_page("Request refused", "This form can only be submitted from this server's own page."),
                status=403,
                https=https,
            )
        try:
            form = await read_form(request)
        except (BadForm, BodyTooLarge) as exc:
            return html_page(error_page("Invalid request", str(exc)), status=400, https=https)
        request_id = str(form.get("request", ""))
        token = str(form.get("csrf", ""))
        nonce = get_cookie(request, CSRF_COOKIE, https=https)
        if not nonce or not token or not services.keys.verify(_csrf_message(request_id, nonce), token):
            return html_page(
                error_page(
                    "Request refused",
                    "This consent form is not valid for this browser. Start again from your application.",
                ),
                status=403,
                https=https,
            )
        pending = await self._pending(services, request_id)
        if pending is None:
            return _expired(https)
        action = form.get("action")
        if action == "deny":
            await services.store.delete_auth_request(pending.request_id)
            response = redirect_to_client(
                pending.redirect_uri,
                issuer=services.settings.issuer,
                state=pending.client_state,
                https=https,
                error="access_denied",
                error_description="the user denied access",
            )
            clear_cookie(response, CSRF_COOKIE, https=https)
            return response
        if action != "approve":
            return html_page(error_page("Invalid request", "Choose Allow or Deny."), status=400, https=https)
        return await self._approve(pending, services)

    async def _approve(self, pending: AuthRequestRecord, services: Services) -> Response:
        https = services.settings.is_https
        now = services.clock.now()
        upstream_state = secrets.token_urlsafe(32)
        verifier = new_pkce_verifier()
        binding = secrets.token_urlsafe(32)
        approved = await services.store.approve_auth_request(
            pending.request_id,
            upstream_state_hash=hash_secret(upstream_state),
            upstream_verifier_sealed=services.keys.seal(verifier, verifier_context(pending.request_id)),
            binding_hash=hash_secret(binding),
            expires_at=now + UPSTREAM_TTL,
            now=now,
        )
        if not approved:
            return _expired(https)
        location = services.accounts.authorize_url(
            redirect_uri=services.settings.callback_url,
            state=upstream_state,
            code_challenge=pkce_challenge(verifier),
            scopes=spotify_only(pending.scopes),
        )
        response = redirect(location, https=https)
        set_cookie(response, binding_cookie(upstream_state), binding, max_age=UPSTREAM_TTL, https=https)
        clear_cookie(response, CSRF_COOKIE, https=https)
        return response

    async def _pending(self, services: Services, request_id: str) -> AuthRequestRecord | None:
        if not request_id or len(request_id) > 100:
            return None
        record = await services.store.get_auth_request(request_id, services.clock.now())
        if record is None or record.status is not RequestStatus.PENDING_CONSENT:
            return None
        return record


def _csrf_message(request_id: str, nonce: str) -> str:
    return f"consent:{request_id}:{nonce}"


def _same_origin(request: Request, issuer: str) -> bool:
    """Refuse cross-site form posts (Origin and Fetch Metadata), tolerating clients that send neither."""
    if request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        return False
    origin = request.headers.get("origin")
    if origin is None:
        return True
    parts = urlsplit(issuer)
    return origin == f"{parts.scheme}://{parts.netloc}"


def _expired(https: bool) -> Response:
    return html_page(
        error_page(
            "This sign-in has expired",
            "This authorization request is unknown, was already used, or has expired.",
            "Go back to your application and connect again.",
        ),
        status=400,
        https=https,
    )
