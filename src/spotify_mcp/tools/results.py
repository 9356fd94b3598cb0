"""What tools return: pages of items, playback, the queue and command outcomes, each with a short ``text()``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field

from spotify_mcp.tools.formatting import Album, Artist, Device, Playlist, Track, device, duration, track

Item = TypeVar("Item", Track, Artist, Album, Playlist, Device)


class Page(BaseModel, Generic[Item]):
    """One page of a listing; ``next_offset`` says how to get the next one."""

    title: str
    items: list[Item]
    total: int | None = None
    offset: int = 0
    next_offset: int | None = Field(default=None, description="pass as offset to get the next page; null at the end")

    def text(self) -> str:
        """The title, one numbered line per item, and how to get more."""
        more = None if self.next_offset is None else f"offset={self.next_offset}"
        return _listing(self.title, self.items, self.total, self.offset, more)


class Done(BaseModel):
    """The outcome of a command."""

    message: str
    snapshot_id: str | None = Field(default=None, description="the playlist version after a change")

    def text(self) -> str:
        """The message."""
        return self.message


class CursorPage(BaseModel, Generic[Item]):
    """One page of a cursor-paged listing (history, followed artists)."""

    title: str
    items: list[Item]
    total: int | None = Field(default=None, description="how many there are in all, where Spotify says")
    cursor_param: str = Field(description="the parameter that takes next_cursor")
    next_cursor: str | None = Field(default=None, description="pass as cursor_param to get the next page")

    def text(self) -> str:
        """The title, one numbered line per item, and how to get more."""
        more = None if self.next_cursor is None else f"{self.cursor_param}={self.next_cursor}"
        return _listing(self.title, self.items, self.total, 0, more)


class Playback(BaseModel):
    """What is playing, where, and how."""

    is_playing: bool
    track: Track | None = None
    progress: str | None = Field(default=None, description="m:ss into the track")
    progress_ms: int | None = None
    device: Device | None = None
    shuffle: bool | None = None
    repeat: str | None = Field(default=None, description="off, track or context")
    context_uri: str | None = Field(default=None, description="the album, playlist or artist playing")

    def text(self) -> str:
        """A short rendering."""
        if self.track is None and self.device is None:
            return "Nothing is playing and no device is active."
        state = "Playing" if self.is_playing else "Paused"
        what = self.track.line() if self.track else "nothing"
        where = f" on {self.device.name}" if self.device else ""
        position = f" at {self.progress}" if self.progress else ""
        modes = f" (shuffle {'on' if self.shuffle else 'off'}, repeat {self.repeat})" if self.repeat else ""
        context = f"\nFrom {self.context_uri}" if self.context_uri else ""
        return f"{state}{where}{position}{modes}: {what}{context}"


class Queue(BaseModel):
    """The track playing now and what follows."""

    currently_playing: Track | None
    queue: list[Track]

    def text(self) -> str:
        """A short rendering."""
        now = self.currently_playing.line() if self.currently_playing else "nothing"
        lines = [f"Now playing: {now}", f"Up next ({len(self.queue)}):" if self.queue else "Up next: nothing."]
        lines += [f"{n}. {t.line()}" for n, t in enumerate(self.queue, start=1)]
        return "\n".join(lines)


def playback(raw: dict[str, Any]) -> Playback:
    """Compact a Spotify CurrentlyPlayingContextObject."""
    item = raw.get("item")
    progress = raw.get("progress_ms")
    context = raw.get("context")
    raw_device = raw.get("device")
    return Playback(
        is_playing=bool(raw.get("is_playing", False)),
        track=track(item) if isinstance(item, dict) and item.get("type", "track") == "track" else None,
        progress=duration(progress) if isinstance(progress, int) else None,
        progress_ms=progress if isinstance(progress, int) else None,
        device=device(raw_device) if isinstance(raw_device, dict) else None,
        shuffle=raw.get("shuffle_state"),
        repeat=raw.get("repeat_state"),
        context_uri=context.get("uri") if isinstance(context, dict) else None,
    )


def _listing(title: str, items: Sequence[Item], total: int | None, offset: int, more: str | None) -> str:
    """``title (n of total):``, the items numbered from ``offset + 1``, and the argument that fetches more."""
    if not items:
        return f"{title}: none."
    count = f"{len(items)} of {total}" if total is not None else str(len(items))
    lines = [f"{title} ({count}):"]
    lines += [f"{offset + n}. {item.line()}" for n, item in enumerate(items, start=1)]
    if more is not None:
        lines.append(f"More: call again with {more}.")
    return "\n".join(lines)
