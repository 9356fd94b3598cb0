"""Spotify references: IDs, URIs and links parse to one kind and ID; anything else is refused clearly."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spotify_mcp.tools.context import ToolFailure
from spotify_mcp.tools.ids import parse_ref, parse_refs

ID = "4uLU6hMCjMI75M1A2tKUQC"
BASE62 = string.ascii_letters + string.digits


@pytest.mark.parametrize(
    "value",
    [
        ID,
        f"spotify:track:{ID}",
        f"https://open.spotify.com/track/{ID}",
        f"https://open.spotify.com/track/{ID}?si=abcdef",
        f"https://open.spotify.com/intl-de/track/{ID}",
        f"https://open.spotify.com/intl-pt_BR/track/{ID}",
        f"  spotify:track:{ID}  ",
    ],
)
def test_ids_uris_and_links_name_the_same_track(value: str) -> None:
    ref = parse_ref(value, ("track",))
    assert (ref.kind, ref.id, ref.uri) == ("track", ID, f"spotify:track:{ID}")


def test_an_old_style_user_playlist_uri_is_a_playlist() -> None:
    assert parse_ref(f"spotify:user:someone:playlist:{ID}", ("playlist",)).id == ID
    assert parse_ref(f"https://open.spotify.com/user/someone/playlist/{ID}", ("playlist",)).id == ID


def test_a_reference_of_another_kind_is_refused_naming_both() -> None:
    with pytest.raises(ToolFailure, match=r"must refer to a playlist, but .* is a track"):
        parse_ref(f"spotify:track:{ID}", ("playlist",), field="playlistId")


@pytest.mark.parametrize(
    "value",
    [
        "",
        "abc",
        "../../me/player",
        f"{ID}/../x",
        f"spotify:track:{ID}:extra",
        f"spotify:podcast:{ID}",
        f"https://evil.example/track/{ID}",
        f"https://open.spotify.com.evil.example/track/{ID}",
        f"https://open.spotify.com/track/{ID}/more",
        "spotify:track:" + "x" * 23,
    ],
)
def test_anything_else_is_refused_before_it_reaches_a_path(value: str) -> None:
    with pytest.raises(ToolFailure):
        parse_ref(value, ("track",))


def test_the_position_of_a_bad_reference_in_a_list_is_named() -> None:
    with pytest.raises(ToolFailure, match=r"trackUris\[1\]"):
        parse_refs([ID, "nope"], ("track",), field="trackUris")


@given(st.text(min_size=1, max_size=60))
def test_whatever_parses_is_a_safe_path_segment(value: str) -> None:
    try:
        ref = parse_ref(value, ("track", "album", "playlist", "user"))
    except ToolFailure:
        return
    assert ref.id
    assert all(c in BASE62 + "._-" for c in ref.id)
    assert ref.id not in {".", ".."}


@given(st.text(alphabet=BASE62, min_size=22, max_size=22))
def test_every_base62_id_round_trips_through_its_uri_and_link(ident: str) -> None:
    assert parse_ref(f"spotify:album:{ident}", ("album",)).id == ident
    assert parse_ref(f"https://open.spotify.com/album/{ident}", ("album",)).id == ident


@pytest.mark.parametrize("value", ["spotify:user:..", "spotify:user:.", "spotify:user:-_"])
def test_a_user_id_of_punctuation_alone_is_refused(value: str) -> None:
    with pytest.raises(ToolFailure):
        parse_ref(value, ("user",))
