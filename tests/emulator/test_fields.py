"""The ``fields`` filter language of the playlist endpoints."""

from __future__ import annotations

from typing import Any

import pytest

from spotify_mcp.emulator.fields import apply_fields, parse_fields

PLAYLIST: dict[str, Any] = {
    "name": "P",
    "owner": {"id": "u", "display_name": "U"},
    "items": {
        "total": 2,
        "items": [
            {"added_at": "t1", "item": {"name": "a", "album": {"name": "A", "id": "1"}}},
            {"added_at": "t2", "item": {"name": "b", "album": {"name": "B", "id": "2"}}},
        ],
    },
}


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ("name", {"name": "P"}),
        ("name,owner.id", {"name": "P", "owner": {"id": "u"}}),
        ("items.total", {"items": {"total": 2}}),
        (
            "items.items(item(album(!id)))",
            {"items": {"items": [{"item": {"album": {"name": "A"}}}, {"item": {"album": {"name": "B"}}}]}},
        ),
        ("items(items(added_at))", {"items": {"items": [{"added_at": "t1"}, {"added_at": "t2"}]}}),
        ("!items,!owner", {"name": "P"}),
        ("nothing", {}),
    ],
)
def test_fields_select_and_exclude(fields: str, expected: dict[str, Any]) -> None:
    assert apply_fields(parse_fields(fields), PLAYLIST) == expected


@pytest.mark.parametrize("fields", ["", "a,", "a(b", "a)b", "a..b", "(a)"])
def test_malformed_fields_are_rejected(fields: str) -> None:
    with pytest.raises(ValueError, match=r"expected|unexpected"):
        parse_fields(fields)
