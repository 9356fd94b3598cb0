"""Turns the fixed content of ``data`` into the world's records, with dates relative to its creation."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from spotify_mcp.emulator import data
from spotify_mcp.emulator.model import (
    Album,
    Artist,
    Device,
    Library,
    Play,
    Playlist,
    PlaylistEntry,
    Track,
    User,
    spotify_id,
    uri,
)
from spotify_mcp.emulator.playback import Playback

DAY = 24 * 3600
TIME_RANGES = ("short_term", "medium_term", "long_term")


@dataclass
class Catalog:
    """Artists, albums and tracks by id, in catalog order, plus lookups by the keys used in ``data``."""

    artists: dict[str, Artist] = field(default_factory=dict)
    albums: dict[str, Album] = field(default_factory=dict)
    tracks: dict[str, Track] = field(default_factory=dict)
    artist_ids: dict[str, str] = field(default_factory=dict)
    album_ids: dict[str, str] = field(default_factory=dict)

    def track_at(self, album_key: str, number: int) -> Track:
        """Track ``number`` (1-based) of the album with key ``album_key``."""
        return self.tracks[self.albums[self.album_ids[album_key]].track_ids[number - 1]]


def _digits(seed: str, count: int) -> str:
    return str(int(hashlib.sha256(seed.encode()).hexdigest(), 16))[:count]


def _release_date(released: str | int, created: float) -> date:
    if isinstance(released, int):
        return datetime.fromtimestamp(created, UTC).date() - timedelta(days=released)
    return date.fromisoformat(released)


def build_catalog(created: float) -> Catalog:
    """The catalog, with new releases dated relative to ``created``."""
    catalog = Catalog()
    for spec in data.ARTISTS:
        artist = Artist(spotify_id("artist", spec.key), spec.name, spec.genres)
        catalog.artists[artist.id] = artist
        catalog.artist_ids[spec.key] = artist.id
    for number, album_spec in enumerate(data.ALBUMS, start=1):
        album = Album(
            id=spotify_id("album", album_spec.key),
            name=album_spec.name,
            artist_ids=tuple(catalog.artist_ids[a] for a in album_spec.artists),
            album_type=album_spec.album_type,
            release_date=_release_date(album_spec.released, created),
            upc=_digits(f"upc:{album_spec.key}", 12),
            hipster=album_spec.hipster,
        )
        catalog.albums[album.id] = album
        catalog.album_ids[album_spec.key] = album.id
        for position, track_spec in enumerate(album_spec.tracks, start=1):
            track = Track(
                id=spotify_id("track", album_spec.key, track_spec.name),
                name=track_spec.name,
                album_id=album.id,
                artist_ids=album.artist_ids + tuple(catalog.artist_ids[a] for a in track_spec.featuring),
                duration_ms=track_spec.seconds * 1000 + int(_digits(track_spec.name, 3)),
                explicit=track_spec.explicit,
                track_number=position,
                isrc=f"QZEMU{album.release_date.year % 100:02d}{number:02d}{position:03d}",
            )
            catalog.tracks[track.id] = track
            album.track_ids.append(track.id)
    return catalog


@dataclass
class Social:
    """Everything personal: users, playlists, follows, devices, playback, history and top items."""

    users: dict[str, User]
    playlists: dict[str, Playlist]
    followed: dict[str, list[str]]
    devices: dict[str, list[Device]]
    playback: dict[str, Playback]
    history: dict[str, list[Play]]
    top_artists: dict[tuple[str, str], list[str]]
    top_tracks: dict[tuple[str, str], list[str]]


def _ranked(ids: list[str], seed: str) -> list[str]:
    return sorted(ids, key=lambda i: hashlib.sha256(f"{seed}:{i}".encode()).digest())


def build_social(catalog: Catalog, created: float) -> Social:
    """Users and their data, with every timestamp before ``created``."""
    users = {
        u.id: User(u.id, u.display_name, u.product, spotify_id("account", u.id)[:10], u.test_user) for u in data.USERS
    }
    playlists: dict[str, Playlist] = {}
    playlist_ids: dict[str, str] = {}
    for spec in data.PLAYLISTS:
        adders = (spec.owner, *spec.collaborators)
        entries = [
            PlaylistEntry(
                catalog.track_at(album, number).id,
                created - (60 - 3 * i) * DAY - 3600 * i,
                adders[i % len(adders)],
            )
            for i, (album, number) in enumerate(spec.tracks)
        ]
        playlist = Playlist(
            id=spotify_id("playlist", spec.key),
            name=spec.name,
            owner_id=spec.owner,
            public=spec.public,
            collaborative=spec.collaborative,
            description=spec.description,
            entries=entries,
            collaborators=set(spec.collaborators),
            followers=spec.followers,
            custom_image=spec.custom_image,
        )
        playlists[playlist.id] = playlist
        playlist_ids[spec.key] = playlist.id
    followed = {user: [playlist_ids[k] for k in keys] for user, keys in data.FOLLOWED_PLAYLISTS.items()}
    devices: dict[str, list[Device]] = {user_id: [] for user_id in users}
    for d in data.DEVICES:
        device_id = hashlib.sha1(f"device:{d.owner}:{d.name}".encode(), usedforsecurity=False).hexdigest()
        devices[d.owner].append(
            Device(device_id, d.owner, d.name, d.type, d.volume, d.active, d.private_session, d.restricted)
        )
    roadtrip = playlists[playlist_ids["roadtrip"]]
    playback = {
        data.PREMIUM_USER: Playback(
            device_id=devices[data.PREMIUM_USER][0].id,
            context_uri=uri("playlist", roadtrip.id),
            track_ids=[e.track_id for e in roadtrip.entries],
            index=2,
            progress_ms=42_000,
            is_playing=True,
            anchor=created,
            changed_at=created - 42,
        )
    }
    history = {
        user_id: _history(catalog, [playlists[p] for p in followed.get(user_id, [])], created, count)
        for user_id, count in ((data.PREMIUM_USER, 50), (data.FREE_USER, 12), (data.UNLISTED_USER, 5))
    }
    top_artists: dict[tuple[str, str], list[str]] = {}
    top_tracks: dict[tuple[str, str], list[str]] = {}
    for user_id in users:
        for time_range in TIME_RANGES:
            seed = f"{user_id}:{time_range}"
            top_artists[user_id, time_range] = _ranked(list(catalog.artists), seed)
            top_tracks[user_id, time_range] = _ranked(list(catalog.tracks), seed)[:25]
    return Social(users, playlists, followed, devices, playback, history, top_artists, top_tracks)


def _history(catalog: Catalog, playlists: list[Playlist], created: float, count: int) -> list[Play]:
    sources = [(uri("playlist", p.id), [e.track_id for e in p.entries]) for p in playlists]
    sources += [(uri("album", a.id), a.track_ids) for a in catalog.albums.values()]
    queue = [(context, track_id) for context, track_ids in sources for track_id in track_ids]
    plays: list[Play] = []
    moment = int(created * 1000) - 600_000
    for context, track_id in queue[:count]:
        plays.append(Play(track_id, moment, context))
        moment -= catalog.tracks[track_id].duration_ms + 17_000
    return plays


def build_library(catalog: Catalog, created: float) -> dict[str, Library]:
    """Each user's saved tracks and albums and followed artists, all saved before ``created``."""
    libraries = {user.id: Library() for user in data.USERS}
    for user_id, tracks in data.SAVED_TRACKS.items():
        for i, (album, number) in reversed(list(enumerate(tracks))):
            libraries[user_id].save("track", catalog.track_at(album, number).id, created - (i + 1) * DAY)
    for user_id, albums in data.SAVED_ALBUMS.items():
        for i, key in reversed(list(enumerate(albums))):
            libraries[user_id].save("album", catalog.album_ids[key], created - (i + 1) * 7 * DAY)
    for user_id, artists in data.FOLLOWED_ARTISTS.items():
        for i, key in reversed(list(enumerate(artists))):
            libraries[user_id].save("artist", catalog.artist_ids[key], created - (i + 1) * 30 * DAY)
    return libraries
