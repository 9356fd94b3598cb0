"""The SQLite backend of the Store: one file, one serialized connection (``sqlite_connection.py``).

Every operation of several statements runs in one ``BEGIN IMMEDIATE`` transaction, so the single-use
operations stay atomic even against another process on the same file.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

from spotify_mcp.store.base import (
    CodeRedemption,
    RedeemOutcome,
    RotateOutcome,
    SchemaTooNewError,
    StoreError,
    grant_expiry_of,
    rate_window,
)
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
from spotify_mcp.store.sqlite_connection import SqliteConnection
from spotify_mcp.store.sqlite_queries import (
    CAS_CREDENTIALS_SQL,
    GRANT_EXPIRY_SQL,
    HIT_SQL,
    LIST_CREDENTIALS_SQL,
    PUT_CREDENTIALS_SQL,
    delete_grant,
    fetch_all,
    fetch_one,
    from_row,
    insert,
    read_version,
    run,
    to_params,
)
from spotify_mcp.store.sqlite_schema import CURRENT_VERSION, META_TABLE_SQL, MIGRATIONS, split_statements


class SqliteStore:
    """The Store on a SQLite file (or ``":memory:"``, private to this instance)."""

    def __init__(self, path: str | Path, *, busy_timeout: float = 5.0) -> None:
        self._db = SqliteConnection(str(path), busy_timeout=busy_timeout)

    async def __aenter__(self) -> SqliteStore:
        """Use the store as an async context manager that closes it."""
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Close the store."""
        await self.close()

    # -- lifecycle ---------------------------------------------------------------------------------
    async def migrate(self) -> None:
        """Create or upgrade the schema to the current version; refuse a newer one (SchemaTooNewError)."""
        async with self._db.transaction("create the schema_migrations table") as db:
            await run(db, META_TABLE_SQL)
            found = await read_version(db)
        if found > CURRENT_VERSION:
            raise SchemaTooNewError(
                f"the database {self._db.path} is at schema version {found} but this spotify-mcp only "
                f"knows up to version {CURRENT_VERSION}; upgrade spotify-mcp to use it"
            )
        for target in range(found + 1, CURRENT_VERSION + 1):
            async with self._db.transaction(f"apply schema migration {target}") as db:
                if await read_version(db) >= target:
                    continue  # another process applied it meanwhile
                for statement in split_statements(MIGRATIONS[target - 1]):
                    await run(db, statement)
                await run(
                    db,
                    "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)",
                    (target, time.time()),
                )

    async def schema_version(self) -> int:
        """Return the schema version the database is at (0 when empty)."""
        async with self._db.connection("read the schema version") as db:
            return await read_version(db)

    async def ping(self) -> None:
        """Raise StoreError unless the database answers."""
        async with self._db.connection("answer a ping") as db:
            await fetch_all(db, "SELECT 1")

    async def close(self) -> None:
        """Close the connection; later operations raise StoreError."""
        await self._db.close()

    async def _one(self, what: str, sql: str, params: tuple[object, ...]) -> sqlite3.Row | None:
        rows = await self._db.read(what, sql, params)
        return rows[0] if rows else None

    # -- clients -----------------------------------------------------------------------------------
    async def add_client(self, client: ClientRecord) -> None:
        """Insert a newly registered client."""
        async with self._db.transaction("add a client") as db:
            await insert(db, "clients", to_params(client))

    async def get_client(self, client_id: str) -> ClientRecord | None:
        """Return a registered client, or None."""
        row = await self._one("read a client", "SELECT * FROM clients WHERE client_id = ?", (client_id,))
        return None if row is None else from_row(ClientRecord, row)

    async def list_clients(self) -> list[ClientRecord]:
        """Return every registered client, oldest first."""
        async with self._db.connection("list clients") as db:
            rows = await fetch_all(db, "SELECT * FROM clients ORDER BY created_at, rowid")
        return [from_row(ClientRecord, row) for row in rows]

    async def touch_client(self, client_id: str, at: float) -> None:
        """Record that a client was used."""
        async with self._db.transaction("touch a client") as db:
            await run(db, "UPDATE clients SET last_used_at = ? WHERE client_id = ?", (at, client_id))

    async def delete_client(self, client_id: str) -> bool:
        """Delete a client with its grants, tokens, codes and pending requests; False if unknown."""
        async with self._db.transaction("delete a client") as db:
            for table in ("tokens", "grants", "auth_codes", "auth_requests"):
                await run(db, f"DELETE FROM {table} WHERE client_id = ?", (client_id,))  # noqa: S608
            return await run(db, "DELETE FROM clients WHERE client_id = ?", (client_id,)) == 1

    # -- browser authorization requests ------------------------------------------------------------
    async def add_auth_request(self, request: AuthRequestRecord) -> None:
        """Insert a PENDING_CONSENT request."""
        async with self._db.transaction("add an authorization request") as db:
            await insert(db, "auth_requests", to_params(request))

    async def get_auth_request(self, request_id: str, now: float) -> AuthRequestRecord | None:
        """Return a live (unexpired) request, or None."""
        async with self._db.connection("read an authorization request") as db:
            row = await fetch_one(
                db, "SELECT * FROM auth_requests WHERE request_id = ? AND expires_at > ?", (request_id, now)
            )
        return None if row is None else from_row(AuthRequestRecord, row)

    async def approve_auth_request(
        self,
        request_id: str,
        *,
        upstream_state_hash: str,
        upstream_verifier_sealed: str,
        binding_hash: str,
        expires_at: float,
        now: float,
    ) -> bool:
        """Move a live PENDING_CONSENT request to APPROVED; True only for the one caller that did."""
        async with self._db.transaction("approve an authorization request") as db:
            changed = await run(
                db,
                "UPDATE auth_requests SET status = ?, upstream_state_hash = ?, upstream_verifier_sealed = ?,"
                " binding_hash = ?, expires_at = ? WHERE request_id = ? AND status = ? AND expires_at > ?",
                (
                    RequestStatus.APPROVED.value,
                    upstream_state_hash,
                    upstream_verifier_sealed,
                    binding_hash,
                    expires_at,
                    request_id,
                    RequestStatus.PENDING_CONSENT.value,
                    now,
                ),
            )
        return changed == 1

    async def delete_auth_request(self, request_id: str) -> None:
        """Forget a request (consent denied)."""
        async with self._db.transaction("delete an authorization request") as db:
            await run(db, "DELETE FROM auth_requests WHERE request_id = ?", (request_id,))

    async def take_auth_request_by_state(self, upstream_state_hash: str, now: float) -> AuthRequestRecord | None:
        """Atomically delete and return the live APPROVED request with this upstream state, or None."""
        async with self._db.transaction("take an authorization request") as db:
            row = await fetch_one(
                db,
                "SELECT * FROM auth_requests WHERE upstream_state_hash = ? AND status = ? AND expires_at > ?",
                (upstream_state_hash, RequestStatus.APPROVED.value, now),
            )
            if row is None:
                return None
            await run(db, "DELETE FROM auth_requests WHERE request_id = ?", (row["request_id"],))
        return from_row(AuthRequestRecord, row)

    # -- authorization codes -----------------------------------------------------------------------
    async def add_code(self, code: AuthCodeRecord) -> None:
        """Insert a freshly minted authorization code."""
        async with self._db.transaction("add an authorization code") as db:
            await insert(db, "auth_codes", to_params(code))

    async def get_code(self, code_hash: str) -> AuthCodeRecord | None:
        """Return a code whether or not it was redeemed or expired (the caller decides)."""
        async with self._db.connection("read an authorization code") as db:
            row = await fetch_one(db, "SELECT * FROM auth_codes WHERE code_hash = ?", (code_hash,))
        return None if row is None else from_row(AuthCodeRecord, row)

    async def redeem_code(
        self, code_hash: str, grant: GrantRecord, tokens: Sequence[TokenRecord], now: float
    ) -> CodeRedemption:
        """Atomically mark an unused, unexpired code used and store the grant and tokens it yields."""
        async with self._db.transaction("redeem an authorization code") as db:
            row = await fetch_one(db, "SELECT expires_at, grant_id FROM auth_codes WHERE code_hash = ?", (code_hash,))
            if row is None:
                return CodeRedemption(RedeemOutcome.UNKNOWN)
            if row["expires_at"] <= now:
                return CodeRedemption(RedeemOutcome.EXPIRED)
            if row["grant_id"] is not None:
                return CodeRedemption(RedeemOutcome.REPLAYED, first_grant_id=row["grant_id"])
            await run(db, "UPDATE auth_codes SET grant_id = ? WHERE code_hash = ?", (grant.grant_id, code_hash))
            await insert(db, "grants", to_params(grant))
            for token in tokens:
                await insert(db, "tokens", to_params(token))
            return CodeRedemption(RedeemOutcome.REDEEMED)

    # -- grants and tokens -------------------------------------------------------------------------
    async def get_token(self, token_hash: str) -> TokenRecord | None:
        """Return an issued token by hash, including expired and rotated ones."""
        row = await self._one("read a token", "SELECT * FROM tokens WHERE token_hash = ?", (token_hash,))
        return None if row is None else from_row(TokenRecord, row)

    async def rotate_refresh_token(self, old_hash: str, new_tokens: Sequence[TokenRecord], now: float) -> RotateOutcome:
        """Atomically retire a live refresh token and store its successors; revoke the grant on reuse."""
        async with self._db.transaction("rotate a refresh token") as db:
            row = await fetch_one(
                db, "SELECT grant_id, expires_at, rotated FROM tokens WHERE token_hash = ? AND kind = ?",
                (old_hash, TokenKind.REFRESH.value),
            )  # fmt: skip
            if row is None:
                return RotateOutcome.UNKNOWN
            if row["expires_at"] is not None and row["expires_at"] <= now:
                return RotateOutcome.EXPIRED
            if row["rotated"]:
                await delete_grant(db, row["grant_id"])
                return RotateOutcome.REUSED
            await run(db, "UPDATE tokens SET rotated = 1 WHERE token_hash = ?", (old_hash,))
            for token in new_tokens:
                await insert(db, "tokens", to_params(token))
            return RotateOutcome.ROTATED

    async def get_grant(self, grant_id: str) -> GrantRecord | None:
        """Return a live grant, or None."""
        row = await self._one("read a grant", "SELECT * FROM grants WHERE grant_id = ?", (grant_id,))
        return None if row is None else from_row(GrantRecord, row)

    async def list_grants(self, user_id: str | None = None) -> list[GrantRecord]:
        """Return live grants, all or one user's, oldest first."""
        async with self._db.connection("list grants") as db:
            if user_id is None:
                rows = await fetch_all(db, "SELECT * FROM grants ORDER BY created_at, rowid")
            else:
                rows = await fetch_all(
                    db, "SELECT * FROM grants WHERE user_id = ? ORDER BY created_at, rowid", (user_id,)
                )
        return [from_row(GrantRecord, row) for row in rows]

    async def grant_expiry(self, grant_id: str) -> float | None:
        """Return when the last token of a grant expires (``math.inf`` if one never does), None if none is left."""
        async with self._db.connection("read a grant's expiry") as db:
            row = await fetch_one(db, GRANT_EXPIRY_SQL, (grant_id,))
        if row is None:
            return None
        return grant_expiry_of(int(row["tokens"]), bool(row["forever"]), row["latest"])

    async def touch_grant(self, grant_id: str, at: float) -> None:
        """Record that a grant was used."""
        async with self._db.transaction("touch a grant") as db:
            await run(db, "UPDATE grants SET last_used_at = ? WHERE grant_id = ?", (at, grant_id))

    async def revoke_grant(self, grant_id: str) -> None:
        """Delete a grant and every token issued under it."""
        async with self._db.transaction("revoke a grant") as db:
            await delete_grant(db, grant_id)

    # -- Spotify credentials -----------------------------------------------------------------------
    async def get_spotify_credentials(self, user_id: str) -> SpotifyCredentials | None:
        """Return a user's sealed Spotify tokens, or None."""
        row = await self._one(
            "read Spotify credentials", "SELECT * FROM spotify_credentials WHERE user_id = ?", (user_id,)
        )
        return None if row is None else from_row(SpotifyCredentials, row)

    async def list_spotify_credentials(self) -> list[SpotifyCredentials]:
        """Return every stored user's credentials, oldest first (by ``authorized_at``, then user id)."""
        async with self._db.connection("list Spotify credentials") as db:
            rows = await fetch_all(db, LIST_CREDENTIALS_SQL)
        return [from_row(SpotifyCredentials, row) for row in rows]

    async def put_spotify_credentials(self, creds: SpotifyCredentials) -> None:
        """Insert or replace a user's credentials; a replacement's version moves past the old one."""
        async with self._db.transaction("store Spotify credentials") as db:
            await run(db, PUT_CREDENTIALS_SQL, to_params(creds))

    async def update_spotify_credentials(self, creds: SpotifyCredentials, expected_version: int) -> bool:
        """Compare-and-set: write ``creds`` (whose version must be expected_version + 1) if unchanged."""
        if creds.version != expected_version + 1:
            raise ValueError(f"credentials version {creds.version} is not {expected_version} + 1")
        async with self._db.transaction("update Spotify credentials") as db:
            params = to_params(creds) | {"expected_version": expected_version}
            return await run(db, CAS_CREDENTIALS_SQL, params) == 1

    async def acquire_refresh_lease(self, user_id: str, owner: str, until: float, now: float) -> bool:
        """Take (or renew) the right to refresh a user's Spotify token until ``until``."""
        async with self._db.transaction("acquire a refresh lease") as db:
            changed = await run(
                db,
                "UPDATE spotify_credentials SET lease_owner = ?, lease_until = ? WHERE user_id = ?"
                " AND (lease_owner IS NULL OR lease_owner = ? OR lease_until <= ?)",
                (owner, until, user_id, owner, now),
            )
        return changed == 1

    async def release_refresh_lease(self, user_id: str, owner: str) -> None:
        """Give the lease back early (only the owner can)."""
        async with self._db.transaction("release a refresh lease") as db:
            await run(
                db,
                "UPDATE spotify_credentials SET lease_owner = NULL, lease_until = NULL"
                " WHERE user_id = ? AND lease_owner = ?",
                (user_id, owner),
            )

    async def delete_user(self, user_id: str) -> None:
        """Delete a Spotify user's credentials and every grant and token that acts for them."""
        async with self._db.transaction("delete a user") as db:
            for table in ("tokens", "grants", "spotify_credentials"):
                await run(db, f"DELETE FROM {table} WHERE user_id = ?", (user_id,))  # noqa: S608

    # -- rate limiting -----------------------------------------------------------------------------
    async def hit(self, key: str, window: float, now: float) -> int:
        """Count one event of ``key`` in the fixed window containing ``now``; one upsert, exact across processes."""
        start, end = rate_window(key, window, now)
        async with self._db.connection("count a rate-limited request") as db:
            row = await fetch_one(db, HIT_SQL, (key, start, end))
        if row is None:
            raise StoreError("SQLite store could not count a rate-limited request: the upsert returned no row")
        return int(row["hits"])

    # -- housekeeping ------------------------------------------------------------------------------
    async def sweep(self, now: float) -> int:
        """Delete expired requests, codes (redeemed or not), tokens and ended rate-limit windows; count the rows."""
        async with self._db.transaction("sweep expired rows") as db:
            removed = await run(db, "DELETE FROM auth_requests WHERE expires_at <= ?", (now,))
            removed += await run(db, "DELETE FROM auth_codes WHERE expires_at <= ?", (now,))
            removed += await run(db, "DELETE FROM tokens WHERE expires_at IS NOT NULL AND expires_at <= ?", (now,))
            removed += await run(db, "DELETE FROM rate_limit_windows WHERE window_end <= ?", (now,))
        return removed
