"""A user's playback state, which moves on with the clock through the queue and the tracks of its context."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

REPEAT_STATES = ("track", "context", "off")
Durations = Callable[[str], int]


@dataclass
class Playback:
    """What plays where, moved on by ``settle``; ``progress_ms`` was measured at ``anchor``.

    ``track_ids`` is the context (or the list of track URIs played) in play order, shuffled while
    ``shuffle`` is on; ``index`` is the context position reached; ``queued`` is a track from the user's
    ``queue`` playing in between, after which the context goes on at ``index + 1``. ``changed_at`` is
    the last play, pause, skip or seek (the state's ``timestamp``).
    """

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
    queue: list[str] = field(default_factory=list)
    queued: str | None = None
    positions: list[int] | None = None

    @property
    def track_id(self) -> str:
        """The current track."""
        return self.queued if self.queued is not None else self.track_ids[self.index]

    @property
    def has_previous(self) -> bool:
        """Whether ``skip_previous`` has somewhere to go."""
        return self.queued is not None or self.index > 0 or self.repeat == "context"

    def settle(self, now: float, duration_ms: Durations) -> None:
        """Move the state on to ``now``: through the queue and the context, stopping at its end unless repeating."""
        if not self.is_playing:
            self.anchor = now
            return
        position = self.progress_ms + int((now - self.anchor) * 1000)
        while position >= duration_ms(self.track_id):
            length = duration_ms(self.track_id)
            if self.repeat != "track" and not self._advance(wrap=self.repeat == "context"):
                self.changed_at = now - (position - length) / 1000
                position = length
                self.is_playing = False
                break
            position -= length
            self.changed_at = now - position / 1000
        self.progress_ms = position
        self.anchor = now

    def _advance(self, *, wrap: bool) -> bool:
        if self.queue:
            self.queued = self.queue.pop(0)
            return True
        if self.index + 1 < len(self.track_ids):
            self.index += 1
        elif wrap:
            self.index = 0
        else:
            return False
        self.queued = None
        return True

    def _restart(self, now: float, position_ms: int = 0) -> None:
        self.progress_ms = position_ms
        self.anchor = now
        self.changed_at = now

    def pause(self, now: float) -> None:
        """Stop where it is."""
        self.is_playing = False
        self._restart(now, self.progress_ms)

    def resume(self, now: float, duration_ms: Durations) -> None:
        """Play on; a context that has played to its end starts over (after anything queued)."""
        if self.progress_ms >= duration_ms(self.track_id) and self._advance(wrap=True):
            self.progress_ms = 0
        self.is_playing = True
        self._restart(now, self.progress_ms)

    def skip_next(self, now: float) -> bool:
        """Go to the next queued or context track (past the end only when repeating); False if there is none."""
        if not self._advance(wrap=self.repeat != "off"):
            return False
        self._restart(now)
        return True

    def skip_previous(self, now: float) -> bool:
        """Go back to the previous context track (wrapping when repeating the context); False if there is none."""
        if not self.has_previous:
            return False
        if self.queued is not None:
            self.queued = None
        else:
            self.index = (self.index - 1) % len(self.track_ids)
        self._restart(now)
        return True

    def seek(self, now: float, position_ms: int, duration_ms: Durations) -> None:
        """Jump to ``position_ms``; past the track's end means the next track, or the end of the context."""
        length = duration_ms(self.track_id)
        if position_ms < length:
            self._restart(now, position_ms)
        elif not self.skip_next(now):
            self.is_playing = False
            self._restart(now, length)

    def set_shuffle(self, state: bool, seed: str) -> None:
        """Shuffle the rest of the context around the current track (reproducibly from ``seed``), or restore it."""
        if state == self.shuffle:
            return
        if state:
            rest = [i for i in range(len(self.track_ids)) if i != self.index]
            random.Random(seed).shuffle(rest)
            self.positions = [self.index, *rest]
            self.track_ids = [self.track_ids[i] for i in self.positions]
            self.index = 0
        elif self.positions is not None:
            original = [""] * len(self.track_ids)
            for played, position in enumerate(self.positions):
                original[position] = self.track_ids[played]
            self.index = self.positions[self.index]
            self.track_ids = original
            self.positions = None
        self.shuffle = state

    def upcoming(self, limit: int) -> list[str]:
        """What plays next, at most ``limit`` tracks: the user's queue, then the context (round again if repeating)."""
        rest = len(self.track_ids) - self.index - 1
        if self.repeat == "context":
            rest = limit
        ahead = [self.track_ids[(self.index + k) % len(self.track_ids)] for k in range(1, rest + 1)]
        return [*self.queue, *ahead][:limit]
