"""Gathering a page of the size a tool was asked for from Spotify's smaller pages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from spotify_mcp.tools.kit import ToolKit
from spotify_mcp.tools.results import Item, Page


async def gather(
    kit: ToolKit,
    user_id: str,
    path: str,
    *,
    limit: int,
    offset: int,
    page_max: int,
    params: Mapping[str, str | int] | None = None,
    key: str | None = None,
    ceiling: int | None = None,
    not_found: str | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """Fetch up to ``limit`` raw items from ``offset`` in requests of at most ``page_max``; return them and the total.

    ``key`` names the paging object inside the answer (search nests one per type); ``ceiling`` is the
    highest offset Spotify serves (1000 for search).
    """
    items: list[dict[str, Any]] = []
    total = 0
    position = offset
    while len(items) < limit and (ceiling is None or position < ceiling):
        size = min(page_max, limit - len(items))
        if ceiling is not None:
            size = min(size, ceiling - position)
        query: dict[str, str | int] = {**(params or {}), "limit": size, "offset": position}
        body = (await kit.spotify(user_id, "GET", path, params=query, not_found=not_found)).object()
        page = body.get(key) if key else body
        if not isinstance(page, dict):
            break
        batch = [i for i in page.get("items") or [] if isinstance(i, dict)]
        total = int(page.get("total") or 0)
        items.extend(batch)
        position += len(batch)
        if len(batch) < size or position >= total:
            break
    return items, total


def next_offset(offset: int, count: int, total: int, ceiling: int | None = None) -> int | None:
    """The offset of the next page, or None at the end."""
    end = offset + count
    limit = total if ceiling is None else min(total, ceiling)
    return end if count and end < limit else None


def page(
    cls: type[Page[Item]], title: str, items: list[Item], total: int, offset: int, ceiling: int | None = None
) -> Page[Item]:
    """A result page whose ``next_offset`` follows from what was gathered."""
    return cls(
        title=title,
        items=items,
        total=total,
        offset=offset,
        next_offset=next_offset(offset, len(items), total, ceiling),
    )
