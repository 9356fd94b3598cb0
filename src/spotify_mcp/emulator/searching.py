"""Spotify's search query language (free text plus field filters) evaluated over the fake world."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from spotify_mcp.emulator.model import Album, Artist, Playlist, Track
from spotify_mcp.emulator.world import World

TOKEN = re.compile(r'(?:(\w+):)?(?:"([^"]*)"|(\S+))')
FILTERS = frozenset({"artist", "album", "track", "year", "genre", "isrc", "upc", "tag"})
APPLIES_TO = {
    "artist": {"album", "artist", "track"},
    "year": {"album", "artist", "track"},
    "album": {"album", "track"},
    "genre": {"artist", "track"},
    "track": {"track"},
    "isrc": {"track"},
    "upc": {"album"},
    "tag": {"album"},
}
NEW_RELEASE_DAYS = 14

R = TypeVar("R")
Filter = Callable[[R, str, str, bool], bool]


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", _fold(text))


def matches_text(term: str, phrase: bool, texts: Iterable[str]) -> bool:
    """A quoted phrase must occur in one text; each word of a bare term must start a word of one text."""
    if phrase:
        return any(_fold(term) in _fold(text) for text in texts)
    text_words = [w for text in texts for w in _words(text)]
    return all(any(w.startswith(t) for w in text_words) for t in _words(term))


@dataclass
class Query:
    """A parsed ``q``: free-text terms and field filters, each as (value, was quoted)."""

    terms: list[tuple[str, bool]] = field(default_factory=list)
    filters: list[tuple[str, str, bool]] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The free text, for ranking exact and prefix name matches first."""
        return " ".join(term for term, _ in self.terms)


def parse_query(q: str) -> Query:
    """Split ``q`` into terms and ``field:value`` filters (values may be quoted)."""
    query = Query()
    for match in TOKEN.finditer(q):
        name, quoted, bare = match.groups()
        value, phrase = (quoted, True) if quoted is not None else (bare, False)
        if name is not None and name.lower() in FILTERS:
            query.filters.append((name.lower(), value, phrase))
        elif name is not None:
            query.terms.append((f"{name}:{value}", phrase))
        elif value:
            query.terms.append((value, phrase))
    return query


def _year_matches(spec: str, year: int) -> bool:
    low, _, high = spec.partition("-")
    try:
        return int(low) <= year <= int(high or low)
    except ValueError:
        return False


class Searcher:
    """Runs one query against one result type of the world's catalog and public playlists."""

    def __init__(self, world: World, query: Query) -> None:
        self.world = world
        self.query = query
        today = datetime.fromtimestamp(world.clock.now(), UTC).date()
        self.new_since = today - timedelta(days=NEW_RELEASE_DAYS)
        self.today = today

    def _names(self, ids: Iterable[str]) -> list[str]:
        return [self.world.artists[a].name for a in ids]

    def _album_filter(self, album: Album, name: str, value: str, phrase: bool) -> bool:
        artists = self._names(album.artist_ids)
        checks: dict[str, Callable[[], bool]] = {
            "artist": lambda: matches_text(value, phrase, artists),
            "album": lambda: matches_text(value, phrase, [album.name]),
            "year": lambda: _year_matches(value, album.release_date.year),
            "upc": lambda: value == album.upc,
            "tag": lambda: (
                (value == "new" and self.new_since <= album.release_date <= self.today)
                or (value == "hipster" and album.hipster)
            ),
        }
        return checks[name]()

    def _track_filter(self, track: Track, name: str, value: str, phrase: bool) -> bool:
        album = self.world.albums[track.album_id]
        if name in ("album", "year"):
            return self._album_filter(album, name, value, phrase)
        genres = [g for a in track.artist_ids for g in self.world.artists[a].genres]
        checks: dict[str, Callable[[], bool]] = {
            "artist": lambda: matches_text(value, phrase, self._names(track.artist_ids)),
            "track": lambda: matches_text(value, phrase, [track.name]),
            "genre": lambda: matches_text(value, phrase, genres),
            "isrc": lambda: value.upper() == track.isrc,
        }
        return checks[name]()

    def _artist_filter(self, artist: Artist, name: str, value: str, phrase: bool) -> bool:
        if name == "artist":
            return matches_text(value, phrase, [artist.name])
        if name == "genre":
            return matches_text(value, phrase, artist.genres)
        albums = [a for a in self.world.albums.values() if artist.id in a.artist_ids]
        return any(_year_matches(value, a.release_date.year) for a in albums)

    def _select(self, kind: str, candidates: list[tuple[str, list[str], R]], check: Filter[R] | None) -> list[R]:
        if any(kind not in APPLIES_TO[name] for name, _, _ in self.query.filters):
            return []
        found: list[tuple[int, R]] = []
        for name, texts, record in candidates:
            if not all(matches_text(term, phrase, texts) for term, phrase in self.query.terms):
                continue
            if check is not None and not all(check(record, *f) for f in self.query.filters):
                continue
            found.append((self._rank(name), record))
        found.sort(key=lambda pair: pair[0])
        return [record for _, record in found]

    def _rank(self, name: str) -> int:
        text, folded = _fold(self.query.text), _fold(name)
        if text and folded == text:
            return 0
        return 1 if text and folded.startswith(text) else 2

    def tracks(self) -> list[Track]:
        """Matching tracks: free text against name, artists and album."""
        candidates = [
            (t.name, [t.name, *self._names(t.artist_ids), self.world.albums[t.album_id].name], t)
            for t in self.world.tracks.values()
        ]
        return self._select("track", candidates, self._track_filter)

    def albums(self) -> list[Album]:
        """Matching albums: free text against name and artists."""
        candidates = [(a.name, [a.name, *self._names(a.artist_ids)], a) for a in self.world.albums.values()]
        return self._select("album", candidates, self._album_filter)

    def artists(self) -> list[Artist]:
        """Matching artists: free text against the name."""
        candidates = [(a.name, [a.name], a) for a in self.world.artists.values()]
        return self._select("artist", candidates, self._artist_filter)

    def playlists(self) -> list[Playlist]:
        """Matching public playlists: free text against name and description."""
        candidates = [(p.name, [p.name, p.description], p) for p in self.world.playlists.values() if p.public]
        return self._select("playlist", candidates, None)
