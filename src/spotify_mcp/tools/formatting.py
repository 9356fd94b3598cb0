"""Compact result models: what a model needs of Spotify's objects, not their raw payloads."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class Track(BaseModel):
    """A track, compactly."""

    id: str
    uri: str
    name: str
    artists: list[str]
    album: str | None = None
    duration: str = Field(description="m:ss")
    duration_ms: int
    explicit: bool = False
    url: str | None = None


class UserProfile(BaseModel):
    """The signed-in Spotify user."""

    id: str
    display_name: str | None
    uri: str
    url: str | None = None
    image_url: str | None = None


def duration(ms: int) -> str:
    """Render milliseconds as m:ss (or h:mm:ss)."""
    seconds = max(ms, 0) // 1000
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def track(raw: dict[str, Any]) -> Track:
    """Compact a Spotify TrackObject."""
    album = raw.get("album") or {}
    ms = int(raw.get("duration_ms") or 0)
    return Track(
        id=str(raw.get("id", "")),
        uri=str(raw.get("uri", "")),
        name=str(raw.get("name", "")),
        artists=[str(a.get("name", "")) for a in raw.get("artists") or [] if isinstance(a, dict)],
        album=album.get("name") if isinstance(album, dict) else None,
        duration=duration(ms),
        duration_ms=ms,
        explicit=bool(raw.get("explicit", False)),
        url=(raw.get("external_urls") or {}).get("spotify"),
    )


def profile(raw: dict[str, Any]) -> UserProfile:
    """Compact a Spotify PrivateUserObject."""
    images = raw.get("images") or []
    return UserProfile(
        id=str(raw.get("id", "")),
        display_name=raw.get("display_name"),
        uri=str(raw.get("uri", "")),
        url=(raw.get("external_urls") or {}).get("spotify"),
        image_url=images[0].get("url") if images and isinstance(images[0], dict) else None,
    )
