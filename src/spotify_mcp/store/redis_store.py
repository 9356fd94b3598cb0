"""The Redis backend of the Store: one hash per record, index sets for cascades, a Lua script per write.

Every write is one script, which Redis runs atomically, so each single-use transition (approve, take by
state, redeem, rotate, compare-and-set, lease) has exactly one winner across any number of replicas.
Expiry decisions use the caller's ``now``; Redis TTLs only reclaim memory afterwards (see
``redis_scripts`` for the key layout and TTL policy). Reads are plain commands.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import TracebackType
from typing import TypeVar

from spotify_mcp.store import redis_scripts as lua
from spotify_mcp.store import redis_scripts_spotify as lua_spotify
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
    SpotifyCredentials,
    TokenRecord,
)
from spotify_mcp.store.redis_codec import float_arg, from_fields, many_to_json, to_json
from spotify_mcp.store.redis_connection import (
    RedisConnection,
    as_hash,
    as_int,
    as_list,
    as_text,
    parse_redis_url,
    translate_errors,
)
from spotify_mcp.store.sqlite_schema import CURRENT_VERSION

R = TypeVar("R")

_SWEEP_BATCH = 500


class RedisStore:
    """The Store on a Redis server, every key under a prefix (``?prefix=NAME``, default ``spotify-mcp:``)."""

    def __init__(
        self,
        url: str = "redis://127.0.0.1:6379/0",
        *,
        connect_timeout: float = 5.0,
        timeout: float = 5.0,
        ttl_margin: float = 60.0,
        max_connections: int = 32,
    ) -> None:
        """Parse the URL (ValueError if malformed) and set up the pool; nothing connects until first use."""
        self._target = parse_redis_url(url)
        self._margin_ms = math.ceil(ttl_margin * 1000)
        self._conn = RedisConnection(
            self._target, connect_timeout=connect_timeout, timeout=timeout, max_connections=max_connections
        )
        self._closed = False

    @property
    def prefix(self) -> str:
        """The prefix every key of this store starts with (ending with a colon)."""
        return self._target.prefix

    @property
    def ttl_margin_ms(self) -> int:
        """How long past its expiry (or past now, if later) Redis keeps an expiring record."""
        return self._margin_ms

    async def __aenter__(self) -> RedisStore:
        """Use the store as an async context manager that closes it."""
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Close the store."""
        await self.close()

    # -- plumbing ----------------------------------------------------------------------------------
    def _key(self, kind: str, id_: str) -> str:
        return f"{self._target.prefix}{kind}:{id_}"

    @contextmanager
    def _guard(self, what: str) -> Iterator[None]:
        if self._closed:
            raise StoreError("the Redis store is closed")
        with translate_errors(self._target, what):
            yield

    async def _run(self, what: str, script: str, *args: str | int) -> object:
        with self._guard(what):
            return await self._conn.run(script, [self._target.prefix, self._margin_ms, *args])

    async def _read(self, what: str, cls: type[R], key: str) -> R | None:
        with self._guard(what):
            fields = await self._conn.hgetall(key)
        return from_fields(cls, fields) if fields else None

    async def _list(self, what: str, cls: type[R], index: str, kind: str) -> list[R]:
        with self._guard(what):
            ids = await self._conn.zmembers(index)
            hashes = await self._conn.hgetall_many([self._key(kind, id_) for id_ in ids])
        return [from_fields(cls, fields) for fields in hashes if fields]

    # -- lifecycle ---------------------------------------------------------------------------------
    async def migrate(self) -> None:
        """Record the current schema version; refuse a newer one (SchemaTooNewError)."""
        # Redis has no tables to migrate: it records the SQL schemas' version, so every backend reports one.
        found = as_int(await self._run("apply the schema version", lua.MIGRATE, CURRENT_VERSION))
        if found > CURRENT_VERSION:
            raise SchemaTooNewError(
                f"the Redis store at {self._target.where} (prefix {self._target.prefix}) is at schema version "
                f"{found} but this spotify-mcp only knows up to version {CURRENT_VERSION}; upgrade spotify-mcp"
            )

    async def schema_version(self) -> int:
        """Return the schema version the keys are at (0 when none)."""
        with self._guard("read the schema version"):
            value = await self._conn.get(f"{self._target.prefix}schema-version")
        return int(value) if value else 0

    async def ping(self) -> None:
        """Raise StoreError unless the server answers."""
        with self._guard("answer a ping"):
            await self._conn.ping()

    async def close(self) -> None:
        """Release the connection pool; later operations raise StoreError."""
        if self._closed:
            return
        self._closed = True
        with translate_errors(self._target, "close"):
            await self._conn.close()

    # -- clients -----------------------------------------------------------------------------------
    async def add_client(self, client: ClientRecord) -> None:
        """Insert a newly registered client."""
        await self._run("add a client", lua.ADD_CLIENT, to_json(client))

    async def get_client(self, client_id: str) -> ClientRecord | None:
        """Return a registered client, or None."""
        return await self._read("read a client", ClientRecord, self._key("client", client_id))

    async def list_clients(self) -> list[ClientRecord]:
        """Return every registered client, oldest first."""
        return await self._list("list clients", ClientRecord, f"{self._target.prefix}clients", "client")

    async def touch_client(self, client_id: str, at: float) -> None:
        """Record that a client was used."""
        await self._run("touch a client", lua.TOUCH, "client", client_id, float_arg(at))

    async def delete_client(self, client_id: str) -> bool:
        """Delete a client with its grants, tokens, codes and pending requests; False if unknown."""
        return as_int(await self._run("delete a client", lua.DELETE_CLIENT, client_id)) == 1

    # -- browser authorization requests ------------------------------------------------------------
    async def add_auth_request(self, request: AuthRequestRecord) -> None:
        """Insert a PENDING_CONSENT request."""
        await self._run("add an authorization request", lua.ADD_REQUEST, to_json(request))

    async def get_auth_request(self, request_id: str, now: float) -> AuthRequestRecord | None:
        """Return a live (unexpired) request, or None."""
        found = await self._read("read an authorization request", AuthRequestRecord, self._key("request", request_id))
        return found if found is not None and found.expires_at > now else None

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
        reply = await self._run(
            "approve an authorization request",
            lua.APPROVE_REQUEST,
            request_id,
            upstream_state_hash,
            upstream_verifier_sealed,
            binding_hash,
            float_arg(expires_at),
            float_arg(now),
        )
        return as_int(reply) == 1

    async def delete_auth_request(self, request_id: str) -> None:
        """Forget a request (consent denied)."""
        await self._run("delete an authorization request", lua.DELETE_REQUEST, request_id)

    async def take_auth_request_by_state(self, upstream_state_hash: str, now: float) -> AuthRequestRecord | None:
        """Atomically delete and return the live APPROVED request with this upstream state, or None."""
        reply = await self._run(
            "take an authorization request", lua.TAKE_REQUEST_BY_STATE, upstream_state_hash, float_arg(now)
        )
        return None if reply is None else from_fields(AuthRequestRecord, as_hash(as_list(reply)))

    # -- authorization codes -----------------------------------------------------------------------
    async def add_code(self, code: AuthCodeRecord) -> None:
        """Insert a freshly minted authorization code."""
        await self._run("add an authorization code", lua.ADD_CODE, to_json(code))

    async def get_code(self, code_hash: str) -> AuthCodeRecord | None:
        """Return a code whether or not it was redeemed or expired (the caller decides)."""
        return await self._read("read an authorization code", AuthCodeRecord, self._key("code", code_hash))

    async def redeem_code(
        self, code_hash: str, grant: GrantRecord, tokens: Sequence[TokenRecord], now: float
    ) -> CodeRedemption:
        """Atomically mark an unused, unexpired code used and store the grant and tokens it yields."""
        reply = as_list(
            await self._run(
                "redeem an authorization code",
                lua.REDEEM_CODE,
                code_hash,
                float_arg(now),
                to_json(grant),
                many_to_json(tokens),
            )
        )
        outcome = RedeemOutcome(as_text(reply[0]))
        return CodeRedemption(outcome, first_grant_id=as_text(reply[1]) if len(reply) > 1 else None)

    # -- grants and tokens -------------------------------------------------------------------------
    async def get_token(self, token_hash: str) -> TokenRecord | None:
        """Return an issued token by hash, including expired and rotated ones."""
        return await self._read("read a token", TokenRecord, self._key("token", token_hash))

    async def rotate_refresh_token(self, old_hash: str, new_tokens: Sequence[TokenRecord], now: float) -> RotateOutcome:
        """Atomically retire a live refresh token and store its successors; revoke the grant on reuse."""
        reply = await self._run(
            "rotate a refresh token", lua.ROTATE_REFRESH_TOKEN, old_hash, float_arg(now), many_to_json(new_tokens)
        )
        return RotateOutcome(as_text(reply))

    async def get_grant(self, grant_id: str) -> GrantRecord | None:
        """Return a live grant, or None."""
        return await self._read("read a grant", GrantRecord, self._key("grant", grant_id))

    async def list_grants(self, user_id: str | None = None) -> list[GrantRecord]:
        """Return live grants, all or one user's, oldest first."""
        index = f"{self._target.prefix}grants" if user_id is None else self._key("user-grants", user_id)
        return await self._list("list grants", GrantRecord, index, "grant")

    async def grant_expiry(self, grant_id: str) -> float | None:
        """Return when the last token of a grant expires (``math.inf`` if one never does), None if none is left."""
        tokens, forever, latest = as_list(await self._run("read a grant's expiry", lua.GRANT_EXPIRY, grant_id))
        latest_text = as_text(latest)
        return grant_expiry_of(as_int(tokens), bool(as_int(forever)), float(latest_text) if latest_text else None)

    async def touch_grant(self, grant_id: str, at: float) -> None:
        """Record that a grant was used."""
        await self._run("touch a grant", lua.TOUCH, "grant", grant_id, float_arg(at))

    async def revoke_grant(self, grant_id: str) -> None:
        """Delete a grant and every token issued under it."""
        await self._run("revoke a grant", lua.REVOKE_GRANT, grant_id)

    # -- Spotify credentials -----------------------------------------------------------------------
    async def get_spotify_credentials(self, user_id: str) -> SpotifyCredentials | None:
        """Return a user's sealed Spotify tokens, or None."""
        return await self._read("read Spotify credentials", SpotifyCredentials, self._key("spotify", user_id))

    async def list_spotify_credentials(self) -> list[SpotifyCredentials]:
        """Return every stored user's credentials, oldest first (by ``authorized_at``, then user id).

        Found by SCAN over ``P spotify:*`` rather than an index, so credentials any release wrote are listed
        (an admin operation: it walks the whole database once). A longer prefix that starts with this one plus
        ``spotify:`` is another store; its hashes are told apart by their ``user_id`` field.
        """
        start = len(self._key("spotify", ""))
        with self._guard("list Spotify credentials"):
            keys = sorted(await self._conn.scan_hashes(self._key("spotify", "*")))
            hashes = await self._conn.hgetall_many(keys)
        found = [
            from_fields(SpotifyCredentials, fields)
            for key, fields in zip(keys, hashes, strict=True)
            if fields.get("user_id") == key[start:] and "refresh_token_sealed" in fields
        ]
        return sorted(found, key=lambda creds: (creds.authorized_at, creds.user_id))

    async def put_spotify_credentials(self, creds: SpotifyCredentials) -> None:
        """Insert or replace a user's credentials; a replacement's version moves past the old one."""
        await self._run("store Spotify credentials", lua_spotify.PUT_CREDENTIALS, to_json(creds))

    async def update_spotify_credentials(self, creds: SpotifyCredentials, expected_version: int) -> bool:
        """Compare-and-set: write ``creds`` (whose version must be expected_version + 1) if unchanged."""
        if creds.version != expected_version + 1:
            raise ValueError(f"credentials version {creds.version} is not {expected_version} + 1")
        reply = await self._run(
            "update Spotify credentials", lua_spotify.UPDATE_CREDENTIALS, to_json(creds), expected_version
        )
        return as_int(reply) == 1

    async def acquire_refresh_lease(self, user_id: str, owner: str, until: float, now: float) -> bool:
        """Take (or renew) the right to refresh a user's Spotify token until ``until``."""
        reply = await self._run(
            "acquire a refresh lease", lua_spotify.ACQUIRE_LEASE, user_id, owner, float_arg(until), float_arg(now)
        )
        return as_int(reply) == 1

    async def release_refresh_lease(self, user_id: str, owner: str) -> None:
        """Give the lease back early (only the owner can)."""
        await self._run("release a refresh lease", lua_spotify.RELEASE_LEASE, user_id, owner)

    async def delete_user(self, user_id: str) -> None:
        """Delete a Spotify user's credentials and every grant and token that acts for them."""
        await self._run("delete a user", lua_spotify.DELETE_USER, user_id)

    # -- rate limiting -----------------------------------------------------------------------------
    async def hit(self, key: str, window: float, now: float) -> int:
        """Count one event of ``key`` in the fixed window containing ``now``: INCR and PEXPIREAT in one script."""
        start, end = rate_window(key, window, now)
        window_id = f"{float_arg(start)}:{float_arg(end)}:{key}"
        return as_int(await self._run("count a rate-limited request", lua.RATE_HIT, window_id, float_arg(end)))

    # -- housekeeping ------------------------------------------------------------------------------
    async def sweep(self, now: float) -> int:
        """Delete expired requests, codes (redeemed or not) and tokens and their index entries; count records.

        Rate-limit windows are not swept: their keys expire (PEXPIREAT at the window's end plus the margin).
        """
        removed = 0
        for kind in ("requests", "codes", "tokens"):
            while True:
                reply = as_list(await self._run("sweep expired records", lua.SWEEP, kind, float_arg(now), _SWEEP_BATCH))
                removed += as_int(reply[0])
                if as_int(reply[1]) < _SWEEP_BATCH:
                    break
        return removed
