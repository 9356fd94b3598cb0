"""``spotify-mcp config check``: every check as ok, warning or error, exit 1 on an error, and never a secret."""

from __future__ import annotations

import contextlib
import sqlite3

import pytest

from spotify_mcp.admin.config_rules import spotify_redirect_problem
from spotify_mcp.crypto import KeyRing, generate_key

from .support import Cli, Ran, sealed_credentials, with_store

CLIENT_ID = "0123456789abcdef0123456789abcdef"
CLIENT_SECRET = "client-secret-never-printed"
KEY, OLD_KEY = generate_key(), generate_key()
KID = KeyRing.parse(KEY).current_kid


def checked(cli: Cli) -> Ran:
    """Run ``config check`` and make sure no secret of the configuration was printed."""
    ran = cli("config", "check")
    for secret in (CLIENT_SECRET, KEY, OLD_KEY, KEY[:20], OLD_KEY[:20]):
        assert secret not in ran.out + ran.err
    return ran


@pytest.fixture
def production(cli: Cli) -> Cli:
    """A deployment as it should be: https, a Spotify client id and secret, a key ring and a migrated store."""
    cli.env(
        SPOTIFY_CLIENT_ID=CLIENT_ID,
        SPOTIFY_CLIENT_SECRET=CLIENT_SECRET,
        SPOTIFY_MCP_PUBLIC_URL="https://mcp.example.com",
        SPOTIFY_MCP_SECRET_KEY=KEY,
    )
    with_store(
        cli.store_path, lambda store: store.put_spotify_credentials(sealed_credentials(KeyRing.parse(KEY), "u1"))
    )
    return cli


def test_a_sound_configuration_passes_every_check(production: Cli) -> None:
    ran = checked(production)
    assert ran.code == 0, ran.out
    assert ran.out.splitlines() == [
        "ok       configuration    read from the environment (and .env in the working directory, if any)",
        f"ok       Spotify app      client id {CLIENT_ID}; client secret set",
        "ok       public URL       https://mcp.example.com; MCP endpoint https://mcp.example.com/mcp",
        "ok       redirect URI     register exactly https://mcp.example.com/callback under Redirect URIs in the "
        "Spotify app (developer.spotify.com/dashboard)",
        f"ok       key ring         1 key; current {KID}, seals new values",
        f"ok       store            SQLite {production.store_path} answers; schema version 2 (current); "
        "1 user connected",
        "",
        "0 errors, 0 warnings.",
    ]


@pytest.mark.parametrize(
    ("uri", "problem"),
    [
        ("https://mcp.example.com/callback", None),
        ("http://127.0.0.1:8000/callback", None),
        ("http://[::1]:8000/callback", None),
        ("http://localhost:8000/callback", "Spotify refuses `localhost`"),
        ("http://mcp.example.com/callback", "only on a loopback IP literal"),
        ("ftp://mcp.example.com/callback", "only https"),
    ],
)
def test_spotify_accepts_https_redirect_uris_and_http_only_on_loopback_ip_literals(
    uri: str, problem: str | None
) -> None:
    found = spotify_redirect_problem(uri)
    assert (found is None) if problem is None else (found is not None and problem in found)


def test_a_localhost_public_url_is_an_error_because_spotify_refuses_its_redirect_uri(production: Cli) -> None:
    production.env(SPOTIFY_MCP_PUBLIC_URL="http://localhost:8000")
    ran = checked(production)
    assert ran.code == 1
    assert (
        "error    redirect URI     http://localhost:8000/callback: Spotify refuses `localhost` in redirect URIs: set "
        "SPOTIFY_MCP_PUBLIC_URL to http://127.0.0.1:8000 (the loopback IP literal) instead"
    ) in ran.out.splitlines()
    assert ran.out.endswith("1 error, 1 warning.\nFix the errors before running `spotify-mcp serve`.\n")


def test_a_loopback_public_url_warns_and_must_agree_with_the_port(production: Cli) -> None:
    production.env(SPOTIFY_MCP_PUBLIC_URL="http://127.0.0.1:9000", PORT="8000")
    ran = checked(production)
    assert ran.code == 0
    assert "warning  public URL       http on a loopback address: only this machine can connect" in ran.out
    assert "it names port 9000 but the server listens on PORT=8000" in ran.out
    assert "ok       redirect URI     register exactly http://127.0.0.1:9000/callback" in ran.out


def test_a_configuration_that_does_not_load_reports_each_problem(production: Cli) -> None:
    production.env(SPOTIFY_MCP_PUBLIC_URL="http://mcp.example.com", PORT="eighty", SPOTIFY_CLIENT_SECRET=None)
    ran = checked(production)
    assert ran.code == 1
    assert ran.out.splitlines() == [
        "error    configuration    SPOTIFY_CLIENT_SECRET is required but not set",
        "error    configuration    SPOTIFY_MCP_PUBLIC_URL: SPOTIFY_MCP_PUBLIC_URL must use https unless it is a "
        "loopback address (127.0.0.1, [::1], localhost)",
        "error    configuration    PORT: Input should be a valid integer, unable to parse string as an integer",
        "",
        "3 errors, 0 warnings.",
        "Fix the errors before running `spotify-mcp serve`.",
    ]


def test_a_missing_key_ring_is_an_error(production: Cli) -> None:
    production.env(SPOTIFY_MCP_SECRET_KEY=None)
    ran = checked(production)
    assert ran.code == 1
    assert "error    key ring         SPOTIFY_MCP_SECRET_KEY is not set; serve needs it" in ran.out


def test_tokens_sealed_under_a_key_no_longer_in_the_ring_are_a_warning(production: Cli) -> None:
    old = KeyRing.parse(OLD_KEY)
    with_store(production.store_path, lambda store: store.put_spotify_credentials(sealed_credentials(old, "u2")))
    ran = checked(production)
    assert ran.code == 0
    assert "warning  key ring         1 user stored under keys not in the ring cannot be served" in ran.out
    production.env(SPOTIFY_MCP_SECRET_KEY=f"{KEY},{OLD_KEY}")
    ran = checked(production)
    assert (
        "ok       key ring         1 user still under an older key of the ring: run `spotify-mcp admin keys rotate`"
        in ran.out
    )


def test_a_store_behind_this_release_is_a_warning_and_one_ahead_is_an_error(production: Cli) -> None:
    with contextlib.closing(sqlite3.connect(production.store_path)) as conn, conn:
        conn.execute("DELETE FROM schema_migrations WHERE version = 2")
    ran = checked(production)
    assert ran.code == 0
    assert "is at schema version 1, this release needs 2: serve migrates it when it starts" in ran.out
    with contextlib.closing(sqlite3.connect(production.store_path)) as conn, conn:
        conn.execute("INSERT INTO schema_migrations (version, applied_at) VALUES (2, 0), (3, 0)")
    ran = checked(production)
    assert ran.code == 1
    assert "error    store            " in ran.out
    assert "is at schema version 3, newer than this release's 2: upgrade spotify-mcp" in ran.out


def test_a_store_not_created_yet_is_a_warning(production: Cli) -> None:
    production.env(SPOTIFY_MCP_STORE_URL=f"sqlite:///{production.store_path.parent / 'later.db'}")
    ran = checked(production)
    assert ran.code == 0
    assert "does not exist yet; serve creates it when it starts" in ran.out
    assert not (production.store_path.parent / "later.db").exists()


def test_settings_that_would_stop_serve_are_errors(production: Cli) -> None:
    production.env(SPOTIFY_MCP_LOG_LEVEL="chatty", SPOTIFY_MCP_METRICS="8000", PORT="8000")
    ran = checked(production)
    assert ran.code == 1
    assert "error    logging          SPOTIFY_MCP_LOG_LEVEL=chatty is not DEBUG, INFO, WARNING or ERROR" in ran.out
    assert "error    metrics          SPOTIFY_MCP_METRICS is the main port 8000" in ran.out


def test_development_settings_are_warnings(production: Cli) -> None:
    production.env(
        SPOTIFY_ACCOUNTS_URL="http://127.0.0.1:9000",
        SPOTIFY_MCP_CIMD_ALLOW_PRIVATE_ADDRESSES="true",
        SPOTIFY_MCP_RATE_LIMITS="off",
    )
    ran = checked(production)
    assert ran.code == 0
    assert "SPOTIFY_ACCOUNTS_URL is http://127.0.0.1:9000, not Spotify's https://accounts.spotify.com" in ran.out
    assert "for development only" in ran.out
    assert "SPOTIFY_MCP_RATE_LIMITS=off" in ran.out
    assert ran.out.endswith("0 errors, 3 warnings.\n")
