"""Personal access tokens: named, scoped, expiring access tokens a signed-in user issues on the account page.

For clients that only take a static ``Authorization`` header (LibreChat's ``headers``, scripts). A token needs
no schema of its own; it is three ordinary records:

* a client of its own, ``smcp_patc_…`` (a reserved id no OAuth endpoint accepts, ``oauth/clients.py``), whose
  metadata holds the token's name, ``kind: personal_access_token``, no redirect URI, no grant type, and the
  expiry;
* a grant of the user to that client, for the chosen scopes and our ``/mcp`` resource;
* one access token, ``smcp_pat_…``, stored as its SHA-256 hash only, expiring with the client.

The grant and the token are written by one atomic store operation (``redeem_code`` of a code minted for the
purpose and never shown). ``/mcp`` takes the token like any access token of ours (``oauth/tokens.py``);
revoking it (on the account page, or at ``/revoke`` with the token itself) ends the grant, and the sweeper
deletes the client once the token has expired or lost its grant (``oauth/client_expiry.py``).
"""

from __future__ import annotations

import json
import secrets
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from spotify_mcp.crypto import hash_secret, new_secret
from spotify_mcp.oauth.clients import PAT_CLIENT_PREFIX, is_pat_client_id
from spotify_mcp.oauth.tokens import CODE_PREFIX, PAT_PREFIX
from spotify_mcp.services import Services
from spotify_mcp.store.base import RedeemOutcome, StoreError
from spotify_mcp.store.records import AuthCodeRecord, ClientRecord, GrantRecord, TokenKind, TokenRecord

EXPIRY_DAYS = (7, 30, 90, 365)
MAX_NAME_LENGTH = 60
MAX_TOKENS_PER_USER = 25
SCOPE_FIELD = "scope:"
"""Each permission checkbox is its own form field, ``scope:<scope>`` (forms here refuse repeated fields)."""


class TokenRequestError(ValueError):
    """A token request we refuse; the message is safe to show."""


@dataclass(frozen=True, slots=True)
class TokenRequest:
    """A valid request for a personal access token."""

    name: str
    scopes: tuple[str, ...]
    days: int


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A token just issued: the only moment its plaintext exists."""

    token: str
    name: str
    scopes: tuple[str, ...]
    expires_at: float


def parse_token_request(form: Mapping[str, object], allowed: Sequence[str]) -> TokenRequest:
    """Validate the token form against the scopes the user may give; TokenRequestError says what is wrong."""
    name = str(form.get("name", "")).strip()
    if not 1 <= len(name) <= MAX_NAME_LENGTH:
        raise TokenRequestError(f"Give the token a name of 1 to {MAX_NAME_LENGTH} characters.")
    if any(unicodedata.category(c).startswith("C") for c in name):
        raise TokenRequestError("The name must not contain control or formatting characters.")
    chosen = [key.removeprefix(SCOPE_FIELD) for key in form if key.startswith(SCOPE_FIELD)]
    refused = [scope for scope in chosen if scope not in allowed]
    if refused:
        raise TokenRequestError(f"These permissions cannot be given to a token: {', '.join(refused)}.")
    if not chosen:
        raise TokenRequestError("Choose at least one permission.")
    days_text = str(form.get("expires_days", ""))
    if not days_text.isdigit() or int(days_text) not in EXPIRY_DAYS:
        raise TokenRequestError(f"Choose an expiry of {', '.join(map(str, EXPIRY_DAYS))} days.")
    return TokenRequest(name, tuple(s for s in allowed if s in chosen), int(days_text))


async def issue_token(services: Services, user_id: str, request: TokenRequest) -> IssuedToken:
    """Store a new personal access token of ``user_id`` and return it; TokenRequestError past the per-user cap."""
    store = services.store
    owned = [grant for grant in await store.list_grants(user_id) if is_pat_client_id(grant.client_id)]
    if len(owned) >= MAX_TOKENS_PER_USER:
        raise TokenRequestError(f"You have {len(owned)} tokens, the most there can be: revoke one first.")
    now = services.clock.now()
    expires_at = now + request.days * 86400
    client_id = PAT_CLIENT_PREFIX + secrets.token_urlsafe(18)
    resource = services.settings.mcp_url
    metadata = {
        "client_name": request.name,
        "kind": "personal_access_token",
        "redirect_uris": [],
        "grant_types": [],
        "expires_at": int(expires_at),
    }
    await store.add_client(ClientRecord(client_id, json.dumps(metadata, sort_keys=True), None, now))
    token = new_secret(PAT_PREFIX)
    grant = GrantRecord(secrets.token_urlsafe(18), client_id, user_id, request.scopes, resource, now)
    access = TokenRecord(
        token_hash=hash_secret(token),
        kind=TokenKind.ACCESS,
        grant_id=grant.grant_id,
        client_id=client_id,
        user_id=user_id,
        scopes=request.scopes,
        resource=resource,
        created_at=now,
        expires_at=expires_at,
    )
    code_hash = hash_secret(new_secret(CODE_PREFIX))
    await store.add_code(
        AuthCodeRecord(code_hash, client_id, "", request.scopes, "", resource, user_id, now, expires_at=now + 60)
    )
    redeemed = await store.redeem_code(code_hash, grant, [access], now)
    if redeemed.outcome is not RedeemOutcome.REDEEMED:
        await store.delete_client(client_id)
        raise StoreError(f"a new personal access token could not be stored ({redeemed.outcome})")
    return IssuedToken(token, request.name, request.scopes, expires_at)


async def revoke_access(services: Services, user_id: str, grant_id: str) -> bool:
    """Revoke one grant of ``user_id`` (a token's goes with its client); False if they have no such grant."""
    grant = await services.store.get_grant(grant_id) if grant_id and len(grant_id) <= 100 else None
    if grant is None or grant.user_id != user_id:
        return False
    if is_pat_client_id(grant.client_id):
        await services.store.delete_client(grant.client_id)
    else:
        await services.store.revoke_grant(grant.grant_id)
    return True


async def delete_everything(services: Services, user_id: str) -> None:
    """Revoke every grant of ``user_id``, delete their tokens' clients and their Spotify credentials."""
    for grant in await services.store.list_grants(user_id):
        if is_pat_client_id(grant.client_id):
            await services.store.delete_client(grant.client_id)
    await services.store.delete_user(user_id)
