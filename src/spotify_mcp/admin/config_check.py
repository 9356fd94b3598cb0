"""``spotify-mcp config check``: every check of the configuration, each ok, warning or error; exit 1 on an error.

It reads the configuration as ``serve`` does and never prints a secret: not the client secret, not a key (keys
are named by their ids), not the store's password (stores are named by host, database and schema or prefix).
"""

from __future__ import annotations

import anyio

from spotify_mcp.admin.config_rules import (
    Check,
    Level,
    check_key_ring,
    check_public_url,
    check_redirect_uri,
    check_server,
    check_spotify_app,
)
from spotify_mcp.admin.output import clean, plural, say
from spotify_mcp.admin.rotation import kids_of
from spotify_mcp.admin.session import EXIT_FAILED, EXIT_OK, AdminError, opened, sqlite_file, store_location
from spotify_mcp.crypto import KeyRing
from spotify_mcp.observability.health import expected_schema_version
from spotify_mcp.settings import ConfigError, Settings, load_settings
from spotify_mcp.store.base import StoreError
from spotify_mcp.store.records import SpotifyCredentials

STORE_TIMEOUT = 15.0
_TOPIC_WIDTH = 16


def _credential_checks(credentials: list[SpotifyCredentials], keys: KeyRing | None) -> list[Check]:
    if keys is None or not credentials:
        return []
    lost = [creds.user_id for creds in credentials if not kids_of(creds) <= set(keys.kids)]
    stale = [creds for creds in credentials if kids_of(creds) != {keys.current_kid}]
    checks: list[Check] = []
    if lost:
        checks.append(
            Check(
                Level.WARNING,
                "key ring",
                f"{plural(len(lost), 'user')} stored under keys not in the ring cannot be served: put the key back, "
                "or disconnect them (`spotify-mcp admin keys status` names the keys)",
            )
        )
    if len(stale) > len(lost):
        checks.append(
            Check(
                Level.OK,
                "key ring",
                f"{plural(len(stale) - len(lost), 'user')} still under an older key of the ring: run "
                "`spotify-mcp admin keys rotate` before removing it",
            )
        )
    return checks


async def check_store(settings: Settings, keys: KeyRing | None) -> list[Check]:
    """The store is reachable, its schema is this release's, and the ring opens what it holds."""
    url = settings.effective_store_url
    try:
        location = store_location(url)
    except AdminError as exc:
        return [Check(Level.ERROR, "store", str(exc))]
    path = sqlite_file(url)
    if path is not None and not await anyio.Path(path).exists():
        return [Check(Level.WARNING, "store", f"{location} does not exist yet; serve creates it when it starts")]
    credentials: list[SpotifyCredentials] = []
    try:
        with anyio.fail_after(STORE_TIMEOUT):
            async with opened(url, current=False) as store:
                await store.ping()
                found, expected = await store.schema_version(), expected_schema_version(store)
                if found == expected:
                    credentials = await store.list_spotify_credentials()
    except TimeoutError:
        return [Check(Level.ERROR, "store", f"{location} did not answer within {STORE_TIMEOUT:g} seconds")]
    except (StoreError, AdminError, OSError) as exc:
        return [Check(Level.ERROR, "store", f"{location} cannot be used: {exc}")]
    if found > expected:
        schema = Check(
            Level.ERROR,
            "store",
            f"{location} is at schema version {found}, newer than this release's {expected}: upgrade spotify-mcp",
        )
    elif found < expected:
        schema = Check(
            Level.WARNING,
            "store",
            f"{location} is at schema version {found}, this release needs {expected}: serve migrates it when it "
            "starts, or run `spotify-mcp admin migrations apply` first",
        )
    else:
        schema = Check(
            Level.OK,
            "store",
            f"{location} answers; schema version {found} (current); {plural(len(credentials), 'user')} connected",
        )
    return [schema, *_credential_checks(credentials, keys)]


def run_checks() -> list[Check]:
    """Every check, in order; a configuration that does not load is reported, and nothing else can be checked."""
    try:
        settings = load_settings()
    except ConfigError as exc:
        lines = [line.strip() for line in str(exc).splitlines()]
        problems = [line for line in lines[1:] if line] if len(lines) > 1 else lines
        return [Check(Level.ERROR, "configuration", problem) for problem in problems]
    keys, key_checks = check_key_ring(settings)
    checks = [
        Check(Level.OK, "configuration", "read from the environment (and .env in the working directory, if any)"),
        *check_spotify_app(settings),
        *check_public_url(settings),
        *check_redirect_uri(settings),
        *key_checks,
        *check_server(settings),
    ]
    return checks + anyio.run(check_store, settings, keys)


def config_check() -> int:
    """Print every check and a summary; exit 0 without errors, 1 with any."""
    checks = run_checks()
    for check in checks:
        say(f"{check.level.value:<8} {check.topic:<{_TOPIC_WIDTH}} {clean(check.message, limit=1000)}")
    errors = sum(check.level is Level.ERROR for check in checks)
    warnings = sum(check.level is Level.WARNING for check in checks)
    say()
    say(f"{plural(errors, 'error')}, {plural(warnings, 'warning')}.")
    if errors:
        say("Fix the errors before running `spotify-mcp serve`.")
    return EXIT_FAILED if errors else EXIT_OK
