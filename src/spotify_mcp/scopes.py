"""Scopes: ours are Spotify's own scope names, so consent shows exactly what Spotify will be asked for.

``offline_access`` is accepted (and advertised in the AS metadata only) but never forwarded: every grant
gets a refresh token anyway.
"""

from __future__ import annotations

from collections.abc import Iterable

OFFLINE_ACCESS = "offline_access"

SPOTIFY_SCOPES: tuple[str, ...] = (
    "user-read-private",
    "user-read-email",
    "user-read-playback-state",
    "user-modify-playback-state",
    "user-read-currently-playing",
    "user-read-recently-played",
    "user-read-playback-position",
    "user-top-read",
    "user-library-read",
    "user-library-modify",
    "user-follow-read",
    "user-follow-modify",
    "playlist-read-private",
    "playlist-read-collaborative",
    "playlist-modify-public",
    "playlist-modify-private",
    "ugc-image-upload",
)

_NOT_USED_BY_THE_TOOLS = frozenset({"user-read-email", "user-read-playback-position", "ugc-image-upload"})

DEFAULT_SCOPES: tuple[str, ...] = tuple(s for s in SPOTIFY_SCOPES if s not in _NOT_USED_BY_THE_TOOLS)

DESCRIPTIONS: dict[str, str] = {
    "user-read-private": "See your Spotify profile",
    "user-read-email": "See your e-mail address",
    "user-read-playback-state": "See what is playing and on which device",
    "user-modify-playback-state": "Control playback: play, pause, skip, volume, queue, devices",
    "user-read-currently-playing": "See the track you are listening to",
    "user-read-recently-played": "See what you played recently",
    "user-read-playback-position": "See where you are in podcasts and audiobooks",
    "user-top-read": "See your top artists and tracks",
    "user-library-read": "See your saved tracks, albums and followed items",
    "user-library-modify": "Save and remove items in your library",
    "user-follow-read": "See the artists and people you follow",
    "user-follow-modify": "Follow and unfollow artists and people",
    "playlist-read-private": "See your private playlists",
    "playlist-read-collaborative": "See your collaborative playlists",
    "playlist-modify-public": "Create and edit your public playlists",
    "playlist-modify-private": "Create and edit your private playlists",
    "ugc-image-upload": "Upload playlist cover images",
}


def parse_scope(value: str | None) -> tuple[str, ...]:
    """Split an OAuth ``scope`` parameter into unique scopes, keeping their order."""
    if not value:
        return ()
    return tuple(dict.fromkeys(value.split()))


def format_scope(scopes: Iterable[str]) -> str:
    """Join scopes into an OAuth ``scope`` parameter."""
    return " ".join(scopes)


def spotify_only(scopes: Iterable[str]) -> tuple[str, ...]:
    """Drop scopes that are ours alone (``offline_access``) before asking Spotify."""
    return tuple(s for s in scopes if s != OFFLINE_ACCESS)


def missing(required: Iterable[str], granted: Iterable[str]) -> tuple[str, ...]:
    """Return the required scopes a grant lacks (Spotify scopes are flat: no hierarchy to resolve)."""
    have = set(granted)
    return tuple(s for s in required if s not in have)
