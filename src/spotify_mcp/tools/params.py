"""Parameter types the tools share: names and defaults follow the seed, bounds are ours."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

MAX_LIMIT = 50

Query = Annotated[
    str,
    Field(min_length=1, max_length=500, description="Search text; filters like artist:, album:, year:, genre: work"),
]
OptionalQuery = Annotated[
    str | None, Field(min_length=1, max_length=500, description="Optional search text to narrow the results")
]
Limit = Annotated[int, Field(ge=1, le=MAX_LIMIT, description="How many results (1-50)")]
Offset = Annotated[int, Field(ge=0, le=100_000, description="Index of the first result (from next_offset)")]
Market = Annotated[
    str | None,
    Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2 country code; defaults to the user's country"),
]
DeviceId = Annotated[
    str | None,
    Field(
        pattern=r"^[0-9A-Za-z_-]{1,128}$",
        description="Device to act on (from getAvailableDevices); defaults to the active device",
    ),
]
PlaylistId = Annotated[
    str,
    Field(min_length=1, max_length=200, description="Playlist ID, spotify:playlist: URI or open.spotify.com link"),
]
TimeRange = Annotated[
    str,
    Field(
        pattern=r"^(short_term|medium_term|long_term)$",
        description="short_term (about 4 weeks), medium_term (about 6 months) or long_term (about a year)",
    ),
]


def market_params(market: str | None) -> dict[str, str | int]:
    """The ``market`` query parameter when one was given."""
    return {"market": market} if market else {}
