"""``/authorize``: validate an MCP client's authorization request, then send the browser to consent.

Errors about the client or its redirect URI are shown as a page and never redirected (the redirect
target is not trusted yet); every other error goes back to the client with ``state`` and ``iss``.
"""

from __future__ import annotations

import re
import secrets
from urllib.parse import parse_qsl, urlsplit

from starlette.requests import Request
from starlette.responses import Response

from spotify_mcp.oauth.body import BadForm, BodyTooLarge, read_form
from spotify_mcp.oauth.clients import ClientLookupError
from spotify_mcp.oauth.redirect_response import redirect_to_client
from spotify_mcp.oauth.redirects import redirect_uri_matches
from spotify_mcp.scopes import OFFLINE_ACCESS, parse_scope
from spotify_mcp.services import Runtime
from spotify_mcp.store.records import AuthRequestRecord
from spotify_mcp.web.pages import error_page
from spotify_mcp.web.responses import html_page, redirect

REQUEST_TTL = 600
MAX_STATE_LENGTH = 1024
MAX_QUERY_LENGTH = 8192
_CHALLENGE = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")


class AuthorizeEndpoint:
    """Handles GET (query) and POST (form) authorization requests."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime

    async def __call__(self, request: Request) -> Response:
        """Validate the request and redirect to the consent page."""
        services = self._runtime.services
        https = services.settings.is_https
        params = await _parameters(request)
        if isinstance(params, str):
            return self._page(400, "Invalid authorization request", params)

        client_id = params.get("client_id", "")
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

        state = params.get("state")
        if state is not None and len(state) > MAX_STATE_LENGTH:
            return self._page(400, "Invalid authorization request", "The state parameter is too long.")

        def fail(error: str, description: str) -> Response:
            return redirect_to_client(
                redirect_uri,
                issuer=services.settings.issuer,
                state=state,
                https=https,
                error=error,
                error_description=description,
            )

        if params.get("response_type") != "code":
            return fail("unsupported_response_type", "only response_type=code is supported")
        if "authorization_code" not in client.metadata.grant_types:
            return fail("unauthorized_client", "this client did not register the authorization_code grant")
        challenge = params.get("code_challenge")
        if not challenge:
            return fail("invalid_request", "PKCE is required: send code_challenge with code_challenge_method=S256")
        if params.get("code_challenge_method", "plain") != "S256":
            return fail("invalid_request", "code_challenge_method must be S256")
        if not _CHALLENGE.fullmatch(challenge):
            return fail("invalid_request", "code_challenge is malformed")

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
        return redirect(f"{services.settings.issuer}/consent?request={record.request_id}", https=https)

    def _page(self, status: int, title: str, message: str) -> Response:
        return html_page(error_page(title, message), status=status, https=self._runtime.services.settings.is_https)


def same_resource(presented: str, canonical: str) -> bool:
    """Compare a client-supplied resource with ours: scheme and host case-insensitive, trailing slash ignored."""
    try:
        a, b = urlsplit(presented), urlsplit(canonical)
    except ValueError:
        return False
    if a.fragment or a.query != b.query:
        return False
    return (
        a.scheme.lower() == b.scheme.lower()
        and a.netloc.lower() == b.netloc.lower()
        and (a.path.rstrip("/") or "/") == (b.path.rstrip("/") or "/")
    )


async def _parameters(request: Request) -> dict[str, str] | str:
    """The request's parameters, or a message explaining why they cannot be read."""
    if request.method == "POST":
        try:
            form = await read_form(request)
        except (BadForm, BodyTooLarge) as exc:
            return str(exc)
        pairs = [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
    else:
        query = request.scope.get("query_string", b"")
        if len(query) > MAX_QUERY_LENGTH:
            return "The request is too long."
        try:
            pairs = parse_qsl(query.decode("utf-8"), keep_blank_values=True)
        except UnicodeDecodeError:
            return "The request is not valid UTF-8."
        names = [k for k, _ in pairs]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            return f"Parameters must not be repeated: {', '.join(repeated)}."
    return {k: v for k, v in pairs if v != ""}
