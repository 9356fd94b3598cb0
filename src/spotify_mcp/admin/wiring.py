"""The ``admin`` and ``config`` subcommands: their arguments, and running them with exit codes and messages.

Exit codes: 0 done; 1 not everything asked was done (unknown id, declined, incomplete rotation, a failed check);
2 the configuration is invalid, the store unreachable or at another schema version (nothing was done).
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from typing import Any

import anyio

from spotify_mcp.admin import clients, config_check, keys, migrations, users
from spotify_mcp.admin.output import warn
from spotify_mcp.admin.session import EXIT_CONFIG, AdminError, run_on_store
from spotify_mcp.crypto import KeyRing
from spotify_mcp.settings import load_settings
from spotify_mcp.store.base import Store, StoreError

Handler = Callable[[argparse.Namespace], int]


def _on_store(work: Callable[[Store, argparse.Namespace], Awaitable[int]]) -> Handler:
    """A handler that runs ``work`` on the configured store, at this release's schema."""

    def handler(args: argparse.Namespace) -> int:
        settings = load_settings()
        return run_on_store(settings.effective_store_url, lambda store: work(store, args))

    return handler


def _with_keys(work: Callable[[Store, KeyRing], Awaitable[int]]) -> Handler:
    """A handler that runs ``work`` on the configured store with the configured key ring."""

    def handler(args: argparse.Namespace) -> int:
        settings = load_settings()
        ring = settings.key_ring()
        return run_on_store(settings.effective_store_url, lambda store: work(store, ring))

    return handler


def _on_url(work: Callable[[str], Awaitable[int]]) -> Handler:
    """A handler that runs ``work`` on the configured store's URL (it opens the store itself)."""

    def handler(args: argparse.Namespace) -> int:
        url = load_settings().effective_store_url
        return anyio.run(work, url)

    return handler


def _group(commands: Any, name: str, help_text: str) -> Any:
    parser = commands.add_parser(name, help=help_text, description=help_text)
    return parser.add_subparsers(dest=f"{name}_command", required=True, metavar="COMMAND")


def _leaf(group: Any, name: str, help_text: str, handler: Handler) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = group.add_parser(name, help=help_text, description=help_text)
    parser.set_defaults(handler=handler)
    return parser


def add_commands(commands: Any) -> None:
    """Add ``admin …`` and ``config check`` to the ``spotify-mcp`` parser's subcommands."""
    admin = _group(commands, "admin", "operate the configured store: clients, users, keys, migrations")
    config = _group(commands, "config", "check the configuration")
    _leaf(
        config,
        "check",
        "validate the whole configuration: ok, warning or error per check",
        lambda _: config_check.config_check(),
    )

    group = _group(admin, "clients", "the MCP clients that registered or hold grants")
    listing = _leaf(
        group, "list", "list clients with their grants", _on_store(lambda s, a: clients.list_clients(s, as_json=a.json))
    )
    listing.add_argument("--json", action="store_true", help="print JSON")
    revoke = _leaf(
        group,
        "revoke",
        "delete a client with its grants and tokens",
        _on_store(lambda s, a: clients.revoke_client(s, a.client_id)),
    )
    revoke.add_argument("client_id", metavar="CLIENT_ID")

    group = _group(admin, "users", "the Spotify users whose tokens the server holds")
    listing = _leaf(
        group, "list", "list connected Spotify users", _on_store(lambda s, a: users.list_users(s, as_json=a.json))
    )
    listing.add_argument("--json", action="store_true", help="print JSON")
    disconnect = _leaf(
        group,
        "disconnect",
        "delete a user's Spotify tokens and every grant and token acting for them",
        _on_store(lambda s, a: users.disconnect_user(s, a.user_id, yes=a.yes)),
    )
    disconnect.add_argument("user_id", metavar="USER_ID")
    disconnect.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    group = _group(admin, "keys", "the key ring that seals stored Spotify tokens (SPOTIFY_MCP_SECRET_KEY)")
    _leaf(group, "generate", "print a fresh key and the rings to deploy it with", lambda _: keys.generate())
    _leaf(group, "status", "how many users' tokens each key seals", _with_keys(keys.status))
    _leaf(group, "rotate", "re-seal every stored Spotify token under the current (first) key", _with_keys(keys.rotate))

    group = _group(admin, "migrations", "the store's schema version")
    _leaf(group, "show", "the schema version, the one this release needs, and pending steps", _on_url(migrations.show))
    _leaf(group, "apply", "migrate the store to this release's schema", _on_url(migrations.apply))


def run(args: argparse.Namespace) -> int:
    """Run the chosen subcommand; a store, file or admin error becomes a message and exit code 2.

    A ConfigError propagates: the ``spotify-mcp`` entry point turns it into the same message and exit code.
    """
    handler: Handler = args.handler
    try:
        return handler(args)
    except (AdminError, StoreError, OSError) as exc:
        warn(str(exc))
        return EXIT_CONFIG
