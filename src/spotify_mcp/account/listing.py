"""What the account page shows a signed-in user: every grant they gave, and what a new token may be given."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from spotify_mcp.oauth.cimd import is_cimd_client_id
from spotify_mcp.oauth.client_expiry import personal_token_expiry
from spotify_mcp.oauth.clients import is_pat_client_id
from spotify_mcp.services import Services
from spotify_mcp.store.records import GrantRecord


@dataclass(frozen=True, slots=True)
class Access:
    """One grant as the page lists it: an application's, or a personal access token's."""

    grant_id: str
    name: str
    origin: str
    """How the application is known (empty for a token)."""
    created_at: float
    last_used_at: float | None
    scopes: tuple[str, ...]
    expires_at: float | None = None
    """Tokens only: when the token stops working."""
    lapsed: bool = False
    """Applications only: every token of the grant has expired, so the application must ask again."""


@dataclass(frozen=True, slots=True)
class AccountView:
    """Everything the account page of one user shows."""

    user_id: str
    display_name: str | None
    applications: tuple[Access, ...]
    tokens: tuple[Access, ...]
    token_scopes: tuple[str, ...]
    """The scopes a new token may be given: the server's, as far as the stored Spotify credentials hold them."""
    can_grant_more: bool
    """Whether signing in at Spotify again would give the server scopes it has not got for this user."""


async def describe(services: Services, grant: GrantRecord) -> Access:
    """Name a grant's client without fetching anything: a stored name, or a metadata document's host."""
    client_id = grant.client_id

    def access(name: str, origin: str, expires_at: float | None = None) -> Access:
        return Access(grant.grant_id, name, origin, grant.created_at, grant.last_used_at, grant.scopes, expires_at)

    if is_cimd_client_id(client_id) or client_id.startswith("http://"):
        host = urlsplit(client_id).hostname or client_id
        return access(host, f"identity published by {host}")
    record = await services.store.get_client(client_id)
    name = client_id
    if record is not None:
        try:
            stored = json.loads(record.metadata_json).get("client_name")
        except (ValueError, AttributeError):
            stored = None
        name = stored if isinstance(stored, str) and stored else client_id
    if is_pat_client_id(client_id):
        return access(name, "", personal_token_expiry(record) if record is not None else 0.0)
    return access(name, "registered itself; name not verified")


async def account_view(services: Services, user_id: str) -> AccountView:
    """Gather the page of ``user_id``: their grants, oldest first, and their stored Spotify scopes."""
    now = services.clock.now()
    accesses = []
    for grant in await services.store.list_grants(user_id):
        described = await describe(services, grant)
        if described.expires_at is None:
            alive_until = await services.store.grant_expiry(grant.grant_id)
            described = replace(described, lapsed=alive_until is None or alive_until <= now)
        accesses.append(described)
    credentials = await services.store.get_spotify_credentials(user_id)
    held = set(credentials.scopes) if credentials is not None else set()
    offered = services.settings.scopes
    return AccountView(
        user_id=user_id,
        display_name=credentials.display_name if credentials is not None else None,
        applications=tuple(a for a in accesses if a.expires_at is None),
        tokens=tuple(a for a in accesses if a.expires_at is not None),
        token_scopes=tuple(s for s in offered if s in held),
        can_grant_more=not set(offered) <= held,
    )
