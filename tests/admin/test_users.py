"""``spotify-mcp admin users list`` and ``disconnect``, and the installed entry point."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from spotify_mcp.clock import ManualClock
from spotify_mcp.crypto import KeyRing
from spotify_mcp.store import Store
from tests.store.builders import issue

from .support import NOW, Cli, mcp_status, sealed_credentials, server, spotify_emulator, with_store

KEYS = KeyRing.ephemeral()


async def seed(store: Store) -> None:
    """Alice (connected first, two clients) and Bob (no grant left)."""
    await store.put_spotify_credentials(sealed_credentials(KEYS, "bob", authorized_at=NOW, display_name=None))
    await store.put_spotify_credentials(sealed_credentials(KEYS, "alice", authorized_at=NOW - 3600))
    await issue(store, "g1", client_id="c1", user_id="alice")
    await issue(store, "g2", client_id="c1", user_id="alice")
    await issue(store, "g3", client_id="c2", user_id="alice")


class Terminal(io.StringIO):
    """Standard input that is a terminal, holding what the operator types."""

    def isatty(self) -> bool:
        """Say it is a terminal."""
        return True


def test_listing_users_shows_each_connected_user_oldest_first(cli: Cli) -> None:
    with_store(cli.store_path, seed)
    ran = cli("admin", "users", "list")
    assert ran.code == 0, ran.err
    assert [line.split() for line in ran.out.splitlines()] == [
        ["USER", "ID", "NAME", "CONNECTED", "SINCE", "SCOPES", "GRANTS", "CLIENTS"],
        ["alice", "Test", "User", "2027-01-15", "07:00", "UTC", "2", "3", "2"],
        ["bob", "-", "2027-01-15", "08:00", "UTC", "2", "0", "0"],
        ["2", "users", "(--json", "lists", "each", "user's", "scopes)"],
    ]


def test_listing_users_as_json_gives_their_scopes(cli: Cli) -> None:
    with_store(cli.store_path, seed)
    ran = cli("admin", "users", "list", "--json")
    assert json.loads(ran.out) == [
        {
            "user_id": "alice",
            "display_name": "Test User",
            "connected_since": "2027-01-15T07:00:00Z",
            "scopes": ["user-read-private", "user-read-playback-state"],
            "grants": 3,
            "clients": 2,
        },
        {
            "user_id": "bob",
            "display_name": None,
            "connected_since": "2027-01-15T08:00:00Z",
            "scopes": ["user-read-private", "user-read-playback-state"],
            "grants": 0,
            "clients": 0,
        },
    ]


def test_listing_users_of_an_empty_store_says_so(cli: Cli) -> None:
    with_store(cli.store_path, lambda store: store.ping())
    assert cli("admin", "users", "list").out == "No Spotify user is connected.\n"


@pytest.mark.anyio
async def test_disconnecting_a_user_deletes_their_data_and_their_tokens_fail_at_mcp(
    cli: Cli, tmp_path: Path, clock: ManualClock
) -> None:
    async with server(tmp_path, KeyRing.ephemeral(), spotify_emulator(clock), clock) as h:
        tokens = await h.tokens((await h.register())["client_id"])
        assert await mcp_status(h, tokens["access_token"]) != 401

        ran = await cli.from_async("admin", "users", "disconnect", "premium-user", "--yes")

        assert ran.code == 0, ran.err
        assert ran.out.splitlines()[0].startswith("Disconnected premium-user (")
        assert "deleted their Spotify tokens and 1 grant of 1 client." in ran.out
        assert await mcp_status(h, tokens["access_token"]) == 401
        store = h.app.state.runtime.services.store
        assert await store.get_spotify_credentials("premium-user") is None
        assert await store.list_grants("premium-user") == []


def test_disconnecting_without_yes_off_a_terminal_refuses_and_keeps_everything(cli: Cli) -> None:
    with_store(cli.store_path, seed)
    ran = cli("admin", "users", "disconnect", "alice")
    assert ran.code == 2
    assert ran.err == (
        "spotify-mcp: refusing to disconnect a user without confirmation: stdin is not a terminal; pass --yes\n"
    )
    assert with_store(cli.store_path, lambda store: store.get_spotify_credentials("alice")) is not None


def test_disconnecting_asks_on_a_terminal_and_goes_ahead_on_yes(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    with_store(cli.store_path, seed)
    monkeypatch.setattr(sys, "stdin", Terminal("y\n"))
    ran = cli("admin", "users", "disconnect", "alice")
    assert ran.code == 0, ran.err
    assert ran.out.startswith(
        "Disconnect alice (Test User)? This deletes their Spotify tokens and 3 grants of 2 clients; "
        "those clients' tokens stop working. [y/N] Disconnected alice (Test User)"
    )
    assert with_store(cli.store_path, lambda store: store.list_grants("alice")) == []


def test_disconnecting_asks_on_a_terminal_and_keeps_everything_on_no(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    with_store(cli.store_path, seed)
    for typed in ("\n", "no\n", ""):  # Enter, "no", end of input
        monkeypatch.setattr(sys, "stdin", Terminal(typed))
        ran = cli("admin", "users", "disconnect", "alice")
        assert ran.code == 1
        assert ran.err == "spotify-mcp: alice was not disconnected\n"
    assert len(with_store(cli.store_path, lambda store: store.list_grants("alice"))) == 3


def test_disconnecting_an_unknown_user_exits_1(cli: Cli) -> None:
    with_store(cli.store_path, seed)
    ran = cli("admin", "users", "disconnect", "carol", "--yes")
    assert ran.code == 1
    assert ran.err == "spotify-mcp: no connected Spotify user carol (see `spotify-mcp admin users list`)\n"


def test_the_installed_command_lists_users(tmp_path: Path) -> None:
    store_path = tmp_path / "store.db"
    with_store(store_path, seed)
    env = {
        **os.environ,
        "SPOTIFY_CLIENT_ID": "id",
        "SPOTIFY_CLIENT_SECRET": "secret",
        "SPOTIFY_MCP_STORE_URL": f"sqlite:///{store_path}",
    }
    command = Path(sys.executable).parent / "spotify-mcp"
    ran = subprocess.run(
        [str(command), "admin", "users", "list", "--json"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    assert [user["user_id"] for user in json.loads(ran.stdout)] == ["alice", "bob"]
