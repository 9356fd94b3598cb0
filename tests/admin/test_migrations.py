"""``spotify-mcp admin migrations show`` and ``apply``, and admin commands on a store at another schema version."""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
from pathlib import Path

from spotify_mcp.admin.migrations import MIGRATION_NOTES
from spotify_mcp.store import postgres_schema, sqlite_schema

from .support import Cli, with_store

RELEASE_0_1_0 = Path(__file__).parent.parent / "store" / "fixtures" / "sqlite-v1.db"
"""A store exactly as release 0.1.0 (schema version 1) left it, with one connected user."""
CURRENT = sqlite_schema.CURRENT_VERSION


def schema_versions(path: Path) -> list[int]:
    """The versions recorded in a SQLite store, read behind its back."""
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return [row[0] for row in conn.execute("SELECT version FROM schema_migrations ORDER BY version")]


def from_release_0_1_0(cli: Cli) -> None:
    """Put a copy of release 0.1.0's store where the CLI's configuration points."""
    shutil.copyfile(RELEASE_0_1_0, cli.store_path)


def written_by_a_newer_release(cli: Cli) -> None:
    """A current store that a newer release has migrated one step further."""
    with_store(cli.store_path, lambda store: store.ping())
    with contextlib.closing(sqlite3.connect(cli.store_path)) as conn, conn:
        conn.execute("INSERT INTO schema_migrations (version, applied_at) VALUES (?, 0)", (CURRENT + 1,))


def test_every_schema_version_of_both_sql_backends_is_described() -> None:
    assert sorted(MIGRATION_NOTES) == list(range(1, CURRENT + 1))
    assert postgres_schema.CURRENT_VERSION == CURRENT


def test_show_on_a_store_not_created_yet_lists_every_step_and_creates_nothing(cli: Cli) -> None:
    ran = cli("admin", "migrations", "show")
    assert ran.code == 0, ran.err
    assert ran.out.splitlines() == [
        f"Store: SQLite {cli.store_path} (does not exist yet)",
        "Schema version: 0 (empty)",
        f"This release needs: {CURRENT}",
        f"Pending: {CURRENT} steps",
        *(f"  {version}  {MIGRATION_NOTES[version]}" for version in range(1, CURRENT + 1)),
        "Apply them with `spotify-mcp admin migrations apply`; `serve` also applies them when it starts.",
    ]
    assert not cli.store_path.exists()


def test_show_on_an_older_release_s_store_lists_the_pending_steps(cli: Cli) -> None:
    from_release_0_1_0(cli)
    ran = cli("admin", "migrations", "show")
    assert ran.code == 0, ran.err
    assert "Schema version: 1\n" in ran.out
    assert f"  2  {MIGRATION_NOTES[2]}" in ran.out
    assert f"  1  {MIGRATION_NOTES[1]}" not in ran.out
    assert schema_versions(cli.store_path) == [1]


def test_admin_commands_refuse_a_store_that_is_not_migrated_yet(cli: Cli) -> None:
    from_release_0_1_0(cli)
    ran = cli("admin", "users", "list")
    assert ran.code == 2
    assert ran.err == (
        f"spotify-mcp: the store is at schema version 1, this release needs {CURRENT}: run "
        "`spotify-mcp admin migrations apply` (serve also migrates when it starts)\n"
    )
    assert ran.out == ""
    assert schema_versions(cli.store_path) == [1]


def test_apply_migrates_an_older_release_s_store_and_keeps_its_users(cli: Cli) -> None:
    from_release_0_1_0(cli)
    ran = cli("admin", "migrations", "apply")
    assert ran.code == 0, ran.err
    assert ran.out.splitlines() == [
        f"Migrated SQLite {cli.store_path} from schema version 1 to {CURRENT}:",
        f"  2  {MIGRATION_NOTES[2]}",
    ]
    assert schema_versions(cli.store_path) == list(range(1, CURRENT + 1))
    assert "Up to date: nothing to apply." in cli("admin", "migrations", "show").out
    assert cli("admin", "users", "list").out.startswith("USER ID")
    assert "fixtureuser" in cli("admin", "users", "list").out


def test_apply_creates_a_store_that_does_not_exist_yet(cli: Cli) -> None:
    cli.env(SPOTIFY_MCP_STORE_URL=f"sqlite:///{cli.store_path.parent / 'new' / 'dir' / 'store.db'}")
    ran = cli("admin", "migrations", "apply")
    assert ran.code == 0, ran.err
    assert ran.out.startswith("Migrated SQLite ")
    assert schema_versions(cli.store_path.parent / "new" / "dir" / "store.db") == list(range(1, CURRENT + 1))


def test_apply_on_a_current_store_has_nothing_to_do(cli: Cli) -> None:
    with_store(cli.store_path, lambda store: store.ping())
    ran = cli("admin", "migrations", "apply")
    assert ran.code == 0
    assert ran.out == (
        f"SQLite {cli.store_path} is at schema version {CURRENT}, the one this release needs: nothing to apply.\n"
    )


def test_a_store_written_by_a_newer_release_is_refused_and_left_alone(cli: Cli) -> None:
    written_by_a_newer_release(cli)
    applied = cli("admin", "migrations", "apply")
    assert applied.code == 2
    assert applied.err == (
        f"spotify-mcp: the store is at schema version {CURRENT + 1}, newer than this release's {CURRENT}: it was "
        "written by a newer spotify-mcp; upgrade this one (a schema is never migrated back)\n"
    )
    shown = cli("admin", "migrations", "show")
    assert shown.code == 0
    assert f"Schema version: {CURRENT + 1}\n" in shown.out
    assert "Newer than this release" in shown.out
    listed = cli("admin", "clients", "list")
    assert listed.code == 2
    assert "newer than this release's" in listed.err
    assert schema_versions(cli.store_path) == list(range(1, CURRENT + 2))
