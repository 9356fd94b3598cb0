"""``spotify-mcp admin keys generate``, ``status`` and ``rotate``; rotation logs nobody out."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from spotify_mcp.clock import ManualClock
from spotify_mcp.crypto import KeyRing, generate_key, kid_of
from spotify_mcp.store import Store
from tests.support import PUBLIC, mcp_client

from .support import Cli, opened_tokens, sealed_credentials, server, spotify_emulator, with_store

OLD, NEW, LOST = generate_key(), generate_key(), generate_key()
OLD_KID, NEW_KID, LOST_KID = (KeyRing.parse(key).current_kid for key in (OLD, NEW, LOST))


def seeder(*users: tuple[str, str]) -> Callable[[Store], Awaitable[None]]:
    """Store each (user id, key) pair's credentials sealed under that key."""

    async def seed(store: Store) -> None:
        for position, (user_id, key) in enumerate(users):
            creds = sealed_credentials(KeyRing.parse(key), user_id, authorized_at=1_700_000_000.0 + position)
            await store.put_spotify_credentials(creds)

    return seed


def test_generating_a_key_without_a_ring_prints_a_first_ring(cli: Cli) -> None:
    ran = cli("admin", "keys", "generate")
    assert ran.code == 0, ran.err
    key = re.search(r"^  (\S{44})$", ran.out, re.MULTILINE)
    assert key is not None
    assert f"New key (id {KeyRing.parse(key[1]).current_kid}):" in ran.out
    assert f"  SPOTIFY_MCP_SECRET_KEY={key[1]}\n" in ran.out


def test_generating_a_key_prints_the_rings_to_deploy_it_with_last_then_first(cli: Cli) -> None:
    cli.env(SPOTIFY_MCP_SECRET_KEY=f" {OLD} ")
    first, second = cli("admin", "keys", "generate").out, cli("admin", "keys", "generate").out
    rings = re.findall(r"SPOTIFY_MCP_SECRET_KEY=(\S+),(\S+)$", first, re.MULTILINE)
    assert len(rings) == 2
    (added_last, new_last), (new_first, old_after) = rings
    assert added_last == old_after == OLD
    assert new_last == new_first
    assert KeyRing.parse(new_first).current_kid != OLD_KID
    assert new_first not in second
    assert "Run `spotify-mcp admin keys rotate` with that ring" in first


def test_status_counts_the_users_each_key_seals(cli: Cli) -> None:
    with_store(cli.store_path, seeder(("u1", OLD), ("u2", NEW), ("u3", NEW), ("u4", LOST)))
    cli.env(SPOTIFY_MCP_SECRET_KEY=f"{NEW},{OLD}")
    ran = cli("admin", "keys", "status")
    assert ran.code == 0, ran.err
    assert [line.split() for line in ran.out.splitlines()[:5]] == [
        ["2", "keys", "in", "SPOTIFY_MCP_SECRET_KEY;", "4", "users", "stored."],
        ["KEY", "ID", "ROLE", "SEALS", "TOKENS", "OF"],
        [NEW_KID, "current", "2", "users"],
        [OLD_KID, "old", "1", "user"],
        [LOST_KID, "NOT", "IN", "RING", "1", "user"],
    ]
    assert "1 user sealed under keys not in the ring cannot be served" in ran.out
    assert "run `spotify-mcp admin keys rotate`" in ran.out


def test_status_needs_a_key_ring(cli: Cli) -> None:
    with_store(cli.store_path, seeder(("u1", OLD)))
    ran = cli("admin", "keys", "status")
    assert ran.code == 2
    assert ran.err.startswith("spotify-mcp: SPOTIFY_MCP_SECRET_KEY is not set")


def test_rotating_reseals_old_tokens_under_the_current_key_and_frees_the_old_key(cli: Cli) -> None:
    with_store(cli.store_path, seeder(("u1", OLD), ("u2", NEW), ("u3", OLD)))
    cli.env(SPOTIFY_MCP_SECRET_KEY=f"{NEW},{OLD}")
    ran = cli("admin", "keys", "rotate")
    assert ran.code == 0, ran.err
    assert ran.out.splitlines()[:3] == [
        f"Current key: {NEW_KID} (first in SPOTIFY_MCP_SECRET_KEY).",
        "Re-sealed 2 users; 1 already under the current key; 0 disconnected meanwhile.",
        f"Old key {OLD_KID} seals nothing stored any more: it may be removed from the ring on every replica.",
    ]
    assert "10 minutes" in ran.out
    status = cli("admin", "keys", "status").out
    assert f"{OLD_KID}  old      0 users" in status
    assert f"Old key {OLD_KID} seals nothing stored: it may be removed from the ring on every replica." in status
    stored = with_store(cli.store_path, lambda store: store.list_spotify_credentials())
    only_new = KeyRing.parse(NEW)
    assert {creds.user_id: opened_tokens(only_new, creds) for creds in stored} == {
        user: (f"access-{user}", f"refresh-{user}") for user in ("u1", "u2", "u3")
    }
    assert {creds.user_id: creds.version for creds in stored} == {"u1": 2, "u2": 1, "u3": 2}
    assert {kid_of(creds.refresh_token_sealed) for creds in stored} == {NEW_KID}


def test_rotating_leaves_tokens_it_cannot_open_and_exits_1(cli: Cli) -> None:
    with_store(cli.store_path, seeder(("u1", OLD), ("u2", LOST)))
    cli.env(SPOTIFY_MCP_SECRET_KEY=f"{NEW},{OLD}")
    ran = cli("admin", "keys", "rotate")
    assert ran.code == 1
    assert "Re-sealed 1 user; 0 already under the current key" in ran.out
    assert ran.err == (
        "spotify-mcp: 1 user cannot be opened with this ring (sealed by a key not in it): u2; "
        "they are left as they are\n"
    )
    lost = with_store(cli.store_path, lambda store: store.get_spotify_credentials("u2"))
    assert lost is not None
    assert opened_tokens(KeyRing.parse(LOST), lost) == ("access-u2", "refresh-u2")


def test_rotating_when_everything_is_under_the_current_key_writes_nothing(cli: Cli) -> None:
    with_store(cli.store_path, seeder(("u1", OLD)))
    cli.env(SPOTIFY_MCP_SECRET_KEY=f"{OLD},{NEW}")
    ran = cli("admin", "keys", "rotate")
    assert ran.code == 0
    assert "Re-sealed 0 users; 1 already under the current key" in ran.out
    assert f"Old key {NEW_KID} seals nothing stored any more" in ran.out
    stored = with_store(cli.store_path, lambda store: store.get_spotify_credentials("u1"))
    assert stored is not None
    assert stored.version == 1


@pytest.mark.anyio
async def test_after_rotating_a_server_with_only_the_new_key_serves_every_user(
    cli: Cli, tmp_path: Path, clock: ManualClock
) -> None:
    emulator = spotify_emulator(clock)
    async with server(tmp_path, KeyRing.parse(OLD), emulator, clock) as before:
        client_id = (await before.register())["client_id"]
        tokens = await before.tokens(client_id)

    cli.env(SPOTIFY_MCP_SECRET_KEY=f"{NEW},{OLD}")
    ran = await cli.from_async("admin", "keys", "rotate")
    assert ran.code == 0, ran.err
    assert f"Old key {OLD_KID} seals nothing stored any more" in ran.out

    async with server(tmp_path, KeyRing.parse(NEW), emulator, clock) as after:
        async with mcp_client(after, tokens["access_token"]) as client:
            assert not (await client.call_tool("getCurrentUserProfile", {})).is_error
        clock.advance(3700)  # our access token and the stored Spotify access token have both expired
        refreshed = await after.http.post(
            f"{PUBLIC}/token",
            data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], "client_id": client_id},
        )
        assert refreshed.status_code == 200, refreshed.text
        async with mcp_client(after, refreshed.json()["access_token"]) as client:
            result = await client.call_tool("getCurrentUserProfile", {})
        assert not result.is_error, result.content
        assert after.world.refreshes_by_user["premium-user"] == 1


@pytest.mark.anyio
async def test_without_rotating_a_server_with_only_the_new_key_asks_users_to_reconnect(
    tmp_path: Path, clock: ManualClock
) -> None:
    emulator = spotify_emulator(clock)
    async with server(tmp_path, KeyRing.parse(OLD), emulator, clock) as before:
        tokens = await before.tokens((await before.register())["client_id"])
    async with (
        server(tmp_path, KeyRing.parse(NEW), emulator, clock) as after,
        mcp_client(after, tokens["access_token"]) as client,
    ):
        result = await client.call_tool("getCurrentUserProfile", {})
    assert result.is_error
    assert "connect" in str(result.content[0]).lower()
