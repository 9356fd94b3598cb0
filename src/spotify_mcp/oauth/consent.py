"""``/consent``: the page where a person approves an MCP client before we send them to Spotify.

This is the confused-deputy defence: every client is asked for on every authorization. Only after
approval do we create the upstream ``state``, our PKCE pair toward Spotify, and the browser-binding
cookie that ``/callback`` checks.

"Remember this app in this browser" (an unticked checkbox, offered unless ``SPOTIFY_MCP_REMEMBER_CONSENT``
is off) stores the approval in a signed cookie, one per (client_id, exact redirect URI), holding the
approved scopes and an expiry and bound by its signature to a random per-browser id (another cookie), so
the cookie means nothing elsewhere. It is only offered for https redirect URIs on non-loopback hosts: a
loopback port or a private-use scheme can be claimed by any program on the device. A remembered consent
covers the same client, the same redirect URI string and a subset of the scopes, and it skips the consent
page only when the /authorize navigation is ``Sec-Fetch-Site: same-origin``. Any other navigation (a
cross-site or same-site page, a link opened from another program, or no Fetch Metadata at all) still gets
the consent page, marked as remembered, so no site or program can start a sign-in that completes
without a click on our page. Deny, or Allow with the box unticked, forgets it.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

from spotify_mcp.crypto import hash_secret, new_pkce_verifier, pkce_challenge
from spotify_mcp.oauth.body import BadForm, BodyTooLarge, read_form
from spotify_mcp.oauth.clients import ClientLookupError
from spotify_mcp.oauth.redirect_response import redirect_to_client
from spotify_mcp.oauth.redirects import is_loopback_redirect, is_private_use_redirect, redirect_host
from spotify_mcp.observability.observers import NO_OAUTH, OAuthObserver
from spotify_mcp.scopes import spotify_only
from spotify_mcp.services import Runtime, Services
from spotify_mcp.store.records import AuthRequestRecord, RequestStatus
from spotify_mcp.web.cookies import clear_cookie, get_cookie, set_cookie
from spotify_mcp.web.pages import consent_page, error_page
from spotify_mcp.web.responses import form_action_sources, html_page, redirect

CSRF_COOKIE = "smcp_csrf"
BINDING_COOKIE_PREFIX = "smcp_bind_"
REMEMBER_COOKIE_PREFIX = "smcp_rc_"
BROWSER_COOKIE = "smcp_browser"
UPSTREAM_TTL = 600


def binding_cookie(upstream_state: str) -> str:
    """The binding cookie's base name for one upstream state (so parallel sign-ins don't collide)."""
    return BINDING_COOKIE_PREFIX + hash_secret(upstream_state)[:16]


def verifier_context(request_id: str) -> str:
    """The sealing context of the Spotify PKCE verifier of one request."""
    return f"spotify-pkce:{request_id}"


def remember_cookie(client_id: str, redirect_uri: str) -> str:
    """The base name of the remembered-consent cookie of one client and redirect URI."""
    return REMEMBER_COOKIE_PREFIX + hash_secret(f"{client_id}\n{redirect_uri}")[:16]


def can_remember(services: Services, redirect_uri: str) -> bool:
    """Whether consent for this redirect URI may be remembered: enabled, and an https non-loopback URI."""
    return (
        services.settings.remember_consent
        and not is_loopback_redirect(redirect_uri)
        and not is_private_use_redirect(redirect_uri)
    )


def remembers(request: Request, services: Services, pending: AuthRequestRecord) -> bool:
    """True if this browser holds a valid remembered consent covering the request's client, URI and scopes."""
    if not can_remember(services, pending.redirect_uri):
        return False
    https = services.settings.is_https
    value = get_cookie(request, remember_cookie(pending.client_id, pending.redirect_uri), https=https)
    browser = get_cookie(request, BROWSER_COOKIE, https=https)
    if not value or not browser:
        return False
    expires_text, _, rest = value.partition(".")
    scopes_text, _, signature = rest.partition(".")
    try:
        expires = int(expires_text)
        scopes = base64.urlsafe_b64decode(scopes_text + "=" * (-len(scopes_text) % 4)).decode()
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return False
    message = _remember_message(pending.client_id, pending.redirect_uri, scopes, expires, browser)
    if expires <= services.clock.now() or not services.keys.verify(message, signature):
        return False
    return set(pending.scopes) <= set(scopes.split())


def _remember_message(client_id: str, redirect_uri: str, scopes: str, expires: int, browser: str) -> str:
    return f"remember-consent:v1\n{client_id}\n{redirect_uri}\n{scopes}\n{expires}\n{hash_secret(browser)}"


def _remember(request: Request, response: Response, services: Services, pending: AuthRequestRecord) -> None:
    """Set the remembered-consent cookie (and the browser id it is bound to) for the approved request."""
    https = services.settings.is_https
    ttl = services.settings.remember_consent_ttl
    browser = get_cookie(request, BROWSER_COOKIE, https=https) or secrets.token_urlsafe(32)
    expires = int(services.clock.now()) + ttl
    scopes = " ".join(pending.scopes)
    signature = services.keys.sign(_remember_message(pending.client_id, pending.redirect_uri, scopes, expires, browser))
    encoded = base64.urlsafe_b64encode(scopes.encode()).rstrip(b"=").decode()
    name = remember_cookie(pending.client_id, pending.redirect_uri)
    set_cookie(response, name, f"{expires}.{encoded}.{signature}", max_age=ttl, https=https)
    set_cookie(response, BROWSER_COOKIE, browser, max_age=ttl, https=https)


def _forget(request: Request, response: Response, services: Services, pending: AuthRequestRecord) -> None:
    """Clear this client and redirect URI's remembered consent, if the browser has one."""
    https = services.settings.is_https
    name = remember_cookie(pending.client_id, pending.redirect_uri)
    if get_cookie(request, name, https=https) is not None:
        clear_cookie(response, name, https=https)


async def approve_and_redirect(
    pending: AuthRequestRecord,
    services: Services,
    metrics: OAuthObserver,
    *,
    request: Request,
    remember: bool | None,
) -> Response:
    """Approve a pending request: upstream state, Spotify PKCE, binding cookie, then off to Spotify.

    ``remember`` True sets the remembered consent, False forgets it, None leaves it as it is.
    """
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
    metrics.consent("approved")
    location = services.accounts.authorize_url(
        redirect_uri=services.settings.callback_url,
        state=upstream_state,
        code_challenge=pkce_challenge(verifier),
        scopes=spotify_only(pending.scopes),
    )
    response = redirect(location, https=https)
    set_cookie(response, binding_cookie(upstream_state), binding, max_age=UPSTREAM_TTL, https=https)
    clear_cookie(response, CSRF_COOKIE, https=https)
    if remember and can_remember(services, pending.redirect_uri):
        _remember(request, response, services, pending)
    elif remember is False:
        _forget(request, response, services, pending)
    return response


class ConsentEndpoint:
    """GET renders the consent page; POST records the decision."""

    def __init__(self, runtime: Runtime, *, metrics: OAuthObserver = NO_OAUTH) -> None:
        self._runtime = runtime
        self._metrics = metrics

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
        offer_remember = can_remember(services, pending.redirect_uri)
        page = consent_page(
            client_name=client.display_name,
            client_id_host=urlsplit(client.client_id).hostname if client.is_cimd else None,
            redirect_host=redirect_host(pending.redirect_uri),
            redirect_uri=pending.redirect_uri,
            offer_remember=offer_remember,
            remembered=offer_remember and remembers(request, services, pending),
            loopback_only=all(is_loopback_redirect(u) for u in client.metadata.redirect_uris),
            scopes=spotify_only(pending.scopes),
            request_id=pending.request_id,
            csrf_token=services.keys.sign(_csrf_message(pending.request_id, nonce)),
        )
        # Browsers apply form-action to the redirect after the post: Spotify (approve) or the client (deny).
        targets = form_action_sources(services.settings.spotify_accounts_url, pending.redirect_uri)
        response = html_page(page, https=https, form_action=targets)
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
            self._metrics.consent("denied")
            response = redirect_to_client(
                pending.redirect_uri,
                issuer=services.settings.issuer,
                state=pending.client_state,
                https=https,
                error="access_denied",
                error_description="the user denied access",
            )
            clear_cookie(response, CSRF_COOKIE, https=https)
            _forget(request, response, services, pending)
            return response
        if action != "approve":
            return html_page(error_page("Invalid request", "Choose Allow or Deny."), status=400, https=https)
        remember = form.get("remember") == "1"
        return await approve_and_redirect(pending, services, self._metrics, request=request, remember=remember)

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
