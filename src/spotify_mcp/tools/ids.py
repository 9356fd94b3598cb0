"""Spotify references: a bare ID, a ``spotify:`` URI or an open.spotify.com URL, validated before use.

Nothing a model sends reaches a request path unless it parsed here into a kind and a base62 ID (or, for
users, Spotify's user-ID alphabet).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from spotify_mcp.tools.context import ToolFailure

KINDS = ("track", "album", "artist", "playlist", "episode", "show", "audiobook", "user")
_BASE62 = re.compile(r"^[0-9A-Za-z]{22}$")
_USER = re.compile(r"^(?=.*[0-9A-Za-z])[0-9A-Za-z._-]{1,64}$")
_HOSTS = {"open.spotify.com", "play.spotify.com"}
_INTL = re.compile(r"^intl-[a-z]{2}(?:[-_][A-Za-z]{2})?$")


@dataclass(frozen=True, slots=True)
class SpotifyRef:
    """One Spotify object reference: its kind and ID."""

    kind: str
    id: str

    @property
    def uri(self) -> str:
        """The ``spotify:kind:id`` form."""
        return f"spotify:{self.kind}:{self.id}"


def parse_ref(value: str, kinds: tuple[str, ...], *, field: str = "id") -> SpotifyRef:
    """Parse a reference to one of ``kinds``; a bare ID is taken as the first kind."""
    text = value.strip()
    kind, ident = _split(text)
    if kind is None:
        kind = kinds[0]
    if kind == "unknown":
        raise ToolFailure(f"{field} {_quote(text)} is not a Spotify ID, spotify: URI or open.spotify.com link.")
    if kind not in kinds:
        expected = ", ".join(kinds[:-1]) + f" or {kinds[-1]}" if len(kinds) > 1 else kinds[0]
        raise ToolFailure(f"{field} must refer to {_a(kinds[0])} {expected}, but {_quote(text)} is {_a(kind)} {kind}.")
    pattern = _USER if kind == "user" else _BASE62
    if not pattern.fullmatch(ident):
        raise ToolFailure(
            f"{field} {_quote(text)} is not a valid Spotify {kind} reference: use a 22-character ID, "
            f"a URI like spotify:{kind}:ID, or an open.spotify.com link."
        )
    return SpotifyRef(kind, ident)


def parse_refs(values: list[str], kinds: tuple[str, ...], *, field: str) -> list[SpotifyRef]:
    """Parse every reference of a list, naming the position of the first bad one."""
    refs: list[SpotifyRef] = []
    for position, value in enumerate(values):
        refs.append(parse_ref(value, kinds, field=f"{field}[{position}]"))
    return refs


def _split(text: str) -> tuple[str | None, str]:
    if text.startswith("spotify:"):
        parts = text.split(":")
        if len(parts) == 3 and parts[1] in KINDS:
            return parts[1], parts[2]
        if len(parts) == 5 and parts[1] == "user" and parts[3] == "playlist":
            return "playlist", parts[4]
        return "unknown", text
    if text.startswith(("https://", "http://")):
        url = urlsplit(text)
        segments = [s for s in url.path.split("/") if s]
        if url.hostname not in _HOSTS or not segments:
            return "unknown", text
        if _INTL.fullmatch(segments[0]):
            segments = segments[1:]
        if len(segments) == 4 and segments[0] == "user" and segments[2] == "playlist":
            segments = segments[2:]
        if len(segments) == 2 and segments[0] in KINDS:
            return segments[0], segments[1]
        return "unknown", text
    return None, text


def _a(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def _quote(text: str) -> str:
    shown = text if len(text) <= 80 else text[:77] + "..."
    return repr(shown)
