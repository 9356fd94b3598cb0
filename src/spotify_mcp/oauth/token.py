"""``/token``: the ``authorization_code`` and ``refresh_token`` grants."""

from __future__ import annotations

import logging
import secrets

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from spotify_mcp.crypto import hash_secret, verify_pkce
from spotify_mcp.oauth.authorize import same_resource
from spotify_mcp.oauth.client_request import authenticated_form
from spotify_mcp.oauth.clients import Client
from spotify_mcp.observability.observers import NO_OAUTH, OAuthObserver
from spotify_mcp.scopes import parse_scope
from spotify_mcp.services import Runtime, Services
from spotify_mcp.store.base import RedeemOutcome, RotateOutcome
from spotify_mcp.store.records import GrantRecord, TokenKind
from spotify_mcp.web.responses import json_response, oauth_error

logger = logging.getLogger(__name__)


class TokenEndpoint:
    """Exchanges codes and refresh tokens for our tokens."""

    def __init__(self, runtime: Runtime, *, metrics: OAuthObserver = NO_OAUTH) -> None:
        self._runtime = runtime
        self._metrics = metrics

    async def __call__(self, request: Request) -> Response:
        """Authenticate the client and run its grant."""
        services = self._runtime.services
        authenticated = await authenticated_form(request, services.clients)
        if isinstance(authenticated, Response):
            return self._metrics.token(authenticated)
        client, form = authenticated
        grant_type = form.get("grant_type")
        if not grant_type:
            return self._metrics.token(oauth_error("invalid_request", "grant_type is required"))
        if grant_type not in ("authorization_code", "refresh_token"):
            return self._metrics.token(
                oauth_error("unsupported_grant_type", "grant_type must be authorization_code or refresh_token")
            )
        if grant_type not in client.metadata.grant_types:
            return self._metrics.token(
                oauth_error("unauthorized_client", f"this client did not register the {grant_type} grant")
            )
        if not client.is_cimd:
            await services.store.touch_client(client.client_id, services.clock.now())
        if grant_type == "authorization_code":
            return self._metrics.token(await _authorization_code(form, client, services), grant_type)
        return self._metrics.token(await _refresh_token(form, client, services), grant_type)


def _field(form: FormData, name: str) -> str | None:
    value = form.get(name)
    return value if isinstance(value, str) and value else None


async def _authorization_code(form: FormData, client: Client, services: Services) -> Response:
    code, verifier = _field(form, "code"), _field(form, "code_verifier")
    if code is None:
        return oauth_error("invalid_request", "code is required")
    if verifier is None:
        return oauth_error("invalid_request", "code_verifier is required (PKCE)")
    now = services.clock.now()
    record = await services.store.get_code(hash_secret(code))
    if record is None or record.client_id != client.client_id:
        return oauth_error("invalid_grant", "the authorization code is invalid")
    # Only a replay that proves possession (verifier, redirect URI) revokes: anyone else holding a used
    # code must not be able to end the legitimate client's grant with it.
    if _field(form, "redirect_uri") != record.redirect_uri:
        return oauth_error("invalid_grant", "redirect_uri does not match the authorization request")
    if not verify_pkce(verifier, record.code_challenge):
        return oauth_error("invalid_grant", "code_verifier does not match the code_challenge")
    if record.grant_id is not None:
        await services.store.revoke_grant(record.grant_id)
        logger.warning("authorization code replayed by client %s: grant revoked", client.client_id)
        return oauth_error("invalid_grant", "the authorization code was already used")
    if record.expires_at <= now:
        return oauth_error("invalid_grant", "the authorization code has expired")
    resource = _field(form, "resource")
    if resource is not None and not same_resource(resource, record.resource):
        return oauth_error("invalid_target", f"the only resource served here is {record.resource}")
    if await services.store.get_spotify_credentials(record.user_id) is None:
        # The user disconnected (or Spotify ended their authorization) after this code was minted.
        return oauth_error("invalid_grant", "the user's Spotify connection ended; authorize again")

    grant = GrantRecord(
        grant_id=secrets.token_urlsafe(18),
        client_id=client.client_id,
        user_id=record.user_id,
        scopes=record.scopes,
        resource=record.resource,
        created_at=now,
    )
    issued = services.tokens.issue(grant)
    outcome = await services.store.redeem_code(record.code_hash, grant, issued.records, now)
    if outcome.outcome is RedeemOutcome.REDEEMED:
        return json_response(issued.response())
    if outcome.outcome is RedeemOutcome.REPLAYED and outcome.first_grant_id:
        await services.store.revoke_grant(outcome.first_grant_id)
        logger.warning("authorization code raced by client %s: grant revoked", client.client_id)
    return oauth_error("invalid_grant", "the authorization code is invalid, expired or already used")


async def _refresh_token(form: FormData, client: Client, services: Services) -> Response:
    presented = _field(form, "refresh_token")
    if presented is None:
        return oauth_error("invalid_request", "refresh_token is required")
    now = services.clock.now()
    record = await services.store.get_token(hash_secret(presented))
    if record is None or record.kind is not TokenKind.REFRESH or record.client_id != client.client_id:
        return oauth_error("invalid_grant", "the refresh token is invalid")
    grant = await services.store.get_grant(record.grant_id)
    if grant is None:
        return oauth_error("invalid_grant", "the refresh token was revoked")
    resource = _field(form, "resource")
    if resource is not None and not same_resource(resource, grant.resource):
        return oauth_error("invalid_target", f"the only resource served here is {grant.resource}")
    requested = parse_scope(_field(form, "scope"))
    if requested and not set(requested) <= set(record.scopes):
        return oauth_error("invalid_scope", "a refresh cannot add scopes the grant does not have")
    issued = services.tokens.issue(grant, requested or record.scopes, refresh_scopes=record.scopes)
    outcome = await services.store.rotate_refresh_token(record.token_hash, issued.records, now)
    if outcome is RotateOutcome.ROTATED:
        await services.store.touch_grant(grant.grant_id, now)
        return json_response(issued.response())
    if outcome is RotateOutcome.REUSED:
        logger.warning("refresh token reuse by client %s: grant revoked", client.client_id)
        return oauth_error("invalid_grant", "this refresh token was already used; the grant has been revoked")
    return oauth_error("invalid_grant", "the refresh token is invalid or expired")
