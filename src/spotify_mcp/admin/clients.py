"""``admin clients list`` and ``admin clients revoke``: the MCP clients that registered or hold grants."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass

from spotify_mcp.admin.output import clean, emit_json, iso, plural, say, table, warn, when
from spotify_mcp.admin.session import EXIT_FAILED, EXIT_OK
from spotify_mcp.oauth.cimd import is_cimd_client_id
from spotify_mcp.oauth.clients import is_pat_client_id
from spotify_mcp.store.base import Store
from spotify_mcp.store.records import ClientRecord, GrantRecord

REGISTERED_PUBLIC = "registered, public"
REGISTERED_CONFIDENTIAL = "registered, confidential"
METADATA_DOCUMENT = "metadata document"
PERSONAL_ACCESS_TOKEN = "personal access token"
"""A token a user made on /account: stored as a reserved client with one grant."""
"""A client whose id is the URL of its metadata document (CIMD): never stored, known only by its grants."""


@dataclass(frozen=True, slots=True)
class ClientRow:
    """What ``clients list`` shows of one client."""

    client_id: str
    name: str | None
    kind: str
    created_at: float
    last_used_at: float | None
    grants: int
    users: int


def _name(record: ClientRecord) -> str | None:
    try:
        name = json.loads(record.metadata_json).get("client_name")
    except (ValueError, AttributeError):
        return None
    return name if isinstance(name, str) and name else None


def _kind(record: ClientRecord) -> str:
    if is_pat_client_id(record.client_id):
        return PERSONAL_ACCESS_TOKEN
    return REGISTERED_CONFIDENTIAL if record.secret_hash else REGISTERED_PUBLIC


def _latest(values: list[float | None]) -> float | None:
    present = [value for value in values if value is not None]
    return max(present) if present else None


async def client_rows(store: Store) -> list[ClientRow]:
    """Every registered client (oldest first), then every unstored client that holds grants (by first grant)."""
    by_client: dict[str, list[GrantRecord]] = defaultdict(list)
    for grant in await store.list_grants():
        by_client[grant.client_id].append(grant)
    rows: list[ClientRow] = []
    for record in await store.list_clients():
        grants = by_client.pop(record.client_id, [])
        rows.append(
            ClientRow(
                client_id=record.client_id,
                name=_name(record),
                kind=_kind(record),
                created_at=record.created_at,
                last_used_at=_latest([record.last_used_at, *(g.last_used_at for g in grants)]),
                grants=len(grants),
                users=len({g.user_id for g in grants}),
            )
        )
    for client_id, grants in by_client.items():
        rows.append(
            ClientRow(
                client_id=client_id,
                name=None,
                kind=METADATA_DOCUMENT if is_cimd_client_id(client_id) else "not stored",
                created_at=grants[0].created_at,
                last_used_at=_latest([g.last_used_at for g in grants]),
                grants=len(grants),
                users=len({g.user_id for g in grants}),
            )
        )
    return rows


async def list_clients(store: Store, *, as_json: bool) -> int:
    """Print every client: id, name, kind, when created and last used, and its live grants."""
    rows = await client_rows(store)
    if as_json:
        emit_json(
            [
                {
                    "client_id": row.client_id,
                    "name": row.name,
                    "kind": row.kind,
                    "created_at": iso(row.created_at),
                    "last_used_at": iso(row.last_used_at),
                    "grants": row.grants,
                    "users": row.users,
                }
                for row in rows
            ]
        )
        return EXIT_OK
    if not rows:
        say("No clients have registered or been granted access.")
        return EXIT_OK
    headers = ("CLIENT ID", "NAME", "KIND", "CREATED", "LAST USED", "GRANTS", "USERS")
    say(
        table(
            headers,
            [
                (
                    clean(row.client_id, limit=2000),
                    clean(row.name or "-", limit=40),
                    row.kind,
                    when(row.created_at),
                    when(row.last_used_at),
                    str(row.grants),
                    str(row.users),
                )
                for row in rows
            ],
        )
    )
    say(plural(len(rows), "client"))
    return EXIT_OK


async def revoke_client(store: Store, client_id: str) -> int:
    """Delete a client with every grant, token and code it holds; its tokens get 401 from then on."""
    record = await store.get_client(client_id)
    grants = [grant for grant in await store.list_grants() if grant.client_id == client_id]
    users = len({grant.user_id for grant in grants})
    shown = clean(client_id, limit=2000)
    deleted = await store.delete_client(client_id)
    revoked = f"{plural(len(grants), 'grant')} for {plural(users, 'user')}"
    if deleted and record is not None:
        name = _name(record)
        say(f"Deleted client {shown}{f' ({clean(name)})' if name else ''}: its registration and {revoked}.")
        say("Every token it holds is refused from now on; to come back it must register and be authorized again.")
        return EXIT_OK
    if grants:
        say(f"Revoked {revoked} of {shown}, a client that is not stored ({METADATA_DOCUMENT} client).")
        say(
            "Every token it holds is refused from now on. It can still ask users to authorize it again; to refuse "
            "it for good, set SPOTIFY_MCP_CIMD_DOMAIN_ALLOWLIST to the hosts you accept, without this one."
        )
        return EXIT_OK
    warn(f"no client {shown}: nothing to revoke (see `spotify-mcp admin clients list`)")
    return EXIT_FAILED
