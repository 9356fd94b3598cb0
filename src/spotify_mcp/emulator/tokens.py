"""Authorization codes, grants (a user's consent to the app) and the tokens minted from them."""

from __future__ import annotations

import secrets
from dataclasses import dataclass


def new_secret(prefix: str, length: int = 96) -> str:
    """A random opaque token shaped like Spotify's (``BQ…`` access, ``AQ…`` refresh and codes)."""
    return prefix + secrets.token_urlsafe(length)[:length]


@dataclass
class Grant:
    """A user's consent to the app; refresh tokens die ``refresh_token_lifetime`` after ``consented_at``."""

    user_id: str
    client_id: str
    scopes: tuple[str, ...]
    consented_at: float
    public_client: bool
    revoked: bool = False


@dataclass
class AuthCode:
    """An authorization code, single-use, bound to client, redirect URI, scopes and PKCE challenge."""

    client_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    user_id: str
    code_challenge: str | None
    consented_at: float
    expires_at: float
    used: bool = False


@dataclass
class AccessToken:
    """A bearer token for the Web API."""

    grant: Grant
    expires_at: float


@dataclass
class RefreshToken:
    """A refresh token; ``active`` goes False when it is rotated away."""

    grant: Grant
    active: bool = True
