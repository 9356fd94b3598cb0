"""The emulator's mutable fake world: catalog, users and their data, tokens, test hooks and faults."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

import anyio

from spotify_mcp.clock import Clock
from spotify_mcp.emulator import data
from spotify_mcp.emulator.build import build_catalog, build_library, build_social
from spotify_mcp.emulator.faults import Fault, FaultBody, Hold
from spotify_mcp.emulator.model import Album, Artist, Device, Library, Playlist, Track, User
from spotify_mcp.emulator.playback import Playback
from spotify_mcp.emulator.tokens import AccessToken, AuthCode, RefreshToken


class World:
    """Everything the emulated Spotify knows, plus the hooks tests use to observe and disturb it.

    Built-in users: ``premium-user`` (Premium, preselected on the sign-in page, playing "Pia's Road Trip"
    on "Pia's MacBook"; "Pia's iPhone" has no volume control), ``free-user`` (Free, nothing playing) and
    ``unlisted-user`` (can sign in, but is not on the app's allow-list, so every Web API call answers
    403). ``sam-curator`` owns playlists but cannot sign in.

    Observation: ``token_requests`` counts ``/api/token`` requests per ``grant_type`` (missing → ``""``;
    requests answered by an injected fault never reach it), ``refreshes_by_user`` counts refresh requests
    per user whose refresh token was recognised (even when refused), ``api_calls`` lists ``(method,
    path)`` of every ``/v1`` request, injected faults included. Disturbance: ``expire_access_tokens``,
    ``revoke_user_consent``, ``fail_next``, ``go_idle`` (no active device); the data itself (playlists,
    devices, ``playback``, ``library`` of saved and followed items, ``allow_listed_users``…) may be edited
    directly.
    """

    def __init__(self, clock: Clock, *, allow_listed_users: Iterable[str] | None = None) -> None:
        self.clock = clock
        created = clock.now()
        self.created_at = created
        catalog = build_catalog(created)
        self.catalog = catalog
        self.artists = catalog.artists
        self.albums: dict[str, Album] = catalog.albums
        self.tracks: dict[str, Track] = catalog.tracks
        social = build_social(catalog, created)
        self.users: dict[str, User] = social.users
        self.playlists: dict[str, Playlist] = social.playlists
        self.followed_playlists = social.followed
        self.devices: dict[str, list[Device]] = social.devices
        self.playback: dict[str, Playback] = social.playback
        self.history = social.history
        self.top_artists = social.top_artists
        self.top_tracks = social.top_tracks
        self.library: dict[str, Library] = build_library(catalog, created)
        if allow_listed_users is None:
            allow_listed_users = [u.id for u in self.users.values() if u.test_user and u.id != data.UNLISTED_USER]
        self.allow_listed_users: set[str] = set(allow_listed_users)
        self.codes: dict[str, AuthCode] = {}
        self.access_tokens: dict[str, AccessToken] = {}
        self.refresh_tokens: dict[str, RefreshToken] = {}
        self.token_requests: Counter[str] = Counter()
        self.refreshes_by_user: Counter[str] = Counter()
        self.api_calls: list[tuple[str, str]] = []
        self.api_latency = 0.0
        """Seconds every Web API response waits on the world's clock (a far Spotify; 0 answers at once)."""
        self._faults: list[Fault] = []
        self._holds: list[Hold] = []
        self.held = 0
        self.max_held = 0
        self._held_changed = anyio.Event()

    @property
    def test_users(self) -> list[User]:
        """The users who can sign in, Premium first."""
        return [u for u in self.users.values() if u.test_user]

    def playlist_by_name(self, name: str) -> Playlist:
        """The playlist called ``name`` (for tests)."""
        return next(p for p in self.playlists.values() if p.name == name)

    def track_by_name(self, name: str) -> Track:
        """The first track called ``name`` (for tests)."""
        return next(t for t in self.tracks.values() if t.name == name)

    def album_by_name(self, name: str) -> Album:
        """The album called ``name`` (for tests)."""
        return next(a for a in self.albums.values() if a.name == name)

    def artist_by_name(self, name: str) -> Artist:
        """The artist called ``name`` (for tests)."""
        return next(a for a in self.artists.values() if a.name == name)

    def current_playback(self, user_id: str) -> Playback | None:
        """The user's playback state moved on to the clock's now, or None when no device is active."""
        playback = self.playback.get(user_id)
        if playback is not None:
            playback.settle(self.clock.now(), lambda track_id: self.tracks[track_id].duration_ms)
        return playback

    def go_idle(self, user_id: str) -> None:
        """The user's apps go idle: no active device (``GET /me/player`` 204, commands 404 ``NO_ACTIVE_DEVICE``)."""
        self.playback.pop(user_id, None)
        for device in self.devices.get(user_id, []):
            device.is_active = False

    def expire_access_tokens(self, user_id: str | None = None) -> None:
        """Make every access token (or only ``user_id``'s) expired now: the API answers 401 "expired"."""
        now = self.clock.now()
        for token in self.access_tokens.values():
            if user_id is None or token.grant.user_id == user_id:
                token.expires_at = min(token.expires_at, now)

    def revoke_user_consent(self, user_id: str) -> None:
        """The user removes the app's access: their tokens stop working, refreshing gets ``invalid_grant``."""
        grants = [t.grant for t in self.access_tokens.values()] + [t.grant for t in self.refresh_tokens.values()]
        for grant in grants:
            if grant.user_id == user_id:
                grant.revoked = True

    def fail_next(
        self,
        path_prefix: str,
        status: int,
        *,
        body: FaultBody = None,
        headers: Mapping[str, str] | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` requests whose path starts with ``path_prefix`` with ``status``.

        ``body`` is a JSON object, or text/bytes sent as is; by default it is Spotify's error object
        (``/v1``) or an OAuth error (elsewhere). E.g. ``fail_next("/v1/search", 429,
        headers={"Retry-After": "3"})`` or a quota 429 with ``body={"error": {"status": 429, "message":
        "Too many requests", "reason": "QUOTA_EXCEEDED"}}``. Faults queue up in the order given.
        """
        if times < 1:
            raise ValueError("times must be at least 1")
        self._faults.append(Fault(path_prefix, status, body, dict(headers or {}), times))

    def hold_next(self, path_prefix: str, *, times: int = 1) -> anyio.Event:
        """Make the next ``times`` requests under ``path_prefix`` wait (a slow Spotify) until the event is set.

        The held requests are counted in ``held`` (peak in ``max_held``) while they wait; ``until_held(n)``
        waits for n of them. No real time passes in tests.
        """
        if times < 1:
            raise ValueError("times must be at least 1")
        release = anyio.Event()
        self._holds.append(Hold(path_prefix, release, times))
        return release

    def note_held(self, change: int) -> None:
        """Count a request starting (+1) or ending (-1) its hold and wake ``until_held`` waiters."""
        self.held += change
        self.max_held = max(self.max_held, self.held)
        self._held_changed.set()
        self._held_changed = anyio.Event()

    async def until_held(self, count: int) -> None:
        """Wait until at least ``count`` requests are being held."""
        while self.held < count:
            await self._held_changed.wait()

    def take_hold(self, path: str) -> anyio.Event | None:
        """The release event of the first pending hold matching ``path``, consuming one of its uses."""
        for hold in self._holds:
            if path.startswith(hold.path_prefix):
                hold.remaining -= 1
                if hold.remaining == 0:
                    self._holds.remove(hold)
                return hold.release
        return None

    def take_fault(self, path: str) -> Fault | None:
        """The first pending fault matching ``path``, consuming one of its uses."""
        for fault in self._faults:
            if path.startswith(fault.path_prefix):
                fault.remaining -= 1
                if fault.remaining == 0:
                    self._faults.remove(fault)
                return fault
        return None
