"""The SQLite backend's queries: running statements, and mapping records to rows and back."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Sequence
from typing import Any

import aiosqlite

from spotify_mcp.store.records import (
    AuthCodeRecord,
    AuthRequestRecord,
    ClientRecord,
    GrantRecord,
    RequestStatus,
    SpotifyCredentials,
    TokenKind,
    TokenRecord,
)

Params = dict[str, Any]


def join_scopes(scopes: tuple[str, ...]) -> str:
    """Store scopes as one space-separated string."""
    return " ".join(scopes)


def split_scopes(text: str) -> tuple[str, ...]:
    """Read scopes back from their space-separated form."""
    return tuple(text.split())


def insert_sql(table: str, params: Params) -> str:
    """Build an INSERT for ``table`` naming every key of ``params`` (keys are ours, never user input)."""
    columns = ", ".join(params)
    values = ", ".join(f":{name}" for name in params)
    return f"INSERT INTO {table} ({columns}) VALUES ({values})"  # noqa: S608


def client_params(client: ClientRecord) -> Params:
    """Return the row values of a client."""
    return {
        "client_id": client.client_id,
        "metadata_json": client.metadata_json,
        "secret_hash": client.secret_hash,
        "created_at": client.created_at,
        "last_used_at": client.last_used_at,
    }


def client_from_row(row: sqlite3.Row) -> ClientRecord:
    """Rebuild a client from its row."""
    return ClientRecord(
        client_id=row["client_id"],
        metadata_json=row["metadata_json"],
        secret_hash=row["secret_hash"],
        created_at=row["created_at"],
        last_used_at=row["last_used_at"],
    )


def auth_request_params(request: AuthRequestRecord) -> Params:
    """Return the row values of an authorization request."""
    return {
        "request_id": request.request_id,
        "client_id": request.client_id,
        "redirect_uri": request.redirect_uri,
        "scopes": join_scopes(request.scopes),
        "code_challenge": request.code_challenge,
        "resource": request.resource,
        "client_state": request.client_state,
        "created_at": request.created_at,
        "expires_at": request.expires_at,
        "status": request.status.value,
        "upstream_state_hash": request.upstream_state_hash,
        "upstream_verifier_sealed": request.upstream_verifier_sealed,
        "binding_hash": request.binding_hash,
    }


def auth_request_from_row(row: sqlite3.Row) -> AuthRequestRecord:
    """Rebuild an authorization request from its row."""
    return AuthRequestRecord(
        request_id=row["request_id"],
        client_id=row["client_id"],
        redirect_uri=row["redirect_uri"],
        scopes=split_scopes(row["scopes"]),
        code_challenge=row["code_challenge"],
        resource=row["resource"],
        client_state=row["client_state"],
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        status=RequestStatus(row["status"]),
        upstream_state_hash=row["upstream_state_hash"],
        upstream_verifier_sealed=row["upstream_verifier_sealed"],
        binding_hash=row["binding_hash"],
    )


def code_params(code: AuthCodeRecord) -> Params:
    """Return the row values of an authorization code."""
    return {
        "code_hash": code.code_hash,
        "client_id": code.client_id,
        "redirect_uri": code.redirect_uri,
        "scopes": join_scopes(code.scopes),
        "code_challenge": code.code_challenge,
        "resource": code.resource,
        "user_id": code.user_id,
        "created_at": code.created_at,
        "expires_at": code.expires_at,
        "grant_id": code.grant_id,
    }


def code_from_row(row: sqlite3.Row) -> AuthCodeRecord:
    """Rebuild an authorization code from its row."""
    return AuthCodeRecord(
        code_hash=row["code_hash"],
        client_id=row["client_id"],
        redirect_uri=row["redirect_uri"],
        scopes=split_scopes(row["scopes"]),
        code_challenge=row["code_challenge"],
        resource=row["resource"],
        user_id=row["user_id"],
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        grant_id=row["grant_id"],
    )


def grant_params(grant: GrantRecord) -> Params:
    """Return the row values of a grant."""
    return {
        "grant_id": grant.grant_id,
        "client_id": grant.client_id,
        "user_id": grant.user_id,
        "scopes": join_scopes(grant.scopes),
        "resource": grant.resource,
        "created_at": grant.created_at,
        "last_used_at": grant.last_used_at,
    }


def grant_from_row(row: sqlite3.Row) -> GrantRecord:
    """Rebuild a grant from its row."""
    return GrantRecord(
        grant_id=row["grant_id"],
        client_id=row["client_id"],
        user_id=row["user_id"],
        scopes=split_scopes(row["scopes"]),
        resource=row["resource"],
        created_at=row["created_at"],
        last_used_at=row["last_used_at"],
    )


def token_params(token: TokenRecord) -> Params:
    """Return the row values of an issued token."""
    return {
        "token_hash": token.token_hash,
        "kind": token.kind.value,
        "grant_id": token.grant_id,
        "client_id": token.client_id,
        "user_id": token.user_id,
        "scopes": join_scopes(token.scopes),
        "resource": token.resource,
        "created_at": token.created_at,
        "expires_at": token.expires_at,
        "rotated": int(token.rotated),
    }


def token_from_row(row: sqlite3.Row) -> TokenRecord:
    """Rebuild an issued token from its row."""
    return TokenRecord(
        token_hash=row["token_hash"],
        kind=TokenKind(row["kind"]),
        grant_id=row["grant_id"],
        client_id=row["client_id"],
        user_id=row["user_id"],
        scopes=split_scopes(row["scopes"]),
        resource=row["resource"],
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        rotated=bool(row["rotated"]),
    )


def credentials_params(creds: SpotifyCredentials) -> Params:
    """Return the row values of a user's Spotify credentials (lease columns excluded)."""
    return {
        "user_id": creds.user_id,
        "display_name": creds.display_name,
        "access_token_sealed": creds.access_token_sealed,
        "refresh_token_sealed": creds.refresh_token_sealed,
        "expires_at": creds.expires_at,
        "scopes": join_scopes(creds.scopes),
        "authorized_at": creds.authorized_at,
        "updated_at": creds.updated_at,
        "version": creds.version,
    }


def credentials_from_row(row: sqlite3.Row) -> SpotifyCredentials:
    """Rebuild a user's Spotify credentials from their row."""
    return SpotifyCredentials(
        user_id=row["user_id"],
        display_name=row["display_name"],
        access_token_sealed=row["access_token_sealed"],
        refresh_token_sealed=row["refresh_token_sealed"],
        expires_at=row["expires_at"],
        scopes=split_scopes(row["scopes"]),
        authorized_at=row["authorized_at"],
        updated_at=row["updated_at"],
        version=row["version"],
    )


PUT_CREDENTIALS_SQL = """
INSERT INTO spotify_credentials (user_id, display_name, access_token_sealed, refresh_token_sealed,
    expires_at, scopes, authorized_at, updated_at, version)
VALUES (:user_id, :display_name, :access_token_sealed, :refresh_token_sealed,
    :expires_at, :scopes, :authorized_at, :updated_at, :version)
ON CONFLICT (user_id) DO UPDATE SET
    display_name = excluded.display_name,
    access_token_sealed = excluded.access_token_sealed,
    refresh_token_sealed = excluded.refresh_token_sealed,
    expires_at = excluded.expires_at,
    scopes = excluded.scopes,
    authorized_at = excluded.authorized_at,
    updated_at = excluded.updated_at,
    version = MAX(excluded.version, spotify_credentials.version + 1)
"""

CAS_CREDENTIALS_SQL = """
UPDATE spotify_credentials SET
    display_name = :display_name,
    access_token_sealed = :access_token_sealed,
    refresh_token_sealed = :refresh_token_sealed,
    expires_at = :expires_at,
    scopes = :scopes,
    authorized_at = :authorized_at,
    updated_at = :updated_at,
    version = :version
WHERE user_id = :user_id AND version = :expected_version
"""


def describe(exc: sqlite3.Error) -> str:
    """Name an sqlite error without its parameters (SQLite's messages never carry bound values)."""
    name = getattr(exc, "sqlite_errorname", None) or type(exc).__name__
    return f"{name}: {exc}"


async def fetch_all(db: aiosqlite.Connection, sql: str, params: Sequence[Any] | Params = ()) -> list[sqlite3.Row]:
    """Run a query and fetch every row in one trip to the connection's thread."""
    return list(await db.execute_fetchall(sql, params))


async def fetch_one(db: aiosqlite.Connection, sql: str, params: Sequence[Any] | Params = ()) -> sqlite3.Row | None:
    """Run a query expected to match at most one row."""
    rows = await fetch_all(db, sql, params)
    return rows[0] if rows else None


async def run(db: aiosqlite.Connection, sql: str, params: Sequence[Any] | Params = ()) -> int:
    """Run a statement and return how many rows it changed."""
    async with db.execute(sql, params) as cursor:
        return cursor.rowcount


async def insert(db: aiosqlite.Connection, table: str, params: Params) -> None:
    """Insert one row."""
    await run(db, insert_sql(table, params), params)


async def read_version(db: aiosqlite.Connection) -> int:
    """Read the applied schema version, 0 when the database has none."""
    meta = await fetch_one(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'")
    if meta is None:
        return 0
    row = await fetch_one(db, "SELECT COALESCE(MAX(version), 0) AS version FROM schema_migrations")
    return 0 if row is None else int(row["version"])


async def delete_grant(db: aiosqlite.Connection, grant_id: str) -> None:
    """Delete a grant and its tokens (the foreign key would cascade; being explicit costs nothing)."""
    await run(db, "DELETE FROM tokens WHERE grant_id = ?", (grant_id,))
    await run(db, "DELETE FROM grants WHERE grant_id = ?", (grant_id,))


async def rollback(db: aiosqlite.Connection) -> None:
    """Roll back the open transaction, if SQLite has not already done so."""
    with contextlib.suppress(sqlite3.Error):
        await run(db, "ROLLBACK")
