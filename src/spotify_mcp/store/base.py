"""The Store protocol: every piece of server state, behind atomic operations.

Every operation that must happen once (approving a consent, consuming an upstream state, redeeming a
code, rotating a refresh token, refreshing a user's Spotify token) is a single call here, so that each
backend can make it atomic in its own way (a transaction in SQL, a script in Redis).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from spotify_mcp.store.records import (
    AuthCodeRecord,
    AuthRequestRecord,
    ClientRecord,
    GrantRecord,
    SpotifyCredentials,
    TokenRecord,
)

RATE_KEY_MAX_LENGTH = 200
"""The longest key ``Store.hit`` accepts; callers hash longer parts."""


def rate_window(key: str, window: float, now: float) -> tuple[float, float]:
    """Check a ``Store.hit`` call and return its fixed window: (start, end), start = floor(now / window) * window."""
    if not key or len(key) > RATE_KEY_MAX_LENGTH:
        raise ValueError(f"a rate-limit key has 1 to {RATE_KEY_MAX_LENGTH} characters, not {len(key)}")
    if not (math.isfinite(window) and window > 0) or not math.isfinite(now):
        raise ValueError("a rate-limit window is a positive number of seconds and now a finite time")
    start = math.floor(now / window) * window
    return start, start + window


def grant_expiry_of(tokens: int, forever: bool, latest: float | None) -> float | None:
    """``Store.grant_expiry``'s answer from a grant's token count, whether one never expires, and the latest expiry."""
    if not tokens:
        return None
    return math.inf if forever or latest is None else float(latest)


class StoreError(Exception):
    """The store could not be reached or failed mid-operation; nothing was half-written."""


class SchemaTooNewError(StoreError):
    """The database was written by a newer release of spotify-mcp."""


class RedeemOutcome(StrEnum):
    """What happened when a code was presented."""

    REDEEMED = "redeemed"
    UNKNOWN = "unknown"
    EXPIRED = "expired"
    REPLAYED = "replayed"


@dataclass(frozen=True, slots=True)
class CodeRedemption:
    """The result of ``Store.redeem_code``; on REPLAYED, ``first_grant_id`` is what the first use made."""

    outcome: RedeemOutcome
    first_grant_id: str | None = None


class RotateOutcome(StrEnum):
    """What happened when a refresh token was presented."""

    ROTATED = "rotated"
    UNKNOWN = "unknown"
    EXPIRED = "expired"
    REUSED = "reused"


class Store(Protocol):
    """Persistent state of the authorization server and the Spotify credentials it holds."""

    # -- lifecycle ---------------------------------------------------------------------------------
    async def migrate(self) -> None:
        """Create or upgrade the schema to the current version; refuse a newer one (SchemaTooNewError)."""
        ...

    async def schema_version(self) -> int:
        """Return the schema version the database is at (0 when empty)."""
        ...

    async def ping(self) -> None:
        """Raise StoreError unless the backend answers."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...

    # -- clients -----------------------------------------------------------------------------------
    async def add_client(self, client: ClientRecord) -> None:
        """Insert a newly registered client."""
        ...

    async def get_client(self, client_id: str) -> ClientRecord | None:
        """Return a registered client, or None."""
        ...

    async def list_clients(self) -> list[ClientRecord]:
        """Return every registered client, oldest first."""
        ...

    async def touch_client(self, client_id: str, at: float) -> None:
        """Record that a client was used."""
        ...

    async def delete_client(self, client_id: str) -> bool:
        """Delete a client with its grants, tokens, codes and pending requests; False if unknown."""
        ...

    # -- browser authorization requests ------------------------------------------------------------
    async def add_auth_request(self, request: AuthRequestRecord) -> None:
        """Insert a PENDING_CONSENT request."""
        ...

    async def get_auth_request(self, request_id: str, now: float) -> AuthRequestRecord | None:
        """Return a live (unexpired) request, or None."""
        ...

    async def approve_auth_request(
        self,
        request_id: str,
        *,
        upstream_state_hash: str,
        upstream_verifier_sealed: str,
        binding_hash: str,
        expires_at: float,
        now: float,
    ) -> bool:
        """Move a live PENDING_CONSENT request to APPROVED; True only for the one caller that did."""
        ...

    async def delete_auth_request(self, request_id: str) -> None:
        """Forget a request (consent denied)."""
        ...

    async def take_auth_request_by_state(self, upstream_state_hash: str, now: float) -> AuthRequestRecord | None:
        """Atomically delete and return the live APPROVED request with this upstream state, or None."""
        ...

    # -- authorization codes -----------------------------------------------------------------------
    async def add_code(self, code: AuthCodeRecord) -> None:
        """Insert a freshly minted authorization code."""
        ...

    async def get_code(self, code_hash: str) -> AuthCodeRecord | None:
        """Return a code whether or not it was redeemed or expired (the caller decides)."""
        ...

    async def redeem_code(
        self, code_hash: str, grant: GrantRecord, tokens: Sequence[TokenRecord], now: float
    ) -> CodeRedemption:
        """Atomically mark an unused, unexpired code used and store the grant and tokens it yields.

        Exactly one of any number of racing callers gets REDEEMED; the others get REPLAYED with the
        grant id the winner stored, so the caller can revoke it. Nothing is written unless REDEEMED.
        """
        ...

    # -- grants and tokens -------------------------------------------------------------------------
    async def get_token(self, token_hash: str) -> TokenRecord | None:
        """Return an issued token by hash, including expired and rotated ones."""
        ...

    async def rotate_refresh_token(self, old_hash: str, new_tokens: Sequence[TokenRecord], now: float) -> RotateOutcome:
        """Atomically retire a live refresh token and store its successors.

        ROTATED for exactly one of any racing callers. Presenting an already-rotated token is reuse:
        the whole grant (every token of it) is revoked in the same transaction and REUSED returned.
        Nothing is written for UNKNOWN or EXPIRED.
        """
        ...

    async def get_grant(self, grant_id: str) -> GrantRecord | None:
        """Return a live grant, or None."""
        ...

    async def list_grants(self, user_id: str | None = None) -> list[GrantRecord]:
        """Return live grants, all or one user's, oldest first."""
        ...

    async def grant_expiry(self, grant_id: str) -> float | None:
        """Return when the last token of a grant expires (``math.inf`` if one never does), None if none is left.

        Tokens past their expiry that no sweep has removed yet still count: compare the answer with the time.
        """
        ...

    async def touch_grant(self, grant_id: str, at: float) -> None:
        """Record that a grant was used."""
        ...

    async def revoke_grant(self, grant_id: str) -> None:
        """Delete a grant and every token issued under it."""
        ...

    # -- Spotify credentials -----------------------------------------------------------------------
    async def get_spotify_credentials(self, user_id: str) -> SpotifyCredentials | None:
        """Return a user's sealed Spotify tokens, or None."""
        ...

    async def list_spotify_credentials(self) -> list[SpotifyCredentials]:
        """Return every stored user's credentials, oldest first (by ``authorized_at``, then user id)."""
        ...

    async def put_spotify_credentials(self, creds: SpotifyCredentials) -> None:
        """Insert or replace a user's credentials after a fresh Spotify login.

        A replacement is stored with a version above the one it replaces (whatever ``creds.version``
        says), so a compare-and-set prepared against the old credentials fails.
        """
        ...

    async def update_spotify_credentials(self, creds: SpotifyCredentials, expected_version: int) -> bool:
        """Compare-and-set: write ``creds`` (whose version must be expected_version + 1) if unchanged."""
        ...

    async def acquire_refresh_lease(self, user_id: str, owner: str, until: float, now: float) -> bool:
        """Take the right to refresh a user's Spotify token until ``until``, unless someone else holds it."""
        ...

    async def release_refresh_lease(self, user_id: str, owner: str) -> None:
        """Give the lease back early (only the owner can)."""
        ...

    async def delete_user(self, user_id: str) -> None:
        """Delete a Spotify user's credentials and every grant and token that acts for them."""
        ...

    # -- rate limiting -----------------------------------------------------------------------------
    async def hit(self, key: str, window: float, now: float) -> int:
        """Count one event of ``key`` in the fixed window of ``window`` seconds containing ``now``; return its count.

        The window is ``rate_window(key, window, now)`` (ValueError for an empty key or one over
        RATE_KEY_MAX_LENGTH characters, or a window that is not a positive number). Counts are exact however
        many callers race, in however many processes. A window's start and end are part of its identity, so
        the same key counted over two window lengths keeps two counts. Past windows go with ``sweep`` (SQL)
        or expire by themselves (Redis).
        """
        ...

    # -- housekeeping ------------------------------------------------------------------------------
    async def sweep(self, now: float) -> int:
        """Delete expired requests, codes and tokens, and past rate-limit windows (SQL); return how many rows went."""
        ...
