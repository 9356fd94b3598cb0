"""Minting and verifying our opaque tokens. Only SHA-256 hashes are ever stored."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Sequence
from dataclasses import dataclass

from mcp.server.auth.provider import AccessToken

from spotify_mcp.clock import Clock
from spotify_mcp.crypto import hash_secret, new_secret
from spotify_mcp.scopes import format_scope
from spotify_mcp.store.base import Store, StoreError
from spotify_mcp.store.records import GrantRecord, TokenKind, TokenRecord

ACCESS_PREFIX = "smcp_at_"
REFRESH_PREFIX = "smcp_rt_"
CODE_PREFIX = "smcp_ac_"
PAT_PREFIX = "smcp_pat_"
"""Personal access tokens (``account/pat.py``): access tokens of a reserved client, issued on the account page."""
GRANT_TOUCH_INTERVAL = 300
"""Seconds between two records of a grant's use by its access tokens (``last_used_at``), per process: what
/account and the admin CLI show as "last used" is at most this late, for one store write per grant per interval."""


@dataclass(frozen=True, slots=True)
class IssuedTokens:
    """Plaintext tokens for the response, and the records to store."""

    access_token: str
    refresh_token: str
    expires_in: int
    scope: str
    records: tuple[TokenRecord, ...]

    def response(self) -> dict[str, object]:
        """The RFC 6749 §5.1 token response body."""
        return {
            "access_token": self.access_token,
            "token_type": "Bearer",
            "expires_in": self.expires_in,
            "refresh_token": self.refresh_token,
            "scope": self.scope,
        }


class TokenService:
    """Issues access/refresh pairs for grants and turns a presented bearer into an ``AccessToken``."""

    def __init__(self, store: Store, clock: Clock, *, resource: str, access_ttl: int, refresh_ttl: int) -> None:
        self._store = store
        self._clock = clock
        self._resource = resource
        self._access_ttl = access_ttl
        self._refresh_ttl = refresh_ttl
        self._touched: dict[str, float] = {}

    def issue(
        self,
        grant: GrantRecord,
        scopes: Sequence[str] | None = None,
        *,
        refresh_scopes: Sequence[str] | None = None,
    ) -> IssuedTokens:
        """Mint a fresh pair for ``grant``; nothing is stored yet.

        ``scopes`` narrows the access token only; the refresh token keeps ``refresh_scopes`` (the scopes of
        the refresh token being rotated, RFC 6749 §6), by default the grant's.
        """
        now = self._clock.now()
        granted = tuple(scopes) if scopes is not None else grant.scopes
        access, refresh = new_secret(ACCESS_PREFIX), new_secret(REFRESH_PREFIX)
        common = {
            "grant_id": grant.grant_id,
            "client_id": grant.client_id,
            "user_id": grant.user_id,
            "resource": grant.resource,
            "created_at": now,
        }
        records = (
            TokenRecord(
                token_hash=hash_secret(access),
                kind=TokenKind.ACCESS,
                scopes=granted,
                expires_at=now + self._access_ttl,
                **common,  # type: ignore[arg-type]
            ),
            TokenRecord(
                token_hash=hash_secret(refresh),
                kind=TokenKind.REFRESH,
                scopes=tuple(refresh_scopes) if refresh_scopes is not None else grant.scopes,
                expires_at=now + self._refresh_ttl,
                **common,  # type: ignore[arg-type]
            ),
        )
        return IssuedTokens(access, refresh, self._access_ttl, format_scope(granted), records)

    async def verify_access(self, token: str) -> AccessToken | None:
        """Return who a bearer token speaks for, or None if it is not a live access token for us.

        A personal access token is an access token like any other. Each use is recorded on the grant (throttled).
        """
        if not token.startswith((ACCESS_PREFIX, PAT_PREFIX)) or len(token) > 200:
            return None
        record = await self._store.get_token(hash_secret(token))
        now = self._clock.now()
        if (
            record is None
            or record.kind is not TokenKind.ACCESS
            or (record.expires_at is not None and record.expires_at <= now)
            or record.resource != self._resource
        ):
            return None
        await self._touch(record.grant_id, now)
        return AccessToken(
            token=record.token_hash,
            client_id=record.client_id,
            scopes=list(record.scopes),
            expires_at=int(record.expires_at) if record.expires_at is not None else None,
            resource=record.resource,
            subject=record.user_id,
            claims={"grant_id": record.grant_id},
        )

    async def _touch(self, grant_id: str, now: float) -> None:
        """Record a grant's use, at most every GRANT_TOUCH_INTERVAL seconds per process; never fail the request."""
        if now - self._touched.get(grant_id, -math.inf) < GRANT_TOUCH_INTERVAL:
            return
        if len(self._touched) >= 10_000:
            self._touched.clear()
        self._touched[grant_id] = now
        with contextlib.suppress(StoreError):
            await self._store.touch_grant(grant_id, now)
