"""The SQLite schema as an ordered list of migrations; version N is ``MIGRATIONS[N - 1]``.

Append new scripts, never edit released ones. Scopes are space-joined text, times are REAL Unix seconds,
booleans are 0/1 integers. Secrets only ever appear as hashes or sealed blobs.
"""

from __future__ import annotations

import sqlite3

META_TABLE_SQL = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    applied_at REAL NOT NULL
)
"""

_V1 = """
CREATE TABLE clients (
    client_id     TEXT PRIMARY KEY,
    metadata_json TEXT NOT NULL,
    secret_hash   TEXT,
    created_at    REAL NOT NULL,
    last_used_at  REAL
);
CREATE INDEX clients_by_created_at ON clients (created_at);

CREATE TABLE auth_requests (
    request_id               TEXT PRIMARY KEY,
    client_id                TEXT NOT NULL,
    redirect_uri             TEXT NOT NULL,
    scopes                   TEXT NOT NULL,
    code_challenge           TEXT NOT NULL,
    resource                 TEXT NOT NULL,
    client_state             TEXT,
    created_at               REAL NOT NULL,
    expires_at               REAL NOT NULL,
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
    scopes         TEXT NOT NULL,
    code_challenge TEXT NOT NULL,
    resource       TEXT NOT NULL,
    user_id        TEXT NOT NULL,
    created_at     REAL NOT NULL,
    expires_at     REAL NOT NULL,
    grant_id       TEXT
);
CREATE INDEX auth_codes_by_client ON auth_codes (client_id);
CREATE INDEX auth_codes_by_expires_at ON auth_codes (expires_at);

CREATE TABLE grants (
    grant_id     TEXT PRIMARY KEY,
    client_id    TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    scopes       TEXT NOT NULL,
    resource     TEXT NOT NULL,
    created_at   REAL NOT NULL,
    last_used_at REAL
);
CREATE INDEX grants_by_user ON grants (user_id, created_at);
CREATE INDEX grants_by_client ON grants (client_id);
CREATE INDEX grants_by_created_at ON grants (created_at);

CREATE TABLE tokens (
    token_hash TEXT PRIMARY KEY,
    kind       TEXT NOT NULL CHECK (kind IN ('access', 'refresh')),
    grant_id   TEXT NOT NULL REFERENCES grants (grant_id) ON DELETE CASCADE,
    client_id  TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    scopes     TEXT NOT NULL,
    resource   TEXT NOT NULL,
    created_at REAL NOT NULL,
    expires_at REAL,
    rotated    INTEGER NOT NULL DEFAULT 0 CHECK (rotated IN (0, 1))
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
    expires_at           REAL NOT NULL,
    scopes               TEXT NOT NULL,
    authorized_at        REAL NOT NULL,
    updated_at           REAL NOT NULL,
    version              INTEGER NOT NULL,
    lease_owner          TEXT,
    lease_until          REAL
);
"""

_V2 = """
CREATE TABLE rate_limit_windows (
    key          TEXT NOT NULL,
    window_start REAL NOT NULL,
    window_end   REAL NOT NULL,
    hits         INTEGER NOT NULL,
    PRIMARY KEY (key, window_start, window_end)
) WITHOUT ROWID;
CREATE INDEX rate_limit_windows_by_window_end ON rate_limit_windows (window_end);
"""
"""Version 2: fixed-window rate-limit counters (``Store.hit``), swept once their window has ended."""

MIGRATIONS: tuple[str, ...] = (_V1, _V2)
"""Migration scripts in order; the schema version is how many of them were applied."""

CURRENT_VERSION = len(MIGRATIONS)


def split_statements(script: str) -> list[str]:
    """Split a migration script into single statements (``executescript`` would commit mid-migration)."""
    statements: list[str] = []
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            statements.append(pending.strip())
            pending = ""
    if pending.strip():
        raise ValueError("migration script ends with an incomplete statement")
    return statements
