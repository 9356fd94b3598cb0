"""Every admin command on PostgreSQL and Redis, and clear errors (exit 2, no traceback, no password) for a store
that is misconfigured or unreachable."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import anyio
import pytest

from spotify_mcp.crypto import KeyRing, generate_key
from spotify_mcp.store import open_store
from tests.store.builders import client, issue
from tests.store.pg import POSTGRES_DSN, drop_schema, fresh_schema, require_postgres
from tests.store.redis_support import REDIS_URL, delete_prefix, require_redis, store_url, unique_prefix

from .support import Cli, sealed_credentials

PASSWORD = "pw-Never-Printed-42"
OLD, NEW = generate_key(), generate_key()


@dataclass(frozen=True, slots=True)
class Backend:
    """A fresh, empty place on a test server, and the store URL naming it (with a password in it)."""

    name: str
    url: str


def _with_password(url: str) -> str:
    scheme, rest = url.split("://", 1)
    userinfo, at, place = rest.rpartition("@")
    user = userinfo.split(":", 1)[0] if at else ""
    return f"{scheme}://{user}:{PASSWORD}@{place}"


@pytest.fixture(params=["postgres", "redis"])
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    """A fresh PostgreSQL schema (trust auth ignores the password) or Redis prefix, removed afterwards."""
    if request.param == "postgres":
        anyio.run(require_postgres)
        schema = fresh_schema()
        yield Backend("postgres", f"{_with_password(POSTGRES_DSN)}?schema={schema}")
        anyio.run(drop_schema, schema)
    else:
        anyio.run(require_redis)
        prefix = unique_prefix()
        yield Backend("redis", store_url(prefix, REDIS_URL))
        anyio.run(delete_prefix, prefix)


def seed(url: str) -> None:
    """A registered client with a grant for u1, whose Spotify tokens are sealed under the old key."""

    async def run() -> None:
        store = await open_store(url)
        try:
            await store.add_client(client("c1"))
            await issue(store, "g1", client_id="c1", user_id="u1")
            await store.put_spotify_credentials(sealed_credentials(KeyRing.parse(OLD), "u1"))
        finally:
            await store.close()

    anyio.run(run)


def test_every_admin_command_works_on_the_backend(cli: Cli, backend: Backend) -> None:
    cli.env(SPOTIFY_MCP_STORE_URL=backend.url, SPOTIFY_MCP_SECRET_KEY=f"{NEW},{OLD}")
    shown = cli("admin", "migrations", "show")
    assert shown.code == 0, shown.err
    assert "Schema version: 0 (empty)" in shown.out
    assert cli("admin", "migrations", "apply").out.startswith("Migrated ")
    seed(backend.url)

    assert [row["client_id"] for row in json.loads(cli("admin", "clients", "list", "--json").out)] == ["c1"]
    assert [row["user_id"] for row in json.loads(cli("admin", "users", "list", "--json").out)] == ["u1"]
    assert f"{KeyRing.parse(OLD).current_kid}  old      1 user" in cli("admin", "keys", "status").out
    rotated = cli("admin", "keys", "rotate")
    assert rotated.code == 0, rotated.err
    assert "Re-sealed 1 user;" in rotated.out
    checked = cli("config", "check")
    assert checked.code == 0, checked.out
    assert "1 user connected" in checked.out
    assert cli("admin", "users", "disconnect", "u1", "--yes").code == 0
    assert cli("admin", "clients", "revoke", "c1").code == 0
    assert json.loads(cli("admin", "clients", "list", "--json").out) == []
    for ran in (shown, rotated, checked):
        assert PASSWORD not in ran.out + ran.err


UNREACHABLE = [
    pytest.param(f"postgresql://postgres:{PASSWORD}@127.0.0.1:1/test", "PostgreSQL store at 127.0.0.1:1/test", id="pg"),
    pytest.param(f"redis://:{PASSWORD}@127.0.0.1:1/0", "Redis store at 127.0.0.1:1/0", id="redis"),
]


@pytest.mark.parametrize(("url", "named"), UNREACHABLE)
@pytest.mark.parametrize(
    "command",
    [
        ("admin", "clients", "list"),
        ("admin", "users", "disconnect", "u1", "--yes"),
        ("admin", "keys", "rotate"),
        ("admin", "migrations", "show"),
        ("admin", "migrations", "apply"),
    ],
    ids=" ".join,
)
def test_an_unreachable_store_is_a_clear_error_that_names_no_password(
    cli: Cli, url: str, named: str, command: tuple[str, ...]
) -> None:
    cli.env(SPOTIFY_MCP_STORE_URL=url, SPOTIFY_MCP_SECRET_KEY=NEW)
    ran = cli(*command)
    assert ran.code == 2
    assert ran.out == ""
    assert ran.err.startswith(f"spotify-mcp: {named} could not ")
    assert ran.err.count("\n") == 1
    assert "Traceback" not in ran.err
    assert PASSWORD not in ran.err


@pytest.mark.parametrize(("url", "named"), UNREACHABLE)
def test_config_check_reports_an_unreachable_store_without_its_password(cli: Cli, url: str, named: str) -> None:
    cli.env(SPOTIFY_MCP_STORE_URL=url, SPOTIFY_MCP_SECRET_KEY=NEW)
    ran = cli("config", "check")
    assert ran.code == 1
    assert f"error    store            {named.split(' store at ')[0]} 127.0.0.1:1" in ran.out
    assert PASSWORD not in ran.out + ran.err


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://root@db/spotify", "SPOTIFY_MCP_STORE_URL has the unsupported scheme mysql://"),
        (f"postgresql://u:{PASSWORD}@db/x?schema=Bad-Name", "SPOTIFY_MCP_STORE_URL is invalid: the PostgreSQL store"),
        ("redis://127.0.0.1:6379/zero", "SPOTIFY_MCP_STORE_URL is invalid: the Redis database must be a number"),
        ("sqlite://relative.db", "SPOTIFY_MCP_STORE_URL is invalid: a SQLite store URL has three slashes"),
    ],
)
def test_a_malformed_store_url_is_a_clear_error(cli: Cli, url: str, message: str) -> None:
    cli.env(SPOTIFY_MCP_STORE_URL=url)
    ran = cli("admin", "users", "list")
    assert ran.code == 2
    assert ran.err.startswith(f"spotify-mcp: {message}")
    assert PASSWORD not in ran.err
    assert f"error    store            {message}" in cli("config", "check").out


def test_an_invalid_configuration_is_exit_2_with_advice(cli: Cli) -> None:
    cli.env(SPOTIFY_CLIENT_ID=None)
    ran = cli("admin", "users", "list")
    assert ran.code == 2
    assert ran.err == "spotify-mcp: invalid configuration:\n  SPOTIFY_CLIENT_ID is required but not set\n"
