"""The records the fake world is made of, and Spotify's id and URI conventions."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from datetime import date

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def spotify_id(*parts: str) -> str:
    """A stable 22-character base62 Spotify id derived from ``parts``."""
    number = int.from_bytes(hashlib.sha256("/".join(parts).encode()).digest()[:16], "big")
    digits = []
    for _ in range(22):
        number, rest = divmod(number, 62)
        digits.append(BASE62[rest])
    return "".join(reversed(digits))


def is_spotify_id(value: str) -> bool:
    """Whether ``value`` looks like a base62 Spotify id."""
    return len(value) == 22 and all(c in BASE62 for c in value)


def uri(kind: str, id_: str) -> str:
    """The Spotify URI of an object, e.g. ``spotify:track:…``."""
    return f"spotify:{kind}:{id_}"


@dataclass
class User:
    """A Spotify account."""

    id: str
    display_name: str
    product: str
    account_id: str
    test_user: bool


@dataclass
class Artist:
    """A catalog artist."""

    id: str
    name: str
    genres: tuple[str, ...]


@dataclass
class Album:
    """A catalog album (or single, or compilation)."""

    id: str
    name: str
    artist_ids: tuple[str, ...]
    album_type: str
    release_date: date
    upc: str
    hipster: bool
    track_ids: list[str] = field(default_factory=list)


@dataclass
class Track:
    """A catalog track."""

    id: str
    name: str
    album_id: str
    artist_ids: tuple[str, ...]
    duration_ms: int
    explicit: bool
    track_number: int
    isrc: str
    disc_number: int = 1


@dataclass
class PlaylistEntry:
    """One item of a playlist: which track, when and by whom it was added (Unix seconds)."""

    track_id: str
    added_at: float
    added_by: str


@dataclass
class Playlist:
    """A user playlist; ``version`` moves on every change and makes the ``snapshot_id``."""

    id: str
    name: str
    owner_id: str
    public: bool
    collaborative: bool
    description: str
    entries: list[PlaylistEntry]
    collaborators: set[str] = field(default_factory=set)
    followers: int = 0
    custom_image: bool = False
    version: int = 1

    @property
    def snapshot_id(self) -> str:
        """An opaque id of this version of the playlist."""
        return self._snapshot(self.version)

    def had_snapshot(self, snapshot_id: str) -> bool:
        """Whether ``snapshot_id`` names this or an earlier version of the playlist."""
        return any(self._snapshot(version) == snapshot_id for version in range(1, self.version + 1))

    def _snapshot(self, version: int) -> str:
        digest = hashlib.sha256(f"{self.id}:{version}".encode()).digest()[:16]
        return base64.b64encode(version.to_bytes(4, "big") + digest).decode()

    def can_read_items(self, user_id: str) -> bool:
        """Owner or collaborator: the only users whose apps may read the items (dev mode, 2026)."""
        return user_id == self.owner_id or (self.collaborative and user_id in self.collaborators)


@dataclass
class Device:
    """A Spotify Connect device; ``volume`` is None when the device has no volume control."""

    id: str
    owner_id: str
    name: str
    type: str
    volume: int | None
    is_active: bool = False
    is_private_session: bool = False
    is_restricted: bool = False


@dataclass
class Play:
    """One entry of a user's listening history (Unix milliseconds; context URI of album or playlist)."""

    track_id: str
    played_at_ms: int
    context_uri: str


@dataclass
class Library:
    """A user's saved items and follows: ``kind`` (``track``, ``album``, ``artist``, ``user``…) → id → saved at."""

    saved: dict[str, dict[str, float]] = field(default_factory=dict)

    def save(self, kind: str, id_: str, at: float) -> None:
        """Save an item; saving it again keeps the first ``added_at``."""
        self.saved.setdefault(kind, {}).setdefault(id_, at)

    def remove(self, kind: str, id_: str) -> None:
        """Remove an item if saved."""
        self.saved.get(kind, {}).pop(id_, None)

    def contains(self, kind: str, id_: str) -> bool:
        """Whether the item is saved."""
        return id_ in self.saved.get(kind, {})

    def newest_first(self, kind: str) -> list[tuple[str, float]]:
        """``(id, added_at)`` of the saved items of ``kind``, most recently saved first."""
        return sorted(reversed(self.saved.get(kind, {}).items()), key=lambda item: -item[1])
