"""``/authorize``: validate an MCP client's authorization request, then send the browser to consent.

Errors about the client or its redirect URI are shown as a page and never redirected (the redirect
target is not trusted yet); every other error goes back to the client with ``state`` and ``iss``. A
repeated ``client_id`` or ``redirect_uri`` is such an error; any other repeated parameter we define is
redirected as ``invalid_request`` (without ``state`` if that was the one repeated); unknown parameters
are ignored, repeated or not.

A consent this browser remembered (``oauth/consent.py``) skips the consent page only for a same-origin
navigation; any other request still shows it.
"""

from __future__ import annotations

import re
import secrets
from urllib.parse import parse_qsl, urlsplit

from starlette.requests import Request
from starlette.responses import Response

from spotify_mcp.oauth.body import MAX_FORM_BYTES, BodyTooLarge, read_limited
from spotify_mcp.oauth.cimd import is_cimd_client_id
from spotify_mcp.oauth.clients import ClientLookupError
from spotify_mcp.oauth.consent import approve_and_redirect, remembers
from spotify_mcp.oauth.redirect_response import redirect_to_client
from spotify_mcp.oauth.redirects import host_allowed, redirect_host, redirect_uri_allowed, redirect_uri_matches
from spotify_mcp.observability.observers import NO_OAUTH, OAuthObserver
from spotify_mcp.scopes import OFFLINE_ACCESS, parse_scope
from spotify_mcp.services import Runtime
from spotify_mcp.store.records import AuthRequestRecord
from spotify_mcp.web.pages import error_page
from spotify_mcp.web.responses import html_page, redirect

REQUEST_TTL = 600
MAX_STATE_LENGTH = 1024
MAX_QUERY_LENGTH = 8192
DEFINED_PARAMETERS = frozenset(
    {
        "response_type",
        "client_id",
        "redirect_uri",
        "scope",
        "state",
        "code_challenge",
        "code_challenge_method",
        "resource",
        "prompt",
    }
)
# BASE64URL(SHA-256(verifier)) without padding: always 43 characters of the base64url alphabet.
_S256_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")


def is_s256_challenge(challenge: str) -> bool:
    """True if ``challenge`` has the shape of an S256 code challenge (RFC 7636 §4.2)."""
    return _S256_CHALLENGE.fullmatch(challenge) is not None


class AuthorizeEndpoint:
    """Handles GET (query) and POST (form) authorization requests."""

    def __init__(self, runtime: Runtime, *, metrics: OAuthObserver = NO_OAUTH) -> None:
        self._runtime = runtime
        self._metrics = metrics

    async def __call__(self, request: Request) -> Response:
        """Validate the request and redirect to the consent page."""
        services = self._runtime.services
        https = services.settings.is_https
        parsed = await _parameters(request)
        if isinstance(parsed, str):
            return self._page(400, "Invalid authorization request", parsed)
        params, repeated = parsed
        if {"client_id", "redirect_uri"} & repeated:
            names = ", ".join(sorted({"client_id", "redirect_uri"} & repeated))
            return self._page(400, "Invalid authorization request", f"Parameters must not be repeated: {names}.")

        client_id = params.get("client_id", "")
        cimd_allowlist = services.settings.cimd_domain_allowlist
        if cimd_allowlist and (is_cimd_client_id(client_id) or client_id.startswith("http://")):
            host = urlsplit(client_id).hostname or ""
            if not host_allowed(host, cimd_allowlist):
                return self._page(
                    400, "Unknown application", f"This server does not accept applications published by {host}."
                )
        try:
            client = await services.clients.get(client_id) if client_id else None
        except ClientLookupError as exc:
            return self._page(400, "Unknown application", exc.description)
        if client is None:
            return self._page(
                400,
                "Unknown application",
                "The application that sent you here is not registered with this server.",
            )

        registered = client.metadata.redirect_uris
        redirect_uri = params.get("redirect_uri")
        if redirect_uri is None:
            if len(registered) != 1:
                return self._page(400, "Invalid redirect", "redirect_uri is required for this application.")
            redirect_uri = registered[0]
        elif not redirect_uri_matches(registered, redirect_uri):
            return self._page(
                400,
                "Invalid redirect",
                "The address this application asked to return to is not one it registered.",
            )
        if not redirect_uri_allowed(redirect_uri, services.settings.redirect_host_allowlist):
            return self._page(
                400, "Invalid redirect", f"This server does not send sign-ins to {redirect_host(redirect_uri)}."
            )

        state = None if "state" in repeated else params.get("state")
        if state is not None and len(state) > MAX_STATE_LENGTH:
            return self._page(400, "Invalid authorization request", "The state parameter is too long.")

        def fail(error: str, description: str) -> Response:
            self._metrics.authorize(accepted=False)
            return redirect_to_client(
                redirect_uri,
                issuer=services.settings.issuer,
                state=state,
                https=https,
                error=error,
                error_description=description,
            )

        if repeated:
            return fail("invalid_request", f"parameters must not be repeated: {', '.join(sorted(repeated))}")
        if "response_type" not in params:
            return fail("invalid_request", "response_type is required (code)")
        if params["response_type"] != "code":
            return fail("unsupported_response_type", "only response_type=code is supported")
        if "authorization_code" not in client.metadata.grant_types:
            return fail("unauthorized_client", "this client did not register the authorization_code grant")
        challenge = params.get("code_challenge")
        if not challenge:
            return fail("invalid_request", "PKCE is required: send code_challenge with code_challenge_method=S256")
        if params.get("code_challenge_method") != "S256":
            return fail("invalid_request", "code_challenge_method must be S256 (plain is not supported)")
        if not is_s256_challenge(challenge):
            return fail("invalid_request", "code_challenge is malformed: 43 base64url characters are expected")

        resource = params.get("resource")
        if resource is not None and not same_resource(resource, services.settings.mcp_url):
            return fail("invalid_target", f"the only resource served here is {services.settings.mcp_url}")

        allowed = set(services.settings.scopes) | {OFFLINE_ACCESS}
        if client.metadata.scope:
            allowed &= set(parse_scope(client.metadata.scope))
        requested = parse_scope(params.get("scope"))
        if not requested:
            requested = tuple(s for s in services.settings.scopes if s in allowed)
        unknown = [s for s in requested if s not in allowed]
        if unknown:
            return fail("invalid_scope", f"scopes not available to this client: {' '.join(unknown)}")

        now = services.clock.now()
        record = AuthRequestRecord(
            request_id=secrets.token_urlsafe(24),
            client_id=client.client_id,
            redirect_uri=redirect_uri,
            scopes=requested,
            code_challenge=challenge,
            resource=services.settings.mcp_url,
            client_state=state,
            created_at=now,
            expires_at=now + REQUEST_TTL,
        )
        await services.store.add_auth_request(record)
        if not client.is_cimd:
            await services.store.touch_client(client.client_id, now)
        self._metrics.authorize(accepted=True)
        if (
            request.headers.get("sec-fetch-site") == "same-origin"
            and params.get("prompt") not in ("consent", "login")
            and remembers(request, services, record)
        ):
            return await approve_and_redirect(record, services, self._metrics, request=request, remember=None)
        return redirect(f"{services.settings.issuer}/consent?request={record.request_id}", https=https)

    def _page(self, status: int, title: str, message: str) -> Response:
        self._metrics.authorize(accepted=False)
        return html_page(error_page(title, message), status=status, https=self._runtime.services.settings.is_https)


def same_resource(presented: str, canonical: str) -> bool:
    """Compare a client-supplied resource with ours: scheme and host case-insensitive, trailing slash ignored."""
    try:
        a, b = urlsplit(presented), urlsplit(canonical)
    except ValueError:
        return False
    if "#" in presented or a.fragment or a.query != b.query:
        return False
    return (
        a.scheme.lower() == b.scheme.lower()
        and a.netloc.lower() == b.netloc.lower()
        and (a.path.rstrip("/") or "/") == (b.path.rstrip("/") or "/")
    )


async def _parameters(request: Request) -> tuple[dict[str, str], frozenset[str]] | str:
    """The non-empty parameters and the defined ones that were repeated, or why the request cannot be read."""
    if request.method == "POST":
        if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/x-www-form-urlencoded":
            return "The body must be application/x-www-form-urlencoded."
        try:
            raw = await read_limited(request, MAX_FORM_BYTES)
        except BodyTooLarge:
            return "The request is too long."
    else:
        raw = request.scope.get("query_string", b"")
        if len(raw) > MAX_QUERY_LENGTH:
            return "The request is too long."
    try:
        pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True)
    except UnicodeDecodeError:
        return "The request is not valid UTF-8."
    names = [k for k, _ in pairs]
    repeated = frozenset(n for n in names if n in DEFINED_PARAMETERS and names.count(n) > 1)
    return {k: v for k, v in reversed(pairs) if v != ""}, repeated
