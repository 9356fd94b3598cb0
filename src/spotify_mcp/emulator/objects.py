"""Renders world records as the Web API's JSON objects, without the fields dev mode no longer returns."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from spotify_mcp.emulator.model import Album, Artist, Device, Play, Playlist, PlaylistEntry, Track, User, uri
from spotify_mcp.emulator.world import World

JSON = dict[str, Any]
OPEN = "https://open.spotify.com"


def timestamp(seconds: float) -> str:
    """An ISO 8601 UTC timestamp as Spotify writes them (``2026-01-02T03:04:05Z``)."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def timestamp_ms(milliseconds: int) -> str:
    """An ISO 8601 UTC timestamp with milliseconds, as in play history."""
    moment = datetime.fromtimestamp(milliseconds // 1000, UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{milliseconds % 1000:03d}Z"


IMAGE_PREFIXES = {640: "ab67616d0000b273", 300: "ab67616d00001e02", 64: "ab67616d00004851"}


def _images(seed: str, sizes: tuple[int, ...] = (640, 300, 64), host: str = "i.scdn.co/image") -> list[JSON]:
    digest = hashlib.sha1(seed.encode(), usedforsecurity=False).hexdigest()[:24]
    return [
        {
            "url": f"https://{host}/{IMAGE_PREFIXES.get(size, f'ab676161{size:08x}')}{digest}",
            "height": size,
            "width": size,
        }
        for size in sizes
    ]


class Renderer:
    """Renders objects for one request: links point at ``api_base``; a ``market`` adds ``is_playable``."""

    def __init__(self, world: World, api_base: str, market: str | None = None) -> None:
        self.world = world
        self.api_base = api_base
        self.market = market

    def _links(self, kind: str, id_: str, path: str | None = None) -> JSON:
        return {
            "external_urls": {"spotify": f"{OPEN}/{kind}/{id_}"},
            "href": f"{self.api_base}/{path or kind + 's'}/{id_}",
            "id": id_,
            "type": kind,
            "uri": uri(kind, id_),
        }

    def simplified_artist(self, artist: Artist) -> JSON:
        """A SimplifiedArtistObject."""
        return {**self._links("artist", artist.id), "name": artist.name}

    def artist(self, artist: Artist) -> JSON:
        """An ArtistObject (no ``followers``, ``popularity`` or ``genres``)."""
        return {**self.simplified_artist(artist), "images": _images(f"artist:{artist.id}", (640, 320, 160))}

    def simplified_album(self, album: Album) -> JSON:
        """A SimplifiedAlbumObject (no ``available_markets``)."""
        return {
            **self._links("album", album.id),
            "album_type": album.album_type,
            "total_tracks": len(album.track_ids),
            "images": _images(f"album:{album.id}"),
            "name": album.name,
            "release_date": album.release_date.isoformat(),
            "release_date_precision": "day",
            "artists": [self.simplified_artist(self.world.artists[a]) for a in album.artist_ids],
        }

    def album(self, album: Album, tracks_page: JSON) -> JSON:
        """An AlbumObject with its first page of tracks (no ``label``, ``popularity`` or ``genres``)."""
        year = album.release_date.year
        owner = self.world.artists[album.artist_ids[0]].name
        return {
            **self.simplified_album(album),
            "tracks": tracks_page,
            "copyrights": [{"text": f"© {year} {owner}", "type": "C"}, {"text": f"℗ {year} {owner}", "type": "P"}],
            "external_ids": {"upc": album.upc},
        }

    def simplified_track(self, track: Track) -> JSON:
        """A SimplifiedTrackObject, as listed in an album."""
        rendered = {
            **self._links("track", track.id),
            "name": track.name,
            "artists": [self.simplified_artist(self.world.artists[a]) for a in track.artist_ids],
            "disc_number": track.disc_number,
            "track_number": track.track_number,
            "duration_ms": track.duration_ms,
            "explicit": track.explicit,
            "is_local": False,
        }
        if self.market is not None:
            rendered["is_playable"] = True
        return rendered

    def track(self, track: Track) -> JSON:
        """A TrackObject (no ``popularity``, ``available_markets``, ``linked_from`` or ``preview_url``)."""
        rendered = {
            **self._links("track", track.id),
            "name": track.name,
            "album": self.simplified_album(self.world.albums[track.album_id]),
            "artists": [self.simplified_artist(self.world.artists[a]) for a in track.artist_ids],
            "disc_number": track.disc_number,
            "track_number": track.track_number,
            "duration_ms": track.duration_ms,
            "explicit": track.explicit,
            "external_ids": {"isrc": track.isrc},
            "is_local": False,
        }
        if self.market is not None:
            rendered["is_playable"] = True
        return rendered

    def private_user(self, user: User) -> JSON:
        """A PrivateUserObject (no country, email, product, followers or explicit_content)."""
        return {
            **self._links("user", user.id),
            "account_id": user.account_id,
            "display_name": user.display_name,
            "images": self.user_images(user),
        }

    def user_images(self, user: User) -> list[JSON]:
        """Profile pictures; the Free test user has none."""
        return [] if user.product == "free" else _images(f"user:{user.id}", (300, 64))

    def playlist_user(self, user_id: str) -> JSON:
        """A PlaylistUserObject (who added an item)."""
        return self._links("user", user_id)

    def playlist_owner(self, user_id: str) -> JSON:
        """A PlaylistOwnerObject."""
        return {**self._links("user", user_id), "display_name": self.world.users[user_id].display_name}

    def _playlist_common(self, playlist: Playlist) -> JSON:
        if playlist.custom_image:
            images: list[JSON] = [
                {
                    "url": f"https://image-cdn-fa.spotifycdn.com/image/{playlist.id}",
                    "height": None,
                    "width": None,
                }
            ]
        elif playlist.entries:
            images = _images(f"playlist:{playlist.id}", (640, 300, 60), host="mosaic.scdn.co")
        else:
            images = []
        return {
            **self._links("playlist", playlist.id),
            "collaborative": playlist.collaborative,
            "description": playlist.description,
            "images": images,
            "name": playlist.name,
            "owner": self.playlist_owner(playlist.owner_id),
            "public": playlist.public,
            "snapshot_id": playlist.snapshot_id,
        }

    def simplified_playlist(self, playlist: Playlist) -> JSON:
        """A SimplifiedPlaylistObject with ``items`` (the 2026 name of ``tracks``) as a link and total."""
        items_ref = {"href": f"{self.api_base}/playlists/{playlist.id}/items", "total": len(playlist.entries)}
        return {**self._playlist_common(playlist), "items": items_ref}

    def playlist(self, playlist: Playlist, items_page: JSON | None) -> JSON:
        """A PlaylistObject; ``items`` only when the viewer may read them (owner or collaborator)."""
        rendered = {
            **self._playlist_common(playlist),
            "followers": {"href": None, "total": playlist.followers},
        }
        if items_page is not None:
            rendered["items"] = items_page
        return rendered

    def playlist_item(self, entry: PlaylistEntry) -> JSON:
        """A PlaylistTrackObject with ``item`` (the 2026 name of ``track``)."""
        return {
            "added_at": timestamp(entry.added_at),
            "added_by": self.playlist_user(entry.added_by),
            "is_local": False,
            "item": self.track(self.world.tracks[entry.track_id]),
        }

    def device(self, device: Device) -> JSON:
        """A DeviceObject."""
        return {
            "id": device.id,
            "is_active": device.is_active,
            "is_private_session": device.is_private_session,
            "is_restricted": device.is_restricted,
            "name": device.name,
            "type": device.type,
            "volume_percent": device.volume,
            "supports_volume": device.volume is not None,
        }

    def context(self, context_uri: str) -> JSON:
        """A ContextObject for an album or playlist URI."""
        _, kind, id_ = context_uri.split(":")
        links = self._links(kind, id_)
        return {
            "type": kind,
            "href": links["href"],
            "external_urls": links["external_urls"],
            "uri": context_uri,
        }

    def play(self, play: Play) -> JSON:
        """A PlayHistoryObject."""
        return {
            "track": self.track(self.world.tracks[play.track_id]),
            "played_at": timestamp_ms(play.played_at_ms),
            "context": self.context(play.context_uri),
        }
