"""GET /v1/me/top/{artists,tracks}: ranked per user and time range, paged."""

from __future__ import annotations

import httpx2
import pytest

from tests.emulator.openapi import assert_conforms

pytestmark = pytest.mark.anyio


async def top(client: httpx2.AsyncClient, headers: dict[str, str], kind: str, **params: str | int) -> dict[str, object]:
    response = await client.get(f"/v1/me/top/{kind}", params=params, headers=headers)
    assert response.status_code == 200, response.text
    assert_conforms(response)
    body: dict[str, object] = response.json()
    return body


def ids(page: dict[str, object]) -> list[str]:
    items = page["items"]
    assert isinstance(items, list)
    return [item["id"] for item in items]


async def test_top_tracks_default_to_twenty_over_the_medium_term(
    client: httpx2.AsyncClient, premium: dict[str, str]
) -> None:
    default = await top(client, premium, "tracks")
    assert default["limit"] == 20
    assert default["total"] == 25
    assert ids(default) == ids(await top(client, premium, "tracks", time_range="medium_term"))
    short = await top(client, premium, "tracks", time_range="short_term")
    assert "time_range=short_term" in str(short["next"])


async def test_time_ranges_rank_differently(client: httpx2.AsyncClient, premium: dict[str, str]) -> None:
    rankings = [ids(await top(client, premium, "artists", time_range=r)) for r in ("short_term", "long_term")]
    assert rankings[0] != rankings[1]
    assert sorted(rankings[0]) == sorted(rankings[1])


async def test_users_have_their_own_top_items(
    client: httpx2.AsyncClient, premium: dict[str, str], free: dict[str, str]
) -> None:
    assert ids(await top(client, premium, "tracks")) != ids(await top(client, free, "tracks"))


async def test_top_items_page_by_offset(client: httpx2.AsyncClient, premium: dict[str, str]) -> None:
    everything = ids(await top(client, premium, "tracks", limit=50))
    second = await top(client, premium, "tracks", limit=10, offset=10)
    assert ids(second) == everything[10:20]
    assert second["previous"] is not None


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/v1/me/top/tracks?time_range=forever", 400),
        ("/v1/me/top/tracks?limit=0", 400),
        ("/v1/me/top/tracks?limit=51", 400),
        ("/v1/me/top/albums", 404),
    ],
)
async def test_bad_top_item_requests_are_refused(
    client: httpx2.AsyncClient, premium: dict[str, str], path: str, status: int
) -> None:
    response = await client.get(path, headers=premium)
    assert response.status_code == status
    assert response.json()["error"]["status"] == status
