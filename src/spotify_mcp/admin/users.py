"""``admin users list`` and ``admin users disconnect``: the Spotify users whose tokens the server holds."""

from __future__ import annotations

import sys
from collections import defaultdict
from dataclasses import dataclass

import anyio

from spotify_mcp.admin.output import clean, emit_json, iso, plural, say, table, warn, when
from spotify_mcp.admin.session import EXIT_FAILED, EXIT_OK, AdminError
from spotify_mcp.store.base import Store
from spotify_mcp.store.records import GrantRecord


@dataclass(frozen=True, slots=True)
class UserRow:
    """What ``users list`` shows of one connected Spotify user."""

    user_id: str
    display_name: str | None
    authorized_at: float
    scopes: tuple[str, ...]
    grants: int
    clients: int


async def user_rows(store: Store) -> list[UserRow]:
    """Every user with stored Spotify credentials, oldest first, with their grants and clients counted."""
    by_user: dict[str, list[GrantRecord]] = defaultdict(list)
    for grant in await store.list_grants():
        by_user[grant.user_id].append(grant)
    return [
        UserRow(
            user_id=creds.user_id,
            display_name=creds.display_name,
            authorized_at=creds.authorized_at,
            scopes=creds.scopes,
            grants=len(by_user[creds.user_id]),
            clients=len({grant.client_id for grant in by_user[creds.user_id]}),
        )
        for creds in await store.list_spotify_credentials()
    ]


async def list_users(store: Store, *, as_json: bool) -> int:
    """Print every connected user: Spotify id, name, connected since, scopes, grants and clients."""
    rows = await user_rows(store)
    if as_json:
        emit_json(
            [
                {
                    "user_id": row.user_id,
                    "display_name": row.display_name,
                    "connected_since": iso(row.authorized_at),
                    "scopes": list(row.scopes),
                    "grants": row.grants,
                    "clients": row.clients,
                }
                for row in rows
            ]
        )
        return EXIT_OK
    if not rows:
        say("No Spotify user is connected.")
        return EXIT_OK
    headers = ("USER ID", "NAME", "CONNECTED SINCE", "SCOPES", "GRANTS", "CLIENTS")
    say(
        table(
            headers,
            [
                (
                    clean(row.user_id, limit=200),
                    clean(row.display_name or "-", limit=40),
                    when(row.authorized_at),
                    str(len(row.scopes)),
                    str(row.grants),
                    str(row.clients),
                )
                for row in rows
            ],
        )
    )
    say(f"{plural(len(rows), 'user')} (--json lists each user's scopes)")
    return EXIT_OK


async def _confirmed(question: str) -> bool:
    if not sys.stdin.isatty():
        raise AdminError("refusing to disconnect a user without confirmation: stdin is not a terminal; pass --yes")
    try:
        answer = await anyio.to_thread.run_sync(input, f"{question} [y/N] ")
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes")


async def disconnect_user(store: Store, user_id: str, *, yes: bool) -> int:
    """Delete a user's Spotify tokens with every grant and token that acts for them, after confirmation."""
    creds = await store.get_spotify_credentials(user_id)
    grants = await store.list_grants(user_id)
    shown = clean(user_id, limit=200)
    if creds is None and not grants:
        warn(f"no connected Spotify user {shown} (see `spotify-mcp admin users list`)")
        return EXIT_FAILED
    name = f" ({clean(creds.display_name)})" if creds is not None and creds.display_name else ""
    what = f"{plural(len(grants), 'grant')} of {plural(len({g.client_id for g in grants}), 'client')}"
    if not yes and not await _confirmed(
        f"Disconnect {shown}{name}? This deletes their Spotify tokens and {what}; those clients' tokens stop working."
    ):
        warn(f"{shown} was not disconnected")
        return EXIT_FAILED
    await store.delete_user(user_id)
    say(f"Disconnected {shown}{name}: deleted their Spotify tokens and {what}.")
    say(
        "They can connect again from any client. To also remove the app from their Spotify account, they "
        "use https://www.spotify.com/account/apps/ (Spotify offers no API to revoke it)."
    )
    return EXIT_OK
