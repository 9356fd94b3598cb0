"""Changing playlists: create, add, remove, reorder and change details, seen in the world and through the tools."""

from __future__ import annotations

from typing import Any

import pytest

from spotify_mcp.emulator.model import Playlist
from tests.support import Harness
from tests.tools.conftest import Call, data, text

pytestmark = pytest.mark.anyio

USER = "premium-user"


def uri(h: Harness, name: str) -> str:
    return f"spotify:track:{h.world.track_by_name(name).id}"


def names(h: Harness, playlist: Playlist) -> list[str]:
    return [h.world.tracks[e.track_id].name for e in playlist.entries]


async def listed(call: Call, playlist: Playlist, limit: int = 50) -> list[str]:
    return [t["name"] for t in data(await call("getPlaylistTracks", playlistId=playlist.id, limit=limit))["items"]]


# createPlaylist


async def test_a_new_playlist_is_public_by_default_and_first_in_the_users_list(call: Call, h: Harness) -> None:
    result = await call("createPlaylist", name="Rainy Sunday", description="Slow and warm")
    made = data(result)
    created = h.world.playlists[made["id"]]
    assert (created.name, created.owner_id, created.public, created.description) == (
        "Rainy Sunday",
        USER,
        True,
        "Slow and warm",
    )
    assert created.entries == []
    assert made["uri"] == f"spotify:playlist:{created.id}"
    assert (made["public"], made["tracks"], made["owner_id"]) == (True, 0, USER)
    assert text(result) == f"Created playlist Rainy Sunday by Pia Premium · 0 items · spotify:playlist:{created.id}"
    mine = data(await call("getUserPlaylists", limit=1))["items"]
    assert mine[0]["id"] == created.id


async def test_a_playlist_can_be_created_private(call: Call, h: Harness) -> None:
    made = data(await call("createPlaylist", name="Just for me", public=False))
    assert h.world.playlists[made["id"]].public is False
    assert made["public"] is False
    assert made["description"] is None


async def test_a_playlist_needs_a_name(call: Call, h: Harness) -> None:
    before = len(h.world.api_calls)
    result = await call("createPlaylist", name="")
    assert result.is_error
    assert "name" in text(result)
    assert len(h.world.api_calls) == before


async def test_a_new_playlist_is_filled_with_addTracksToPlaylist(call: Call, h: Harness) -> None:
    made = data(await call("createPlaylist", name="Road Songs"))
    added = await call("addTracksToPlaylist", playlistId=made["uri"], trackUris=[uri(h, "Last Bus Home"), "Poolside"])
    assert added.is_error
    assert "trackUris[1]" in text(added)
    added = await call(
        "addTracksToPlaylist", playlistId=made["uri"], trackUris=[uri(h, "Last Bus Home"), uri(h, "Poolside")]
    )
    assert data(added)["message"] == "Added 2 tracks."
    assert await listed(call, h.world.playlists[made["id"]]) == ["Last Bus Home", "Poolside"]


# addTracksToPlaylist


async def test_tracks_are_added_at_the_end_and_the_new_snapshot_is_returned(call: Call, h: Harness) -> None:
    focus = h.world.playlist_by_name("Late Night Focus")
    before = focus.snapshot_id
    result = await call(
        "addTracksToPlaylist",
        playlistId=f"https://open.spotify.com/playlist/{focus.id}",
        trackUris=[uri(h, "Poolside"), h.world.track_by_name("Orbit").id],
    )
    done = data(result)
    assert done["snapshot_id"] == focus.snapshot_id
    assert done["snapshot_id"] != before
    assert names(h, focus)[-2:] == ["Poolside", "Orbit"]
    assert (await listed(call, focus))[-2:] == ["Poolside", "Orbit"]
    assert text(result) == "Added 2 tracks."


async def test_tracks_can_be_added_at_a_position(call: Call, h: Harness) -> None:
    focus = h.world.playlist_by_name("Late Night Focus")
    result = await call("addTracksToPlaylist", playlistId=focus.id, trackUris=[uri(h, "Poolside")], position=1)
    assert data(result)["message"] == "Added 1 track at position 1."
    assert (await listed(call, focus))[:3] == ["Harmattan Blues", "Poolside", "Accra at Dawn"]


async def test_a_collaborator_adds_to_someone_elses_collaborative_playlist(call: Call, h: Harness) -> None:
    party = h.world.playlist_by_name("Shared Party Mix")
    assert party.owner_id != USER
    result = await call("addTracksToPlaylist", playlistId=party.id, trackUris=[uri(h, "Aurora")])
    assert not result.is_error, text(result)
    assert party.entries[-1].added_by == USER


async def test_more_than_100_tracks_are_refused_before_spotify_is_asked(call: Call, h: Harness) -> None:
    focus = h.world.playlist_by_name("Late Night Focus")
    before = len(h.world.api_calls)
    result = await call("addTracksToPlaylist", playlistId=focus.id, trackUris=[uri(h, "Poolside")] * 101)
    assert result.is_error
    assert "100" in text(result)
    assert len(h.world.api_calls) == before


async def test_a_position_past_the_end_is_reported(call: Call, h: Harness) -> None:
    focus = h.world.playlist_by_name("Late Night Focus")
    result = await call("addTracksToPlaylist", playlistId=focus.id, trackUris=[uri(h, "Poolside")], position=99)
    assert result.is_error
    assert "position" in text(result).lower()
    assert len(focus.entries) == 6


# removeTracksFromPlaylist


async def test_removing_a_track_removes_every_occurrence(call: Call, h: Harness) -> None:
    focus = h.world.playlist_by_name("Late Night Focus")
    await call("addTracksToPlaylist", playlistId=focus.id, trackUris=[uri(h, "Harmattan Blues")])
    assert names(h, focus).count("Harmattan Blues") == 2
    result = await call(
        "removeTracksFromPlaylist", playlistId=focus.id, trackUris=[uri(h, "Harmattan Blues"), uri(h, "Dust")]
    )
    done = data(result)
    assert done["message"] == "Removed 2 tracks (every occurrence)."
    assert done["snapshot_id"] == focus.snapshot_id
    assert "Harmattan Blues" not in await listed(call, focus)
    assert len(focus.entries) == 5


async def test_a_removal_may_name_the_snapshot_it_applies_to(call: Call, h: Harness) -> None:
    focus = h.world.playlist_by_name("Late Night Focus")
    snapshot = data(await call("addTracksToPlaylist", playlistId=focus.id, trackUris=[uri(h, "Poolside")]))[
        "snapshot_id"
    ]
    result = await call(
        "removeTracksFromPlaylist", playlistId=focus.id, trackUris=[uri(h, "Poolside")], snapshotId=snapshot
    )
    assert not result.is_error, text(result)
    assert "Poolside" not in names(h, focus)
    stale = await call(
        "removeTracksFromPlaylist", playlistId=focus.id, trackUris=[uri(h, "Aurora")], snapshotId="bogus"
    )
    assert stale.is_error
    assert "snapshot" in text(stale)


# reorderPlaylistTracks


async def test_a_run_of_tracks_moves_before_another_position(call: Call, h: Harness) -> None:
    focus = h.world.playlist_by_name("Late Night Focus")
    original = names(h, focus)
    result = await call("reorderPlaylistTracks", playlistId=focus.id, rangeStart=0, rangeLength=2, insertBefore=4)
    done = data(result)
    assert done["message"] == "Moved 2 tracks from 0 to before 4."
    assert done["snapshot_id"] == focus.snapshot_id
    assert await listed(call, focus) == [*original[2:4], *original[:2], *original[4:]]


async def test_a_track_moves_to_the_top(call: Call, h: Harness) -> None:
    focus = h.world.playlist_by_name("Late Night Focus")
    original = names(h, focus)
    result = await call("reorderPlaylistTracks", playlistId=focus.id, rangeStart=5, insertBefore=0)
    assert data(result)["message"] == "Moved 1 track from 5 to before 0."
    assert names(h, focus) == [original[5], *original[:5]]


async def test_a_reorder_out_of_range_is_reported_and_changes_nothing(call: Call, h: Harness) -> None:
    focus = h.world.playlist_by_name("Late Night Focus")
    original = names(h, focus)
    result = await call("reorderPlaylistTracks", playlistId=focus.id, rangeStart=6, insertBefore=0)
    assert result.is_error
    assert "Spotify rejected the request" in text(result)
    assert names(h, focus) == original


# updatePlaylistDetails


async def test_details_change_name_and_description(call: Call, h: Harness) -> None:
    focus = h.world.playlist_by_name("Late Night Focus")
    result = await call("updatePlaylistDetails", playlistId=focus.id, name="Deep Work", description="")
    assert data(result)["message"] == "Changed name, description."
    assert (focus.name, focus.description) == ("Deep Work", "")
    assert focus.public is False


async def test_a_private_playlist_can_be_made_collaborative(call: Call, h: Harness) -> None:
    focus = h.world.playlist_by_name("Late Night Focus")
    result = await call("updatePlaylistDetails", playlistId=focus.id, collaborative=True)
    assert not result.is_error, text(result)
    assert focus.collaborative


async def test_a_public_playlist_becomes_collaborative_only_when_made_private_too(call: Call, h: Harness) -> None:
    road = h.world.playlist_by_name("Pia's Road Trip")
    refused = await call("updatePlaylistDetails", playlistId=road.id, collaborative=True, public=True)
    assert refused.is_error
    assert "public=false" in text(refused)
    result = await call("updatePlaylistDetails", playlistId=road.id, collaborative=True, public=False)
    assert data(result)["message"] == "Changed public, collaborative."
    assert (road.public, road.collaborative) == (False, True)


async def test_nothing_to_change_is_refused_before_spotify_is_asked(call: Call, h: Harness) -> None:
    before = len(h.world.api_calls)
    result = await call("updatePlaylistDetails", playlistId=h.world.playlist_by_name("Late Night Focus").id)
    assert result.is_error
    assert "Nothing to change" in text(result)
    assert len(h.world.api_calls) == before


# other people's playlists


@pytest.mark.parametrize(
    ("tool", "arguments"),
    [
        ("addTracksToPlaylist", {"trackUris": ["spotify:track:{track}"]}),
        ("removeTracksFromPlaylist", {"trackUris": ["spotify:track:{track}"]}),
        ("reorderPlaylistTracks", {"rangeStart": 0, "insertBefore": 2}),
        ("updatePlaylistDetails", {"name": "Mine now"}),
    ],
)
async def test_someone_elses_playlist_is_refused_clearly(
    call: Call, h: Harness, tool: str, arguments: dict[str, Any]
) -> None:
    jazz = h.world.playlist_by_name("Jazz Classics")
    track = jazz.entries[0].track_id
    filled = {k: [u.format(track=track) for u in v] if isinstance(v, list) else v for k, v in arguments.items()}
    result = await call(tool, playlistId=jazz.id, **filled)
    assert result.is_error
    assert "only the playlist's owner" in text(result)
    assert "createPlaylist" in text(result)
    assert (jazz.name, len(jazz.entries), jazz.version) == ("Jazz Classics", 4, 1)


async def test_a_collaborator_cannot_change_the_details(call: Call, h: Harness) -> None:
    party = h.world.playlist_by_name("Shared Party Mix")
    result = await call("updatePlaylistDetails", playlistId=party.id, name="Pia's Party")
    assert result.is_error
    assert "only the playlist's owner" in text(result)
    assert party.name == "Shared Party Mix"


async def test_the_items_of_someone_elses_playlist_cannot_be_read_and_the_tool_says_why(call: Call, h: Harness) -> None:
    result = await call("getPlaylistTracks", playlistId=h.world.playlist_by_name("Jazz Classics").id)
    assert result.is_error
    assert "owner and collaborators" in text(result)


@pytest.mark.parametrize("name", ["Sam's Secret Stash", None])
async def test_a_playlist_that_is_not_visible_or_does_not_exist_is_not_found(
    call: Call, h: Harness, name: str | None
) -> None:
    playlist_id = h.world.playlist_by_name(name).id if name else "0000000000000000000000"
    result = await call("addTracksToPlaylist", playlistId=playlist_id, trackUris=[uri(h, "Poolside")])
    assert result.is_error
    assert "getUserPlaylists" in text(result)
