"""Each user's Spotify tokens: sealed at rest, refreshed once per user however many callers race.

In one process a per-user lock serialises refreshes; across replicas a lease in the store does, and
the write is a compare-and-set on the credentials' version, so a lost race never overwrites a winner.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Awaitable, Callable

import anyio

from spotify_mcp.clock import Clock
from spotify_mcp.crypto import KeyRing, UnsealError
from spotify_mcp.observability.observers import NO_SPOTIFY, SpotifyObserver
from spotify_mcp.spotify.accounts import SpotifyAccounts, SpotifyTokens
from spotify_mcp.spotify.errors import ReconnectRequired, SpotifyAuthError, SpotifyUnavailable
from spotify_mcp.store.base import Store
from spotify_mcp.store.records import SpotifyCredentials

Sleep = Callable[[float], Awaitable[None]]

_ACCESS = "access"
_REFRESH = "refresh"


def seal_context(user_id: str, kind: str) -> str:
    """Return the sealing context of a user's Spotify token of one kind (``access`` or ``refresh``)."""
    return f"spotify-mcp/spotify-{kind}-token/{user_id}"


class CredentialsManager:
    """Hands out a valid Spotify access token per user, refreshing it when it is about to expire."""

    def __init__(
        self,
        store: Store,
        keys: KeyRing,
        accounts: SpotifyAccounts,
        clock: Clock,
        *,
        owner: str,
        refresh_margin: float = 120.0,
        lease_seconds: float = 30.0,
        wait_step: float = 0.05,
        sleep: Sleep = anyio.sleep,
        metrics: SpotifyObserver | None = None,
    ) -> None:
        self._store = store
        self._keys = keys
        self._accounts = accounts
        self._clock = clock
        self._owner = owner
        self._margin = refresh_margin
        self._lease_seconds = lease_seconds
        self._wait_step = wait_step
        self._sleep = sleep
        # Enough polls for a held lease to lapse, then one more to take it over.
        self._max_polls = math.ceil(lease_seconds / wait_step) + 2
        self._locks: weakref.WeakValueDictionary[str, anyio.Lock] = weakref.WeakValueDictionary()
        self._metrics = metrics or NO_SPOTIFY

    async def save_login(self, *, user_id: str, display_name: str | None, tokens: SpotifyTokens) -> None:
        """Store the tokens of a fresh Spotify login, sealed, unless the user's stored ones are broader and alive.

        A login that asked for fewer permissions than the stored authorization (a second MCP client with
        narrower needs) would otherwise take from every other client the scopes it relies on. Spotify leaves
        the older authorization valid, so it is kept once a refresh proves it alive; a dead one is replaced.
        """
        if tokens.refresh_token is None:
            raise ValueError("a Spotify login must come with a refresh token")
        existing = await self._store.get_spotify_credentials(user_id)
        if existing is not None and tokens.scopes and set(tokens.scopes) < set(existing.scopes):
            try:
                await self.access_token(user_id, force_refresh=True)
                return
            except ReconnectRequired:
                existing = await self._store.get_spotify_credentials(user_id)
        now = self._clock.now()
        await self._store.put_spotify_credentials(
            SpotifyCredentials(
                user_id=user_id,
                display_name=display_name,
                access_token_sealed=self._seal(user_id, _ACCESS, tokens.access_token),
                refresh_token_sealed=self._seal(user_id, _REFRESH, tokens.refresh_token),
                expires_at=now + tokens.expires_in,
                scopes=tokens.scopes,
                authorized_at=now,
                updated_at=now,
                version=existing.version + 1 if existing is not None else 1,
            )
        )

    async def access_token(self, user_id: str, *, force_refresh: bool = False, rejected: str | None = None) -> str:
        """Return a usable access token for the user.

        ``rejected`` is a token Spotify just refused: a different, fresh one stored meanwhile (another task or
        replica refreshed) is returned as is; otherwise the token is refreshed. ``force_refresh`` always does.
        """
        creds = await self._load(user_id)
        if rejected is not None:
            current = self._unseal(creds, _ACCESS)
            if current != rejected and self._fresh(creds):
                return current
            force_refresh = True
        if not force_refresh and self._fresh(creds):
            return self._unseal(creds, _ACCESS)
        seen_version = creds.version
        lock = self._locks.get(user_id)
        if lock is None:
            lock = self._locks[user_id] = anyio.Lock()
        async with lock:
            return await self._refresh_once(user_id, seen_version, force_refresh)

    async def _refresh_once(self, user_id: str, seen_version: int, forced: bool) -> str:
        def settled(creds: SpotifyCredentials) -> bool:
            return self._fresh(creds) and (not forced or creds.version != seen_version)

        for _ in range(self._max_polls):
            creds = await self._load(user_id)
            if settled(creds):
                return self._unseal(creds, _ACCESS)
            now = self._clock.now()
            if await self._store.acquire_refresh_lease(user_id, self._owner, now + self._lease_seconds, now):
                try:
                    creds = await self._load(user_id)
                    if settled(creds):
                        return self._unseal(creds, _ACCESS)
                    return await self._refresh(creds)
                finally:
                    with anyio.CancelScope(shield=True):
                        await self._store.release_refresh_lease(user_id, self._owner)
            await self._sleep(self._wait_step)
        raise SpotifyUnavailable("another server is still refreshing this user's Spotify token; try again")

    async def _refresh(self, creds: SpotifyCredentials) -> str:
        user_id = creds.user_id
        refresh_token = self._unseal(creds, _REFRESH)
        try:
            tokens = await self._accounts.refresh(refresh_token)
        except SpotifyAuthError as exc:
            self._metrics.token_refresh("invalid_grant" if exc.error == "invalid_grant" else "error")
            if exc.error != "invalid_grant":
                raise
            current = await self._store.get_spotify_credentials(user_id)
            if current is not None and current.version != creds.version:
                return self._unseal(current, _ACCESS)
            await self._store.delete_user(user_id)
            raise ReconnectRequired(
                user_id, "Spotify no longer accepts the stored authorization (revoked or expired)"
            ) from None
        except Exception:
            self._metrics.token_refresh("error")
            raise
        self._metrics.token_refresh("ok")
        now = self._clock.now()
        new = SpotifyCredentials(
            user_id=user_id,
            display_name=creds.display_name,
            access_token_sealed=self._seal(user_id, _ACCESS, tokens.access_token),
            refresh_token_sealed=self._seal(user_id, _REFRESH, tokens.refresh_token or refresh_token),
            expires_at=now + tokens.expires_in,
            scopes=tokens.scopes or creds.scopes,
            authorized_at=creds.authorized_at,
            updated_at=now,
            version=creds.version + 1,
        )
        if await self._store.update_spotify_credentials(new, expected_version=creds.version):
            return tokens.access_token
        return self._unseal(await self._load(user_id), _ACCESS)

    async def _load(self, user_id: str) -> SpotifyCredentials:
        creds = await self._store.get_spotify_credentials(user_id)
        if creds is None:
            raise ReconnectRequired(user_id)
        return creds

    def _fresh(self, creds: SpotifyCredentials) -> bool:
        return creds.expires_at - self._margin > self._clock.now()

    def _seal(self, user_id: str, kind: str, token: str) -> str:
        return self._keys.seal(token, seal_context(user_id, kind))

    def _unseal(self, creds: SpotifyCredentials, kind: str) -> str:
        sealed = creds.access_token_sealed if kind == _ACCESS else creds.refresh_token_sealed
        try:
            return self._keys.unseal(sealed, seal_context(creds.user_id, kind))
        except UnsealError:
            raise ReconnectRequired(
                creds.user_id, "the stored Spotify tokens cannot be opened with the configured keys"
            ) from None
