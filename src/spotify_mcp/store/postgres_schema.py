"""The PostgreSQL schema as an ordered list of migrations; version N is ``MIGRATIONS[N - 1]``.

The versions match the SQLite backend's. Append new scripts, never edit released ones. Scopes are
``TEXT[]``, times are ``DOUBLE PRECISION`` Unix seconds (``REAL`` would lose precision), booleans are
``BOOLEAN``. Every table lives in the store's schema, which the connections' ``search_path`` names.
"""

from __future__ import annotations

import hashlib
import time

from asyncpg.pool import PoolConnectionProxy

from spotify_mcp.store.base import SchemaTooNewError

META_TABLE_SQL = """
CREATE TABLE schema_migrations (
    version    INTEGER PRIMARY KEY,
    applied_at DOUBLE PRECISION NOT NULL
)
"""

_V1 = """
CREATE TABLE clients (
    client_id     TEXT PRIMARY KEY,
    metadata_json TEXT NOT NULL,
    secret_hash   TEXT,
    created_at    DOUBLE PRECISION NOT NULL,
    last_used_at  DOUBLE PRECISION,
    seq           BIGINT GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX clients_by_created_at ON clients (created_at, seq);

CREATE TABLE auth_requests (
    request_id               TEXT PRIMARY KEY,
    client_id                TEXT NOT NULL,
    redirect_uri             TEXT NOT NULL,
    scopes                   TEXT[] NOT NULL,
    code_challenge           TEXT NOT NULL,
    resource                 TEXT NOT NULL,
    client_state             TEXT,
    created_at               DOUBLE PRECISION NOT NULL,
    expires_at               DOUBLE PRECISION NOT NULL,
    status                   TEXT NOT NULL CHECK (status IN ('pending_consent', 'approved')),
    upstream_state_hash      TEXT,
    upstream_verifier_sealed TEXT,
    binding_hash             TEXT
);
CREATE UNIQUE INDEX auth_requests_by_upstream_state ON auth_requests (upstream_state_hash)
    WHERE upstream_state_hash IS NOT NULL;
CREATE INDEX auth_requests_by_client ON auth_requests (client_id);
CREATE INDEX auth_requests_by_expires_at ON auth_requests (expires_at);

CREATE TABLE auth_codes (
    code_hash      TEXT PRIMARY KEY,
    client_id      TEXT NOT NULL,
    redirect_uri   TEXT NOT NULL,
    scopes         TEXT[] NOT NULL,
    code_challenge TEXT NOT NULL,
    resource       TEXT NOT NULL,
    user_id        TEXT NOT NULL,
    created_at     DOUBLE PRECISION NOT NULL,
    expires_at     DOUBLE PRECISION NOT NULL,
    grant_id       TEXT
);
CREATE INDEX auth_codes_by_client ON auth_codes (client_id);
CREATE INDEX auth_codes_by_expires_at ON auth_codes (expires_at);

CREATE TABLE grants (
    grant_id     TEXT PRIMARY KEY,
    client_id    TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    scopes       TEXT[] NOT NULL,
    resource     TEXT NOT NULL,
    created_at   DOUBLE PRECISION NOT NULL,
    last_used_at DOUBLE PRECISION,
    seq          BIGINT GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX grants_by_user ON grants (user_id, created_at, seq);
CREATE INDEX grants_by_client ON grants (client_id);
CREATE INDEX grants_by_created_at ON grants (created_at, seq);

CREATE TABLE tokens (
    token_hash TEXT PRIMARY KEY,
    kind       TEXT NOT NULL CHECK (kind IN ('access', 'refresh')),
    grant_id   TEXT NOT NULL REFERENCES grants (grant_id) ON DELETE CASCADE,
    client_id  TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    scopes     TEXT[] NOT NULL,
    resource   TEXT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL,
    expires_at DOUBLE PRECISION,
    rotated    BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX tokens_by_grant ON tokens (grant_id);
CREATE INDEX tokens_by_client ON tokens (client_id);
CREATE INDEX tokens_by_user ON tokens (user_id);
CREATE INDEX tokens_by_expires_at ON tokens (expires_at) WHERE expires_at IS NOT NULL;

CREATE TABLE spotify_credentials (
    user_id              TEXT PRIMARY KEY,
    display_name         TEXT,
    access_token_sealed  TEXT NOT NULL,
    refresh_token_sealed TEXT NOT NULL,
    expires_at           DOUBLE PRECISION NOT NULL,
    scopes               TEXT[] NOT NULL,
    authorized_at        DOUBLE PRECISION NOT NULL,
    updated_at           DOUBLE PRECISION NOT NULL,
    version              BIGINT NOT NULL,
    lease_owner          TEXT,
    lease_until          DOUBLE PRECISION
);
CREATE INDEX spotify_credentials_by_lease_until ON spotify_credentials (lease_until)
    WHERE lease_until IS NOT NULL;
"""

_V2 = """
CREATE TABLE rate_limit_windows (
    key          TEXT NOT NULL,
    window_start DOUBLE PRECISION NOT NULL,
    window_end   DOUBLE PRECISION NOT NULL,
    hits         BIGINT NOT NULL,
    PRIMARY KEY (key, window_start, window_end)
);
CREATE INDEX rate_limit_windows_by_window_end ON rate_limit_windows (window_end);
"""
"""Version 2: fixed-window rate-limit counters (``Store.hit``), swept once their window has ended."""

MIGRATIONS: tuple[str, ...] = (_V1, _V2)
"""Migration scripts in order; the schema version is how many of them were applied."""

CURRENT_VERSION = len(MIGRATIONS)


def migration_lock_key(schema: str) -> int:
    """The advisory lock id that serializes migrations of one schema across processes."""
    digest = hashlib.blake2b(f"spotify-mcp migrate {schema}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


async def read_version(conn: PoolConnectionProxy) -> int:
    """Read the applied schema version, 0 when the schema (or its migrations table) does not exist."""
    if await conn.fetchval("SELECT to_regclass('schema_migrations')") is None:
        return 0
    return int(await conn.fetchval("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"))


async def apply_migrations(conn: PoolConnectionProxy, schema: str, where: str) -> None:
    """Bring ``schema`` to CURRENT_VERSION inside the caller's transaction, one migrator at a time."""
    await conn.execute("SELECT pg_advisory_xact_lock($1)", migration_lock_key(schema))
    # CREATE SCHEMA IF NOT EXISTS needs CREATE on the database even when the schema exists.
    if not await conn.fetchval("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", schema):
        await conn.execute(f'CREATE SCHEMA "{schema}"')
    if await conn.fetchval("SELECT to_regclass('schema_migrations')") is None:
        await conn.execute(META_TABLE_SQL)
    found = await read_version(conn)
    if found > CURRENT_VERSION:
        raise SchemaTooNewError(
            f'the PostgreSQL schema "{schema}" at {where} is at schema version {found} but this spotify-mcp '
            f"only knows up to version {CURRENT_VERSION}; upgrade spotify-mcp to use it"
        )
    for target in range(found + 1, CURRENT_VERSION + 1):
        await conn.execute(MIGRATIONS[target - 1])
        await conn.execute("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)", target, time.time())
