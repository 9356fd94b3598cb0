"""Records with sensible defaults, and helpers that put them in a store, for the store tests."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import anyio

from spotify_mcp.store.base import RedeemOutcome, Store
from spotify_mcp.store.records import (
    AuthCodeRecord,
    AuthRequestRecord,
    ClientRecord,
    GrantRecord,
    SpotifyCredentials,
    TokenKind,
    TokenRecord,
)

NOW = 1_800_000_000.0
T = TypeVar("T")


def client(
    client_id: str = "c1", *, created_at: float = NOW, secret_hash: str | None = None, last_used_at: float | None = None
) -> ClientRecord:
    """A registered client."""
    return ClientRecord(
        client_id=client_id,
        metadata_json='{"client_name": "Test", "redirect_uris": ["http://127.0.0.1/cb"]}',
        secret_hash=secret_hash,
        created_at=created_at,
        last_used_at=last_used_at,
    )


def auth_request(request_id: str = "r1", *, client_id: str = "c1", expires_at: float = NOW + 600) -> AuthRequestRecord:
    """A PENDING_CONSENT authorization request."""
    return AuthRequestRecord(
        request_id=request_id,
        client_id=client_id,
        redirect_uri="http://127.0.0.1:8765/cb",
        scopes=("user-read-playback-state", "playlist-read-private"),
        code_challenge="challenge-" + request_id,
        resource="https://mcp.example/mcp",
        client_state="client-state",
        created_at=NOW,
        expires_at=expires_at,
    )


def code(
    code_hash: str = "code1", *, client_id: str = "c1", user_id: str = "u1", expires_at: float = NOW + 300
) -> AuthCodeRecord:
    """An unredeemed authorization code."""
    return AuthCodeRecord(
        code_hash=code_hash,
        client_id=client_id,
        redirect_uri="http://127.0.0.1:8765/cb",
        scopes=("user-read-playback-state",),
        code_challenge="challenge",
        resource="https://mcp.example/mcp",
        user_id=user_id,
        created_at=NOW,
        expires_at=expires_at,
    )


def grant(grant_id: str = "g1", *, client_id: str = "c1", user_id: str = "u1", created_at: float = NOW) -> GrantRecord:
    """A grant, as redeeming a code creates it."""
    return GrantRecord(
        grant_id=grant_id,
        client_id=client_id,
        user_id=user_id,
        scopes=("user-read-playback-state",),
        resource="https://mcp.example/mcp",
        created_at=created_at,
    )


def token(
    token_hash: str,
    of: GrantRecord,
    *,
    kind: TokenKind = TokenKind.ACCESS,
    expires_at: float | None = NOW + 3600,
) -> TokenRecord:
    """A token issued under a grant."""
    return TokenRecord(
        token_hash=token_hash,
        kind=kind,
        grant_id=of.grant_id,
        client_id=of.client_id,
        user_id=of.user_id,
        scopes=of.scopes,
        resource=of.resource,
        created_at=NOW,
        expires_at=expires_at,
    )


def pair(of: GrantRecord, suffix: str = "") -> tuple[TokenRecord, TokenRecord]:
    """An access token and a refresh token for a grant, named after it."""
    access = token(f"at-{of.grant_id}{suffix}", of)
    refresh = token(f"rt-{of.grant_id}{suffix}", of, kind=TokenKind.REFRESH, expires_at=NOW + 86_400)
    return access, refresh


async def issue(
    store: Store, grant_id: str = "g1", *, client_id: str = "c1", user_id: str = "u1", created_at: float = NOW
) -> tuple[GrantRecord, TokenRecord, TokenRecord]:
    """Mint and redeem a code, returning the grant with its access and refresh tokens."""
    made = grant(grant_id, client_id=client_id, user_id=user_id, created_at=created_at)
    access, refresh = pair(made)
    await store.add_code(code(f"code-{grant_id}", client_id=client_id, user_id=user_id))
    redemption = await store.redeem_code(f"code-{grant_id}", made, [access, refresh], NOW)
    assert redemption.outcome is RedeemOutcome.REDEEMED
    return made, access, refresh


def credentials(user_id: str = "u1", *, version: int = 1, access: str = "sealed-at") -> SpotifyCredentials:
    """A user's sealed Spotify tokens."""
    return SpotifyCredentials(
        user_id=user_id,
        display_name="Test User",
        access_token_sealed=access,
        refresh_token_sealed="sealed-rt",
        expires_at=NOW + 3600,
        scopes=("user-read-playback-state", "user-modify-playback-state"),
        authorized_at=NOW - 86_400,
        updated_at=NOW,
        version=version,
    )


async def race(callers: int, attempt: Callable[[int], Awaitable[T]]) -> list[T]:
    """Run ``attempt(0..callers-1)`` concurrently and return every result."""
    results: list[T] = []

    async def one(i: int) -> None:
        results.append(await attempt(i))

    async with anyio.create_task_group() as group:
        for i in range(callers):
            group.start_soon(one, i)
    return results
