"""The accounts service: ``/authorize`` (sign-in page and its form) and ``/api/token``."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import cast
from urllib.parse import urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from spotify_mcp.emulator import data
from spotify_mcp.emulator.config import KNOWN_SCOPES, EmulatorConfig
from spotify_mcp.emulator.pages import error_page, sign_in_page
from spotify_mcp.emulator.tokens import AccessToken, AuthCode, Grant, RefreshToken, new_secret
from spotify_mcp.emulator.world import World

CODE_TTL = 600
CARRIED = (
    "client_id",
    "response_type",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge_method",
    "code_challenge",
)
CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")
VERIFIER = re.compile(r"[A-Za-z0-9._~-]{43,128}")


def _config(request: Request) -> EmulatorConfig:
    return cast(EmulatorConfig, request.app.state.config)


def _world(request: Request) -> World:
    return cast(World, request.app.state.world)


def _redirect(uri: str, params: Mapping[str, str | None]) -> RedirectResponse:
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return RedirectResponse(f"{uri}{'&' if urlsplit(uri).query else '?'}{query}", status_code=302)


@dataclass(frozen=True)
class AuthorizeRequest:
    """A validated authorize request and the parameters the sign-in form carries."""

    redirect_uri: str
    scopes: tuple[str, ...]
    state: str | None
    code_challenge: str | None
    carried: dict[str, str]


def _validate(config: EmulatorConfig, params: Mapping[str, str]) -> AuthorizeRequest | Response:
    """Errors about the client or redirect URI are pages; the rest redirect back with ``error=``."""
    if params.get("client_id") != config.client_id:
        return error_page("INVALID_CLIENT", "Invalid client")
    redirect_uri = params.get("redirect_uri", "")
    if not config.accepts_redirect_uri(redirect_uri):
        return error_page("INVALID_CLIENT", "Invalid redirect URI")
    state = params.get("state")
    response_type = params.get("response_type")
    if response_type != "code":
        error = "invalid_request" if response_type is None else "unsupported_response_type"
        return _redirect(redirect_uri, {"error": error, "state": state})
    scopes = tuple(dict.fromkeys(params.get("scope", "").split()))
    if any(scope not in KNOWN_SCOPES for scope in scopes):
        return _redirect(redirect_uri, {"error": "invalid_scope", "state": state})
    method, challenge = params.get("code_challenge_method"), params.get("code_challenge")
    if (method, challenge) != (None, None) and (method != "S256" or not CHALLENGE.fullmatch(challenge or "")):
        return _redirect(redirect_uri, {"error": "invalid_request", "state": state})
    carried = {name: params[name] for name in (*CARRIED, "show_dialog") if name in params}
    return AuthorizeRequest(redirect_uri, scopes, state, challenge, carried)


async def authorize_page(request: Request) -> Response:
    """``GET /authorize``: the sign-in page, with the Premium test user preselected."""
    checked = _validate(_config(request), request.query_params)
    if not isinstance(checked, AuthorizeRequest):
        return checked
    world = _world(request)
    return sign_in_page(checked.carried, world.test_users, data.PREMIUM_USER, checked.scopes)


async def authorize_submit(request: Request) -> Response:
    """``POST /authorize``: approve → redirect with a code; deny → redirect with ``access_denied``."""
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    checked = _validate(_config(request), fields)
    if not isinstance(checked, AuthorizeRequest):
        return checked
    action = fields.get("action")
    if action == "deny":
        return _redirect(checked.redirect_uri, {"error": "access_denied", "state": checked.state})
    world = _world(request)
    user = world.users.get(fields.get("user", ""))
    if action != "approve" or user is None or not user.test_user:
        return error_page("INVALID_REQUEST", "Choose a test user and approve or deny")
    now = world.clock.now()
    code = new_secret("AQ", 200)
    world.codes[code] = AuthCode(
        client_id=fields["client_id"],
        redirect_uri=checked.redirect_uri,
        scopes=checked.scopes,
        user_id=user.id,
        code_challenge=checked.code_challenge,
        consented_at=now,
        expires_at=now + CODE_TTL,
    )
    return _redirect(checked.redirect_uri, {"code": code, "state": checked.state})


def oauth_error(status: int, error: str, description: str) -> JSONResponse:
    """An accounts-service error body, ``{"error", "error_description"}``."""
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


def _client(request: Request, fields: Mapping[str, str], config: EmulatorConfig) -> tuple[str, bool] | JSONResponse:
    """Authenticate the client: (client_id, whether it proved the secret) or an ``invalid_client`` error."""
    header = request.headers.get("authorization")
    if header:
        scheme, _, value = header.partition(" ")
        try:
            client_id, sep, secret = base64.b64decode(value.strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            sep = ""
        if scheme.lower() != "basic" or not sep:
            return oauth_error(401, "invalid_client", "Invalid client")
        found: tuple[str | None, str | None] = (client_id, secret)
    else:
        found = (fields.get("client_id"), fields.get("client_secret"))
    client_id_or_none, given_secret = found
    if client_id_or_none != config.client_id:
        return oauth_error(401, "invalid_client", "Invalid client")
    if given_secret is not None and given_secret != config.client_secret:
        return oauth_error(401, "invalid_client", "Invalid client secret")
    return config.client_id, given_secret is not None


def _issue(world: World, config: EmulatorConfig, grant: Grant, refresh: bool) -> dict[str, str | int]:
    access = new_secret("BQ", 200)
    world.access_tokens[access] = AccessToken(grant, world.clock.now() + config.access_token_ttl)
    body: dict[str, str | int] = {
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": config.access_token_ttl,
        "scope": " ".join(grant.scopes),
    }
    if refresh:
        refresh_token = new_secret("AQ", 131)
        world.refresh_tokens[refresh_token] = RefreshToken(grant)
        body["refresh_token"] = refresh_token
    return body


def _exchange_code(world: World, config: EmulatorConfig, fields: Mapping[str, str], confidential: bool) -> JSONResponse:
    record = world.codes.get(fields.get("code", ""))
    if record is None or record.used or world.clock.now() >= record.expires_at or record.client_id != config.client_id:
        return oauth_error(400, "invalid_grant", "Invalid authorization code")
    record.used = True
    if fields.get("redirect_uri") != record.redirect_uri:
        return oauth_error(400, "invalid_grant", "Invalid redirect URI")
    if record.code_challenge is not None:
        verifier = fields.get("code_verifier")
        if verifier is None or not VERIFIER.fullmatch(verifier):
            return oauth_error(400, "invalid_request", "code_verifier required")
        digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if digest != record.code_challenge:
            return oauth_error(400, "invalid_grant", "code_verifier was incorrect")
    elif not confidential:
        return oauth_error(401, "invalid_client", "Invalid client secret")
    grant = Grant(record.user_id, record.client_id, record.scopes, record.consented_at, public_client=not confidential)
    return JSONResponse(_issue(world, config, grant, refresh=True), headers={"Cache-Control": "no-store"})


def _refresh(world: World, config: EmulatorConfig, fields: Mapping[str, str], confidential: bool) -> JSONResponse:
    presented = fields.get("refresh_token")
    if not presented:
        return oauth_error(400, "invalid_request", "refresh_token must be supplied")
    record = world.refresh_tokens.get(presented)
    if record is None or record.grant.client_id != config.client_id:
        return oauth_error(400, "invalid_grant", "Invalid refresh token")
    grant = record.grant
    world.refreshes_by_user[grant.user_id] += 1
    if not grant.public_client and not confidential:
        return oauth_error(401, "invalid_client", "Invalid client secret")
    if not record.active:
        return oauth_error(400, "invalid_grant", "Invalid refresh token")
    if grant.revoked or world.clock.now() >= grant.consented_at + config.refresh_token_lifetime:
        return oauth_error(400, "invalid_grant", "Refresh token revoked")
    rotate = config.rotate_refresh_tokens or grant.public_client
    if rotate:
        record.active = False
    return JSONResponse(_issue(world, config, grant, refresh=rotate), headers={"Cache-Control": "no-store"})


async def token(request: Request) -> JSONResponse:
    """``POST /api/token``: the ``authorization_code`` and ``refresh_token`` grants."""
    world, config = _world(request), _config(request)
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    grant_type = fields.get("grant_type", "")
    world.token_requests[grant_type] += 1
    if not grant_type:
        return oauth_error(400, "unsupported_grant_type", "grant_type parameter is missing")
    if grant_type not in ("authorization_code", "refresh_token"):
        return oauth_error(400, "unsupported_grant_type", "grant_type must be authorization_code or refresh_token")
    client = _client(request, fields, config)
    if isinstance(client, JSONResponse):
        return client
    _, confidential = client
    if grant_type == "authorization_code":
        return _exchange_code(world, config, fields, confidential)
    return _refresh(world, config, fields, confidential)


routes = [
    Route("/authorize", authorize_page, methods=["GET"]),
    Route("/authorize", authorize_submit, methods=["POST"]),
    Route("/api/token", token, methods=["POST"]),
]
