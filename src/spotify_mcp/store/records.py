"""The records the store keeps. Secrets appear here only as hashes or sealed blobs."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class ClientRecord:
    """A dynamically registered OAuth client (CIMD clients are fetched, not stored)."""

    client_id: str
    metadata_json: str
    """The validated RFC 7591 metadata as JSON (redirect_uris, client_name, grant_types, ...)."""
    secret_hash: str | None
    """SHA-256 of the client secret for confidential clients, None for public clients."""
    created_at: float
    last_used_at: float | None = None


class RequestStatus(StrEnum):
    """Where a browser authorization request is in its life."""

    PENDING_CONSENT = "pending_consent"
    APPROVED = "approved"


@dataclass(frozen=True, slots=True)
class AuthRequestRecord:
    """An MCP client's /authorize request, from consent until Spotify calls back.

    Created PENDING_CONSENT at /authorize; moved to APPROVED once by the consent POST (which sets the
    upstream state hash, the sealed Spotify PKCE verifier and the browser-binding hash); consumed
    (deleted) once by /callback. Expires at ``expires_at``.
    """

    request_id: str
    client_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    code_challenge: str
    resource: str
    client_state: str | None
    created_at: float
    expires_at: float
    status: RequestStatus = RequestStatus.PENDING_CONSENT
    upstream_state_hash: str | None = None
    upstream_verifier_sealed: str | None = None
    binding_hash: str | None = None


@dataclass(frozen=True, slots=True)
class AuthCodeRecord:
    """Our single-use authorization code, minted at /callback and redeemed at /token."""

    code_hash: str
    client_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    code_challenge: str
    resource: str
    user_id: str
    created_at: float
    expires_at: float
    grant_id: str | None = None
    """Set when the code is redeemed: the grant it produced (so a replay can revoke it)."""


@dataclass(frozen=True, slots=True)
class GrantRecord:
    """One client's authorization to act for one Spotify user; every token hangs off a grant."""

    grant_id: str
    client_id: str
    user_id: str
    scopes: tuple[str, ...]
    resource: str
    created_at: float
    last_used_at: float | None = None


class TokenKind(StrEnum):
    """The two kinds of bearer secret we issue."""

    ACCESS = "access"
    REFRESH = "refresh"


@dataclass(frozen=True, slots=True)
class TokenRecord:
    """An issued access or refresh token, known by its hash only."""

    token_hash: str
    kind: TokenKind
    grant_id: str
    client_id: str
    user_id: str
    scopes: tuple[str, ...]
    resource: str
    created_at: float
    expires_at: float | None
    rotated: bool = False
    """Refresh tokens only: True once exchanged; presenting it again is reuse."""


@dataclass(frozen=True, slots=True)
class SpotifyCredentials:
    """A Spotify user's tokens, sealed under the key ring, plus what we know about them."""

    user_id: str
    display_name: str | None
    access_token_sealed: str
    refresh_token_sealed: str
    expires_at: float
    scopes: tuple[str, ...]
    authorized_at: float
    """When the user last consented at Spotify: refresh tokens die 6 months after this."""
    updated_at: float
    version: int = 1
    """Incremented on every write; used for compare-and-set updates."""


@dataclass(frozen=True, slots=True)
class TokenPair:
    """The hashes and lifetimes of a freshly minted access/refresh pair."""

    access_hash: str
    access_expires_at: float
    refresh_hash: str | None
    refresh_expires_at: float | None
    scopes: tuple[str, ...] = field(default_factory=tuple)
