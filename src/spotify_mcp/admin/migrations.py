"""``admin migrations show`` and ``apply``: the store's schema version against the one this release writes.

``serve`` migrates too: opening the store (``open_store``) applies pending migrations on every start, serialized
across replicas (a transaction per step on SQLite, an advisory lock on PostgreSQL, one script on Redis). ``apply``
does the same ahead of a deployment, so a failure shows up before any replica restarts.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import anyio

from spotify_mcp.admin.output import plural, say
from spotify_mcp.admin.session import EXIT_OK, AdminError, opened, sqlite_file, store_location
from spotify_mcp.observability.health import expected_schema_version
from spotify_mcp.store.base import Store
from spotify_mcp.store.sqlite_schema import CURRENT_VERSION as SQLITE_VERSION

MIGRATION_NOTES: dict[int, str] = {
    1: "the initial schema: clients, authorization requests and codes, grants, tokens, Spotify credentials",
    2: "rate-limit counters shared by replicas (rate_limit_windows)",
}
"""What each schema version adds, shown for pending steps; one entry per migration of the SQL backends."""

_REDIS_NOTE = "Redis has no tables: applying only records the version, so every backend reports one."


def _is_redis(url: str) -> bool:
    return urlsplit(url).scheme.lower() in ("redis", "rediss")


def _pending(found: int, expected: int, url: str) -> None:
    say(f"Pending: {plural(expected - found, 'step')}")
    for version in range(found + 1, expected + 1):
        say(f"  {version}  {MIGRATION_NOTES.get(version, '(no description)')}")
    if _is_redis(url):
        say(_REDIS_NOTE)


async def _versions(store: Store) -> tuple[int, int]:
    return await store.schema_version(), expected_schema_version(store)


def _newer(found: int, expected: int) -> str:
    return (
        f"the store is at schema version {found}, newer than this release's {expected}: it was written by a newer "
        "spotify-mcp; upgrade this one (a schema is never migrated back)"
    )


async def show(url: str) -> int:
    """Print the store's schema version, the one this release needs, and the steps in between."""
    location = store_location(url)
    path = sqlite_file(url)
    if path is not None and not await anyio.Path(path).exists():
        location += " (does not exist yet)"
        found, expected = 0, SQLITE_VERSION
    else:
        async with opened(url, current=False) as store:
            found, expected = await _versions(store)
    say(f"Store: {location}")
    say(f"Schema version: {found}{' (empty)' if found == 0 else ''}")
    say(f"This release needs: {expected}")
    if found > expected:
        say(f"Newer than this release: {_newer(found, expected)}.")
    elif found == expected:
        say("Up to date: nothing to apply.")
    else:
        _pending(found, expected, url)
        say("Apply them with `spotify-mcp admin migrations apply`; `serve` also applies them when it starts.")
    return EXIT_OK


async def apply(url: str) -> int:
    """Bring the store to this release's schema (creating a SQLite file); refuse a newer schema."""
    location = store_location(url)
    async with opened(url, create=True, current=False) as store:
        found, expected = await _versions(store)
        if found > expected:
            raise AdminError(_newer(found, expected))
        if found == expected:
            say(f"{location} is at schema version {found}, the one this release needs: nothing to apply.")
            return EXIT_OK
        await store.migrate()
        now = await store.schema_version()
    say(f"Migrated {location} from schema version {found} to {now}:")
    for version in range(found + 1, now + 1):
        say(f"  {version}  {MIGRATION_NOTES.get(version, '(no description)')}")
    if _is_redis(url):
        say(_REDIS_NOTE)
    return EXIT_OK
