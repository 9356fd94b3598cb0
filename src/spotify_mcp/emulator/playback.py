"""A user's playback state, which moves on with the clock through the tracks of its context."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Playback:
    """What plays where; ``progress_ms`` was measured at ``anchor``, ``changed_at`` is the last change."""

    device_id: str
    context_uri: str | None
    track_ids: list[str]
    index: int
    progress_ms: int
    is_playing: bool
    anchor: float
    changed_at: float
    shuffle: bool = False
    repeat: str = "off"

    @property
    def track_id(self) -> str:
        """The current track."""
        return self.track_ids[self.index]

    def settle(self, now: float, duration_ms: Callable[[str], int]) -> None:
        """Move the state on to ``now``: advance through the context, stopping at its end unless repeating."""
        if not self.is_playing:
            self.anchor = now
            return
        position = self.progress_ms + int((now - self.anchor) * 1000)
        while position >= duration_ms(self.track_id):
            if self.repeat != "track" and self.index + 1 >= len(self.track_ids) and self.repeat != "context":
                self.changed_at = now - (position - duration_ms(self.track_id)) / 1000
                position = duration_ms(self.track_id)
                self.is_playing = False
                break
            position -= duration_ms(self.track_id)
            if self.repeat != "track":
                self.index = (self.index + 1) % len(self.track_ids)
            self.changed_at = now - position / 1000
        self.progress_ms = position
        self.anchor = now
