"""The PostgreSQL backend of the Store: an asyncpg pool, one statement or one transaction per operation.

Single-use transitions are single ``UPDATE``/``DELETE … RETURNING`` statements (PostgreSQL re-checks the
``WHERE`` of a row another transaction changed meanwhile, so exactly one racer matches), an
``INSERT … ON CONFLICT``, or a transaction that locks the row with ``SELECT … FOR UPDATE`` first. That
holds across connections and processes. Operations are shielded from cancellation once they hold a
connection, so a cancelled caller never leaves a transaction half-done behind it.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType

from spotify_mcp.store.base import CodeRedemption, RedeemOutcome, RotateOutcome, grant_expiry_of, rate_window
from spotify_mcp.store.postgres_pool import PostgresPool
from spotify_mcp.store.postgres_queries import (
    CAS_CREDENTIALS_SQL,
    GRANT_EXPIRY_SQL,
    HIT_SQL,
    LIST_CREDENTIALS_SQL,
    PUT_CREDENTIALS_SQL,
    SWEEP_SQL,
    delete_grant,
    from_row,
    insert,
    insert_all,
    to_values,
)
from spotify_mcp.store.postgres_schema import apply_migrations, read_version
from spotify_mcp.store.postgres_target import PostgresTarget
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


class PostgresStore:
    """The Store on a PostgreSQL schema (``?schema=name`` in the URL, ``public`` by default)."""

    def __init__(
        self,
        url: str,
        *,
        min_size: int = 1,
        max_size: int = 10,
        connect_timeout: float = 10.0,
        command_timeout: float = 30.0,
    ) -> None:
        self._db = PostgresPool(
            PostgresTarget.parse(url),
            min_size=min_size,
            max_size=max_size,
            connect_timeout=connect_timeout,
            command_timeout=command_timeout,
        )

    @property
    def schema(self) -> str:
        """The schema this store's tables live in."""
        return self._db.target.schema

    async def __aenter__(self) -> PostgresStore:
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
        async with self._db.transaction("migrate the schema") as conn:
            await apply_migrations(conn, self._db.target.schema, self._db.target.where)

    async def schema_version(self) -> int:
        """Return the schema version the database is at (0 when empty)."""
        async with self._db.connection("read the schema version") as conn:
            return await read_version(conn)

    async def ping(self) -> None:
        """Raise StoreError unless the database answers."""
        async with self._db.connection("answer a ping") as conn:
            await conn.fetchval("SELECT 1")

    async def close(self) -> None:
        """Close the pool, waiting up to the command timeout for operations in flight; later ones raise StoreError."""
        await self._db.close()

    # -- clients -----------------------------------------------------------------------------------
    async def add_client(self, client: ClientRecord) -> None:
        """Insert a newly registered client."""
        async with self._db.connection("add a client") as conn:
            await insert(conn, "clients", client)

    async def get_client(self, client_id: str) -> ClientRecord | None:
        """Return a registered client, or None."""
        async with self._db.connection("read a client") as conn:
            row = await conn.fetchrow("SELECT * FROM clients WHERE client_id = $1", client_id)
        return None if row is None else from_row(ClientRecord, row)

    async def list_clients(self) -> list[ClientRecord]:
        """Return every registered client, oldest first."""
        async with self._db.connection("list clients") as conn:
            rows = await conn.fetch("SELECT * FROM clients ORDER BY created_at, seq")
        return [from_row(ClientRecord, row) for row in rows]

    async def touch_client(self, client_id: str, at: float) -> None:
        """Record that a client was used."""
        async with self._db.connection("touch a client") as conn:
            await conn.execute("UPDATE clients SET last_used_at = $2 WHERE client_id = $1", client_id, at)

    async def delete_client(self, client_id: str) -> bool:
        """Delete a client with its grants, tokens, codes and pending requests; False if unknown."""
        async with self._db.transaction("delete a client") as conn:
            for table in ("tokens", "grants", "auth_codes", "auth_requests"):
                await conn.execute(f"DELETE FROM {table} WHERE client_id = $1", client_id)  # noqa: S608
            return bool(await conn.fetchval("DELETE FROM clients WHERE client_id = $1 RETURNING TRUE", client_id))

    # -- browser authorization requests ------------------------------------------------------------
    async def add_auth_request(self, request: AuthRequestRecord) -> None:
        """Insert a PENDING_CONSENT request."""
        async with self._db.connection("add an authorization request") as conn:
            await insert(conn, "auth_requests", request)

    async def get_auth_request(self, request_id: str, now: float) -> AuthRequestRecord | None:
        """Return a live (unexpired) request, or None."""
        async with self._db.connection("read an authorization request") as conn:
            row = await conn.fetchrow(
                "SELECT * FROM auth_requests WHERE request_id = $1 AND expires_at > $2", request_id, now
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
        async with self._db.connection("approve an authorization request") as conn:
            approved = await conn.fetchval(
                "UPDATE auth_requests SET status = $1, upstream_state_hash = $2, upstream_verifier_sealed = $3,"
                " binding_hash = $4, expires_at = $5 WHERE request_id = $6 AND status = $7 AND expires_at > $8"
                " RETURNING TRUE",
                RequestStatus.APPROVED.value,
                upstream_state_hash,
                upstream_verifier_sealed,
                binding_hash,
                expires_at,
                request_id,
                RequestStatus.PENDING_CONSENT.value,
                now,
            )
        return bool(approved)

    async def delete_auth_request(self, request_id: str) -> None:
        """Forget a request (consent denied)."""
        async with self._db.connection("delete an authorization request") as conn:
            await conn.execute("DELETE FROM auth_requests WHERE request_id = $1", request_id)

    async def take_auth_request_by_state(self, upstream_state_hash: str, now: float) -> AuthRequestRecord | None:
        """Atomically delete and return the live APPROVED request with this upstream state, or None."""
        async with self._db.connection("take an authorization request") as conn:
            row = await conn.fetchrow(
                "DELETE FROM auth_requests WHERE upstream_state_hash = $1 AND status = $2 AND expires_at > $3"
                " RETURNING *",
                upstream_state_hash,
                RequestStatus.APPROVED.value,
                now,
            )
        return None if row is None else from_row(AuthRequestRecord, row)

    # -- authorization codes -----------------------------------------------------------------------
    async def add_code(self, code: AuthCodeRecord) -> None:
        """Insert a freshly minted authorization code."""
        async with self._db.connection("add an authorization code") as conn:
            await insert(conn, "auth_codes", code)

    async def get_code(self, code_hash: str) -> AuthCodeRecord | None:
        """Return a code whether or not it was redeemed or expired (the caller decides)."""
        async with self._db.connection("read an authorization code") as conn:
            row = await conn.fetchrow("SELECT * FROM auth_codes WHERE code_hash = $1", code_hash)
        return None if row is None else from_row(AuthCodeRecord, row)

    async def redeem_code(
        self, code_hash: str, grant: GrantRecord, tokens: Sequence[TokenRecord], now: float
    ) -> CodeRedemption:
        """Atomically mark an unused, unexpired code used and store the grant and tokens it yields."""
        async with self._db.transaction("redeem an authorization code") as conn:
            # FOR UPDATE makes racers queue on the row and then read what the winner committed.
            row = await conn.fetchrow(
                "SELECT expires_at, grant_id FROM auth_codes WHERE code_hash = $1 FOR UPDATE", code_hash
            )
            if row is None:
                return CodeRedemption(RedeemOutcome.UNKNOWN)
            if row["expires_at"] <= now:
                return CodeRedemption(RedeemOutcome.EXPIRED)
            if row["grant_id"] is not None:
                return CodeRedemption(RedeemOutcome.REPLAYED, first_grant_id=row["grant_id"])
            await conn.execute("UPDATE auth_codes SET grant_id = $2 WHERE code_hash = $1", code_hash, grant.grant_id)
            await insert(conn, "grants", grant)
            await insert_all(conn, "tokens", tokens)
            return CodeRedemption(RedeemOutcome.REDEEMED)

    # -- grants and tokens -------------------------------------------------------------------------
    async def get_token(self, token_hash: str) -> TokenRecord | None:
        """Return an issued token by hash, including expired and rotated ones."""
        async with self._db.connection("read a token") as conn:
            row = await conn.fetchrow("SELECT * FROM tokens WHERE token_hash = $1", token_hash)
        return None if row is None else from_row(TokenRecord, row)

    async def rotate_refresh_token(self, old_hash: str, new_tokens: Sequence[TokenRecord], now: float) -> RotateOutcome:
        """Atomically retire a live refresh token and store its successors; revoke the grant on reuse."""
        async with self._db.transaction("rotate a refresh token") as conn:
            row = await conn.fetchrow(
                "SELECT grant_id, expires_at, rotated FROM tokens WHERE token_hash = $1 AND kind = $2 FOR UPDATE",
                old_hash,
                TokenKind.REFRESH.value,
            )
            if row is None:
                return RotateOutcome.UNKNOWN
            if row["expires_at"] is not None and row["expires_at"] <= now:
                return RotateOutcome.EXPIRED
            if row["rotated"]:
                await delete_grant(conn, row["grant_id"])
                return RotateOutcome.REUSED
            await conn.execute("UPDATE tokens SET rotated = TRUE WHERE token_hash = $1", old_hash)
            await insert_all(conn, "tokens", new_tokens)
            return RotateOutcome.ROTATED

    async def get_grant(self, grant_id: str) -> GrantRecord | None:
        """Return a live grant, or None."""
        async with self._db.connection("read a grant") as conn:
            row = await conn.fetchrow("SELECT * FROM grants WHERE grant_id = $1", grant_id)
        return None if row is None else from_row(GrantRecord, row)

    async def list_grants(self, user_id: str | None = None) -> list[GrantRecord]:
        """Return live grants, all or one user's, oldest first."""
        async with self._db.connection("list grants") as conn:
            if user_id is None:
                rows = await conn.fetch("SELECT * FROM grants ORDER BY created_at, seq")
            else:
                rows = await conn.fetch("SELECT * FROM grants WHERE user_id = $1 ORDER BY created_at, seq", user_id)
        return [from_row(GrantRecord, row) for row in rows]

    async def grant_expiry(self, grant_id: str) -> float | None:
        """Return when the last token of a grant expires (``math.inf`` if one never does), None if none is left."""
        async with self._db.connection("read a grant's expiry") as conn:
            row = await conn.fetchrow(GRANT_EXPIRY_SQL, grant_id)
        if row is None:
            return None
        return grant_expiry_of(int(row["tokens"]), bool(row["forever"]), row["latest"])

    async def touch_grant(self, grant_id: str, at: float) -> None:
        """Record that a grant was used."""
        async with self._db.connection("touch a grant") as conn:
            await conn.execute("UPDATE grants SET last_used_at = $2 WHERE grant_id = $1", grant_id, at)

    async def revoke_grant(self, grant_id: str) -> None:
        """Delete a grant and every token issued under it."""
        async with self._db.transaction("revoke a grant") as conn:
            await delete_grant(conn, grant_id)

    # -- Spotify credentials -----------------------------------------------------------------------
    async def get_spotify_credentials(self, user_id: str) -> SpotifyCredentials | None:
        """Return a user's sealed Spotify tokens, or None."""
        async with self._db.connection("read Spotify credentials") as conn:
            row = await conn.fetchrow("SELECT * FROM spotify_credentials WHERE user_id = $1", user_id)
        return None if row is None else from_row(SpotifyCredentials, row)

    async def list_spotify_credentials(self) -> list[SpotifyCredentials]:
        """Return every stored user's credentials, oldest first (by ``authorized_at``, then user id)."""
        async with self._db.connection("list Spotify credentials") as conn:
            rows = await conn.fetch(LIST_CREDENTIALS_SQL)
        return [from_row(SpotifyCredentials, row) for row in rows]

    async def put_spotify_credentials(self, creds: SpotifyCredentials) -> None:
        """Insert or replace a user's credentials; a replacement's version moves past the old one."""
        async with self._db.connection("store Spotify credentials") as conn:
            await conn.execute(PUT_CREDENTIALS_SQL, *to_values(creds))

    async def update_spotify_credentials(self, creds: SpotifyCredentials, expected_version: int) -> bool:
        """Compare-and-set: write ``creds`` (whose version must be expected_version + 1) if unchanged."""
        if creds.version != expected_version + 1:
            raise ValueError(f"credentials version {creds.version} is not {expected_version} + 1")
        async with self._db.connection("update Spotify credentials") as conn:
            return bool(await conn.fetchval(CAS_CREDENTIALS_SQL, *to_values(creds), expected_version))

    async def acquire_refresh_lease(self, user_id: str, owner: str, until: float, now: float) -> bool:
        """Take (or renew) the right to refresh a user's Spotify token until ``until``; an expired lease is free."""
        async with self._db.connection("acquire a refresh lease") as conn:
            taken = await conn.fetchval(
                "UPDATE spotify_credentials SET lease_owner = $2, lease_until = $3 WHERE user_id = $1"
                " AND (lease_owner IS NULL OR lease_owner = $2 OR lease_until <= $4) RETURNING TRUE",
                user_id,
                owner,
                until,
                now,
            )
        return bool(taken)

    async def release_refresh_lease(self, user_id: str, owner: str) -> None:
        """Give the lease back early (only the owner can)."""
        async with self._db.connection("release a refresh lease") as conn:
            await conn.execute(
                "UPDATE spotify_credentials SET lease_owner = NULL, lease_until = NULL"
                " WHERE user_id = $1 AND lease_owner = $2",
                user_id,
                owner,
            )

    async def delete_user(self, user_id: str) -> None:
        """Delete a Spotify user's credentials and every grant and token that acts for them."""
        async with self._db.transaction("delete a user") as conn:
            for table in ("tokens", "grants", "spotify_credentials"):
                await conn.execute(f"DELETE FROM {table} WHERE user_id = $1", user_id)  # noqa: S608

    # -- rate limiting -----------------------------------------------------------------------------
    async def hit(self, key: str, window: float, now: float) -> int:
        """Count one event of ``key`` in the fixed window containing ``now``; one upsert, exact across processes."""
        start, end = rate_window(key, window, now)
        async with self._db.connection("count a rate-limited request") as conn:
            return int(await conn.fetchval(HIT_SQL, key, start, end))

    # -- housekeeping ------------------------------------------------------------------------------
    async def sweep(self, now: float) -> int:
        """Delete expired requests, codes, tokens and ended rate-limit windows, clear expired leases; count rows."""
        async with self._db.connection("sweep expired rows") as conn:
            return int(await conn.fetchval(SWEEP_SQL, now))
