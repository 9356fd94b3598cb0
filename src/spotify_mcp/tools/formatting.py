"""Compact models of Spotify's objects (what a model needs, not the raw payloads), each with a text ``line()``.

The results tools return around them (pages, playback, queue, outcomes) are in ``tools/results.py``.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class Track(BaseModel):
    """A track, compactly; ``added_at``/``played_at`` are set where the listing has them."""

    id: str
    uri: str
    name: str
    artists: list[str]
    album: str | None = None
    duration: str = Field(description="m:ss")
    duration_ms: int
    explicit: bool = False
    url: str | None = None
    added_at: str | None = None
    played_at: str | None = None

    def line(self) -> str:
        """One line for a text listing."""
        parts = [f"{self.name} — {', '.join(self.artists) or 'unknown artist'}"]
        if self.album:
            parts.append(self.album)
        parts.append(self.duration)
        if self.played_at:
            parts.append(f"played {self.played_at}")
        parts.append(self.uri)
        return " · ".join(parts)


class Artist(BaseModel):
    """An artist, compactly."""

    id: str
    uri: str
    name: str
    genres: list[str] = Field(default_factory=list)
    followers: int | None = None
    url: str | None = None

    def line(self) -> str:
        """One line for a text listing."""
        genres = f" ({', '.join(self.genres[:3])})" if self.genres else ""
        return f"{self.name}{genres} · {self.uri}"


class Album(BaseModel):
    """An album, compactly."""

    id: str
    uri: str
    name: str
    artists: list[str]
    album_type: str | None = None
    release_date: str | None = None
    total_tracks: int | None = None
    url: str | None = None
    added_at: str | None = None

    def line(self) -> str:
        """One line for a text listing."""
        year = f" ({self.release_date[:4]})" if self.release_date else ""
        count = f" · {self.total_tracks} tracks" if self.total_tracks is not None else ""
        return f"{self.name} — {', '.join(self.artists)}{year}{count} · {self.uri}"


class Playlist(BaseModel):
    """A playlist, compactly."""

    id: str
    uri: str
    name: str
    owner: str | None = None
    owner_id: str | None = None
    description: str | None = None
    public: bool | None = None
    collaborative: bool = False
    tracks: int | None = Field(default=None, description="number of items")
    url: str | None = None

    def line(self) -> str:
        """One line for a text listing."""
        owner = f" by {self.owner}" if self.owner else ""
        count = f" · {self.tracks} items" if self.tracks is not None else ""
        return f"{self.name}{owner}{count} · {self.uri}"


class Device(BaseModel):
    """A Spotify Connect device."""

    id: str | None
    name: str
    type: str
    is_active: bool
    volume_percent: int | None = None
    supports_volume: bool = True

    def line(self) -> str:
        """One line for a text listing."""
        active = " (active)" if self.is_active else ""
        volume = f" · volume {self.volume_percent}%" if self.volume_percent is not None else ""
        return f"{self.name} [{self.type}]{active}{volume} · device_id {self.id}"


class UserProfile(BaseModel):
    """The signed-in Spotify user."""

    id: str
    display_name: str | None
    uri: str
    url: str | None = None
    image_url: str | None = None
    product: str | None = Field(default=None, description="premium, free or open")
    country: str | None = None

    def text(self) -> str:
        """A short rendering."""
        plan = f" · Spotify {self.product.capitalize()}" if self.product else ""
        return f"{self.display_name or self.id} ({self.uri}){plan}"


def duration(ms: int) -> str:
    """Render milliseconds as m:ss (or h:mm:ss)."""
    seconds = max(ms, 0) // 1000
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _url(raw: dict[str, Any]) -> str | None:
    urls = raw.get("external_urls")
    return urls.get("spotify") if isinstance(urls, dict) else None


def _names(raw: Any) -> list[str]:
    return [str(a.get("name", "")) for a in raw or [] if isinstance(a, dict)]


def track(raw: dict[str, Any]) -> Track:
    """Compact a Spotify TrackObject."""
    album = raw.get("album") or {}
    ms = int(raw.get("duration_ms") or 0)
    return Track(
        id=str(raw.get("id") or ""),
        uri=str(raw.get("uri") or ""),
        name=str(raw.get("name") or ""),
        artists=_names(raw.get("artists")),
        album=album.get("name") if isinstance(album, dict) else None,
        duration=duration(ms),
        duration_ms=ms,
        explicit=bool(raw.get("explicit", False)),
        url=_url(raw),
    )


def artist(raw: dict[str, Any]) -> Artist:
    """Compact a Spotify ArtistObject (simplified or full)."""
    followers = raw.get("followers")
    return Artist(
        id=str(raw.get("id") or ""),
        uri=str(raw.get("uri") or ""),
        name=str(raw.get("name") or ""),
        genres=[str(g) for g in raw.get("genres") or []],
        followers=followers.get("total") if isinstance(followers, dict) else None,
        url=_url(raw),
    )


def album(raw: dict[str, Any]) -> Album:
    """Compact a Spotify AlbumObject (simplified or full)."""
    return Album(
        id=str(raw.get("id") or ""),
        uri=str(raw.get("uri") or ""),
        name=str(raw.get("name") or ""),
        artists=_names(raw.get("artists")),
        album_type=raw.get("album_type"),
        release_date=raw.get("release_date"),
        total_tracks=raw.get("total_tracks"),
        url=_url(raw),
    )


def playlist(raw: dict[str, Any]) -> Playlist:
    """Compact a Spotify PlaylistObject (simplified or full; ``items`` replaced ``tracks`` in 2026)."""
    owner = raw.get("owner") or {}
    listing = raw.get("items") if isinstance(raw.get("items"), dict) else raw.get("tracks")
    return Playlist(
        id=str(raw.get("id") or ""),
        uri=str(raw.get("uri") or ""),
        name=str(raw.get("name") or ""),
        owner=owner.get("display_name") or owner.get("id") if isinstance(owner, dict) else None,
        owner_id=owner.get("id") if isinstance(owner, dict) else None,
        description=raw.get("description") or None,
        public=raw.get("public"),
        collaborative=bool(raw.get("collaborative", False)),
        tracks=listing.get("total") if isinstance(listing, dict) else None,
        url=_url(raw),
    )


def device(raw: dict[str, Any]) -> Device:
    """Compact a Spotify DeviceObject."""
    return Device(
        id=raw.get("id"),
        name=str(raw.get("name") or ""),
        type=str(raw.get("type") or ""),
        is_active=bool(raw.get("is_active", False)),
        volume_percent=raw.get("volume_percent"),
        supports_volume=bool(raw.get("supports_volume", True)),
    )


def profile(raw: dict[str, Any]) -> UserProfile:
    """Compact a Spotify PrivateUserObject."""
    images = raw.get("images") or []
    return UserProfile(
        id=str(raw.get("id") or ""),
        display_name=raw.get("display_name"),
        uri=str(raw.get("uri") or ""),
        url=_url(raw),
        image_url=images[0].get("url") if images and isinstance(images[0], dict) else None,
        product=raw.get("product"),
        country=raw.get("country"),
    )
