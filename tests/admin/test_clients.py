"""``spotify-mcp admin clients list`` and ``revoke``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from spotify_mcp.account.pat import TokenRequest, issue_token
from spotify_mcp.clock import ManualClock
from spotify_mcp.crypto import KeyRing
from spotify_mcp.store import Store
from spotify_mcp.store.records import ClientRecord
from tests.store.builders import issue

from .support import NOW, Cli, mcp_status, server, spotify_emulator, with_store

DOCUMENT_CLIENT = "https://app.example/oauth/client.json"


def registered(client_id: str, name: str, *, secret_hash: str | None = None, created_at: float = NOW) -> ClientRecord:
    """A dynamically registered client."""
    metadata = {"client_name": name, "redirect_uris": ["http://127.0.0.1:3030/callback"]}
    return ClientRecord(client_id, json.dumps(metadata), secret_hash, created_at)


async def seed(store: Store) -> None:
    """A public client with two grants, a confidential one with none, and a metadata-document client's grant."""
    await store.add_client(registered("smcp_client_public", "Claude"))
    await store.add_client(registered("smcp_client_secret", "Backend", secret_hash="0" * 64, created_at=NOW + 60))
    await issue(store, "g1", client_id="smcp_client_public", user_id="alice", created_at=NOW + 100)
    await issue(store, "g2", client_id="smcp_client_public", user_id="bob", created_at=NOW + 200)
    await store.touch_grant("g2", NOW + 3600)
    await issue(store, "g3", client_id=DOCUMENT_CLIENT, user_id="alice", created_at=NOW + 300)


def test_listing_clients_shows_each_kind_with_its_grants_and_users(cli: Cli) -> None:
    with_store(cli.store_path, seed)
    ran = cli("admin", "clients", "list")
    assert ran.code == 0, ran.err
    lines = ran.out.splitlines()
    assert lines[0].split() == ["CLIENT", "ID", "NAME", "KIND", "CREATED", "LAST", "USED", "GRANTS", "USERS"]
    assert lines[1].split() == [
        "smcp_client_public", "Claude", "registered,", "public",
        "2027-01-15", "08:00", "UTC", "2027-01-15", "09:00", "UTC", "2", "2",
    ]  # fmt: skip
    assert lines[2].split()[:4] == ["smcp_client_secret", "Backend", "registered,", "confidential"]
    assert lines[2].split()[-3:] == ["never", "0", "0"]
    assert lines[3].split()[:5] == [DOCUMENT_CLIENT, "-", "metadata", "document", "2027-01-15"]
    assert lines[4] == "3 clients"


def test_listing_clients_as_json_gives_every_field(cli: Cli) -> None:
    with_store(cli.store_path, seed)
    ran = cli("admin", "clients", "list", "--json")
    assert ran.code == 0, ran.err
    assert json.loads(ran.out) == [
        {
            "client_id": "smcp_client_public",
            "name": "Claude",
            "kind": "registered, public",
            "created_at": "2027-01-15T08:00:00Z",
            "last_used_at": "2027-01-15T09:00:00Z",
            "grants": 2,
            "users": 2,
        },
        {
            "client_id": "smcp_client_secret",
            "name": "Backend",
            "kind": "registered, confidential",
            "created_at": "2027-01-15T08:01:00Z",
            "last_used_at": None,
            "grants": 0,
            "users": 0,
        },
        {
            "client_id": DOCUMENT_CLIENT,
            "name": None,
            "kind": "metadata document",
            "created_at": "2027-01-15T08:05:00Z",
            "last_used_at": None,
            "grants": 1,
            "users": 1,
        },
    ]


def test_listing_no_clients_says_so(cli: Cli) -> None:
    with_store(cli.store_path, lambda store: store.ping())
    assert cli("admin", "clients", "list").out == "No clients have registered or been granted access.\n"
    assert json.loads(cli("admin", "clients", "list", "--json").out) == []


def test_a_client_name_cannot_send_escape_sequences_to_the_terminal(cli: Cli) -> None:
    with_store(cli.store_path, lambda store: store.add_client(registered("smcp_client_x", "Evil\x1b[2J\x07Name")))
    out = cli("admin", "clients", "list").out
    assert "\x1b" not in out
    assert "\x07" not in out
    assert "Evil?[2J?Name" in out


@pytest.mark.anyio
async def test_revoking_a_client_makes_its_tokens_fail_at_mcp(cli: Cli, tmp_path: Path, clock: ManualClock) -> None:
    async with server(tmp_path, KeyRing.ephemeral(), spotify_emulator(clock), clock) as h:
        revoked = (await h.register(client_name="Revoked"))["client_id"]
        kept = (await h.register(client_name="Kept"))["client_id"]
        revoked_tokens, kept_tokens = await h.tokens(revoked), await h.tokens(kept)
        assert await mcp_status(h, revoked_tokens["access_token"]) != 401

        ran = await cli.from_async("admin", "clients", "revoke", revoked)

        assert ran.code == 0, ran.err
        assert ran.out.startswith(f"Deleted client {revoked} (Revoked): its registration and 1 grant for 1 user.")
        assert await mcp_status(h, revoked_tokens["access_token"]) == 401
        assert await mcp_status(h, kept_tokens["access_token"]) != 401
        refresh = await h.http.post(
            "http://127.0.0.1:8000/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": revoked_tokens["refresh_token"],
                "client_id": revoked,
            },
        )
        assert refresh.status_code in (400, 401)
        assert await h.app.state.runtime.services.store.get_client(revoked) is None


def test_revoking_a_metadata_document_client_revokes_its_grants(cli: Cli) -> None:
    with_store(cli.store_path, seed)
    ran = cli("admin", "clients", "revoke", DOCUMENT_CLIENT)
    assert ran.code == 0, ran.err
    assert f"Revoked 1 grant for 1 user of {DOCUMENT_CLIENT}, a client that is not stored" in ran.out
    assert "SPOTIFY_MCP_CIMD_DOMAIN_ALLOWLIST" in ran.out
    remaining = with_store(cli.store_path, lambda store: store.list_grants())
    assert [grant.grant_id for grant in remaining] == ["g1", "g2"]


def test_revoking_an_unknown_client_changes_nothing_and_exits_1(cli: Cli) -> None:
    with_store(cli.store_path, seed)
    ran = cli("admin", "clients", "revoke", "smcp_client_nobody")
    assert ran.code == 1
    assert ran.err == (
        "spotify-mcp: no client smcp_client_nobody: nothing to revoke (see `spotify-mcp admin clients list`)\n"
    )
    assert len(with_store(cli.store_path, lambda store: store.list_grants())) == 3


@pytest.mark.anyio
async def test_a_personal_access_token_is_listed_as_one_and_revoking_it_ends_it(
    cli: Cli, tmp_path: Path, clock: ManualClock
) -> None:
    async with server(tmp_path, KeyRing.ephemeral(), spotify_emulator(clock), clock) as h:
        await h.tokens((await h.register())["client_id"])
        services = h.app.state.runtime.services
        issued = await issue_token(services, "premium-user", TokenRequest("LibreChat", ("user-read-private",), 30))
        assert await mcp_status(h, issued.token) != 401

        listed = json.loads((await cli.from_async("admin", "clients", "list", "--json")).out)
        (row,) = [r for r in listed if r["kind"] == "personal access token"]
        assert (row["name"], row["grants"], row["users"]) == ("LibreChat", 1, 1)

        ran = await cli.from_async("admin", "clients", "revoke", row["client_id"])
        assert ran.code == 0, ran.err
        assert await mcp_status(h, issued.token) == 401
