"""A store written by an older release keeps working after an upgrade; committed fixtures prove it.

Each fixture under ``fixtures/`` is a store exactly as a release left it (``make_fixtures.py`` wrote it with that
release's code; it is never regenerated). Every test opens a private copy with today's code, which migrates it to
the current schema version, and checks that what the old release stored still works: clients, tokens, refresh
rotation, sealed Spotify credentials, authorizations in flight. When a release adds migration N+1, these same
fixtures prove vN → vN+1; add that release's fixtures to ``RELEASE_FIXTURES`` when it ships a new schema version.

The values below describe the committed fixtures and must not follow later changes to the generator. Every
secret here is a fixed TEST-ONLY value.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import anyio
import asyncpg
import pytest

from spotify_mcp.clock import ManualClock
from spotify_mcp.crypto import KeyRing, UnsealError, hash_secret, secrets_equal, verify_pkce
from spotify_mcp.oauth.client_metadata import parse_client_metadata
from spotify_mcp.oauth.consent import verifier_context
from spotify_mcp.oauth.tokens import TokenService
from spotify_mcp.spotify.accounts import SpotifyAccounts, SpotifyTokens
from spotify_mcp.spotify.credentials import CredentialsManager, seal_context
from spotify_mcp.store import SchemaTooNewError, SqliteStore, Store, open_store
from spotify_mcp.store.base import RedeemOutcome, RotateOutcome
from spotify_mcp.store.postgres import PostgresStore
from spotify_mcp.store.postgres_schema import CURRENT_VERSION as POSTGRES_VERSION
from spotify_mcp.store.records import GrantRecord, RequestStatus, TokenKind
from spotify_mcp.store.sqlite_schema import CURRENT_VERSION as SQLITE_VERSION

from .pg import connect, schema_url, scratch_schema

pytestmark = pytest.mark.anyio

FIXTURES = Path(__file__).parent / "fixtures"
CURRENT_VERSION = SQLITE_VERSION


@dataclass(frozen=True, slots=True)
class ReleaseFixture:
    """One committed fixture: which backend, which release wrote it, at which schema version."""

    backend: str
    release: str
    schema_version: int
    file: str

    @property
    def path(self) -> Path:
        """Where the committed file is (never opened in place: tests work on copies)."""
        return FIXTURES / self.file


RELEASE_FIXTURES = [
    pytest.param(ReleaseFixture("sqlite", "0.1.0", 1, "sqlite-v1.db"), id="sqlite-0.1.0-v1"),
    pytest.param(ReleaseFixture("postgres", "0.1.0", 1, "postgres-v1.sql"), id="postgres-0.1.0-v1"),
]

# -- what the fixtures hold (TEST-ONLY secrets) ------------------------------------------------------------
TEST_ONLY_SECRET_KEY = "xk5bhZ0mpRYWd2FoOv5bx3rleawstL3PMpu1LxluIbA="
"""The key ring the fixtures' values were sealed with. TEST ONLY: never use it in a deployment."""
TEST_ONLY_NEWER_KEY = "zpWEnUNDwBZGugFTToF4Cd-6MoJ5E8Az7FG7jNl1Tmo="
"""A second TEST-ONLY key, for rotating the ring after the upgrade."""
SNAPSHOT = 1_800_000_000.0
NOW = SNAPSHOT + 30
"""When the tests pretend to run: half a minute after the fixture's store was copied."""
RESOURCE = "https://mcp.example.com/mcp"
USER = "fixtureuser"
PUBLIC_CLIENT = "smcp_client_fixturePublicClient0001"
CONFIDENTIAL_CLIENT = "smcp_client_fixtureConfidential0002"
CLIENT_SECRET = "smcp_cs_fixture-client-secret-TEST-ONLY"
REDIRECT_URI = "https://claude.ai/api/mcp/auth_callback"
SCOPES = ("user-read-private", "user-read-playback-state", "user-modify-playback-state", "playlist-read-private")
PKCE_VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
"""RFC 7636's example verifier; every code and request in the fixtures carries its challenge."""
ACCESS_OLD = "smcp_at_fixture-access-0-TEST-ONLY"
REFRESH_OLD = "smcp_rt_fixture-refresh-0-TEST-ONLY"
ACCESS = "smcp_at_fixture-access-1-TEST-ONLY"
REFRESH = "smcp_rt_fixture-refresh-1-TEST-ONLY"
EXPIRED_ACCESS = "smcp_at_fixture-expired-access-TEST-ONLY"
OTHER_REFRESH = "smcp_rt_fixture-other-refresh-TEST-ONLY"
USED_CODE = "smcp_ac_fixture-used-code-TEST-ONLY"
OLD_CODE = "smcp_ac_fixture-old-code-TEST-ONLY"
FRESH_CODE = "smcp_ac_fixture-fresh-code-TEST-ONLY"
UPSTREAM_STATE = "fixture-upstream-state-TEST-ONLY"
BINDING = "fixture-binding-TEST-ONLY"
SPOTIFY_VERIFIER = "fixture-spotify-pkce-verifier-0123456789abcdef-TEST-ONLY"
SPOTIFY_ACCESS = "BQfixture-spotify-access-token-TEST-ONLY"
SPOTIFY_REFRESH = "AQfixture-spotify-refresh-token-TEST-ONLY"
GRANT = "fixture-grant-1"
OTHER_GRANT = "fixture-grant-0"
PENDING_REQUEST = "fixture-request-pending"
APPROVED_REQUEST = "fixture-request-approved"
SCHEMA_PLACEHOLDER = "@SCHEMA@"


# -- placing a private copy of a fixture -------------------------------------------------------------------
async def load_postgres_dump(path: Path, schema: str) -> None:
    """Load a fixture dump into ``schema`` (which must not exist yet), in one transaction."""
    sql = (await anyio.Path(path).read_text(encoding="utf-8")).replace(SCHEMA_PLACEHOLDER, schema)
    conn = await connect()
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


Rows = list[tuple[object, ...]]


@dataclass(frozen=True, slots=True)
class Placed:
    """A private copy of a fixture: the store URL that opens it, and SQL access behind the store's back."""

    url: str
    rows: Callable[[str], Awaitable[Rows]]
    """``await placed.rows(sql)`` runs one statement on a connection of its own and returns its rows."""
    schema: str | None = None
    """The PostgreSQL schema holding the copy (None for SQLite)."""


@contextlib.asynccontextmanager
async def placed(fixture: ReleaseFixture, tmp_path: Path) -> AsyncIterator[Placed]:
    """Copy the fixture somewhere private (a file, or a fresh PostgreSQL schema) and yield how to open it."""
    if fixture.backend == "sqlite":
        path = tmp_path / "store.db"
        shutil.copyfile(fixture.path, path)

        async def sqlite_rows(sql: str) -> Rows:
            with contextlib.closing(sqlite3.connect(path)) as conn, conn:
                return [tuple(row) for row in conn.execute(sql).fetchall()]

        yield Placed(f"sqlite:///{path}", sqlite_rows)
        return
    async with scratch_schema() as schema:
        await load_postgres_dump(fixture.path, schema)

        async def postgres_rows(sql: str) -> Rows:
            conn = await connect()
            try:
                await conn.execute(f'SET search_path TO "{schema}"')
                return [tuple(row) for row in await conn.fetch(sql)]
            finally:
                await conn.close()

        yield Placed(schema_url(schema), postgres_rows, schema)


@pytest.fixture(params=RELEASE_FIXTURES)
def release_fixture(request: pytest.FixtureRequest) -> ReleaseFixture:
    """Each committed fixture in turn."""
    return cast(ReleaseFixture, request.param)


@pytest.fixture
async def copy(release_fixture: ReleaseFixture, tmp_path: Path, anyio_backend: str) -> AsyncIterator[Placed]:
    """A private copy of the fixture, not yet opened by today's code."""
    async with placed(release_fixture, tmp_path) as where:
        yield where


@pytest.fixture
async def store(copy: Placed) -> AsyncIterator[Store]:
    """The fixture's copy, opened (and so migrated) by today's code."""
    opened = await open_store(copy.url)
    try:
        yield opened
    finally:
        await opened.close()


def token_service(store: Store, clock: ManualClock) -> TokenService:
    """The token service as the server builds it for ``RESOURCE``."""
    return TokenService(store, clock, resource=RESOURCE, access_ttl=3600, refresh_ttl=30 * 86400)


class FakeSpotifyAccounts:
    """Stands in for Spotify's token endpoint: records the refresh tokens it is sent."""

    def __init__(self) -> None:
        self.refreshed_with: list[str] = []

    async def refresh(self, refresh_token: str) -> SpotifyTokens:
        """Answer a refresh with a new access token."""
        self.refreshed_with.append(refresh_token)
        return SpotifyTokens("BQrefreshed-after-the-upgrade-TEST-ONLY", None, 3600, ("user-read-private",))


# -- the fixtures themselves ---------------------------------------------------------------------------
def test_every_committed_fixture_is_listed() -> None:
    listed = {cast(ReleaseFixture, param.values[0]).file for param in RELEASE_FIXTURES}
    on_disk = {path.name for path in FIXTURES.iterdir() if path.suffix in (".db", ".sql")}
    assert listed == on_disk


def test_fixture_releases_are_older_or_equal_schema_versions() -> None:
    assert POSTGRES_VERSION == SQLITE_VERSION
    for param in RELEASE_FIXTURES:
        assert cast(ReleaseFixture, param.values[0]).schema_version <= CURRENT_VERSION


async def test_the_fixture_is_what_its_release_wrote(release_fixture: ReleaseFixture, copy: Placed) -> None:
    if release_fixture.backend == "sqlite":
        info = dict(await copy.rows("SELECT key, value FROM fixture_info"))
        assert (info["release"], info["schema_version"], info["backend"]) == (
            release_fixture.release,
            str(release_fixture.schema_version),
            "sqlite",
        )
    else:
        text = await anyio.Path(release_fixture.path).read_text(encoding="utf-8")
        header = dict(re.findall(r"^-- ([a-z-]+): (\S+)$", text, re.MULTILINE))
        assert header["release"] == release_fixture.release
        assert header["schema-version"] == str(release_fixture.schema_version)
    versions = [row[0] for row in await copy.rows("SELECT version FROM schema_migrations ORDER BY version")]
    assert versions == list(range(1, release_fixture.schema_version + 1))


# -- the upgrade -----------------------------------------------------------------------------------------
async def test_opening_it_migrates_to_the_current_version_and_keeps_the_history(copy: Placed) -> None:
    before = await copy.rows("SELECT version, applied_at FROM schema_migrations ORDER BY version")
    store = await open_store(copy.url)
    try:
        assert await store.schema_version() == CURRENT_VERSION
    finally:
        await store.close()
    after = await copy.rows("SELECT version, applied_at FROM schema_migrations ORDER BY version")
    assert [row[0] for row in after] == list(range(1, CURRENT_VERSION + 1))
    assert after[: len(before)] == before
    reopened = await open_store(copy.url)  # a second start migrates nothing more
    await reopened.close()
    assert await copy.rows("SELECT version, applied_at FROM schema_migrations ORDER BY version") == after


async def test_the_upgraded_schema_is_the_one_a_fresh_install_gets(
    release_fixture: ReleaseFixture, copy: Placed, tmp_path: Path
) -> None:
    await (await open_store(copy.url)).close()
    if release_fixture.backend == "sqlite":
        upgraded = await copy.rows(SQLITE_SHAPE)
        fresh_path = tmp_path / "fresh.db"
        async with SqliteStore(fresh_path) as fresh:
            await fresh.migrate()
        with contextlib.closing(sqlite3.connect(fresh_path)) as conn:
            assert upgraded == [tuple(row) for row in conn.execute(SQLITE_SHAPE).fetchall()]
        return
    async with scratch_schema() as fresh_schema:
        async with PostgresStore(schema_url(fresh_schema)) as fresh:
            await fresh.migrate()
        assert copy.schema is not None
        assert await postgres_shape(copy.schema) == await postgres_shape(fresh_schema)


SQLITE_SHAPE = (
    "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE tbl_name <> 'fixture_info' ORDER BY type, name"
)


async def postgres_shape(schema: str) -> dict[str, Rows]:
    """Tables, columns, indexes and constraints of a schema, with its name taken out of every definition."""
    conn = await connect()
    try:
        columns = await conn.fetch(
            "SELECT table_name, ordinal_position, column_name, data_type, udt_name, is_nullable, column_default,"
            " is_identity, identity_generation FROM information_schema.columns WHERE table_schema = $1"
            " ORDER BY table_name, ordinal_position",
            schema,
        )
        indexes = await conn.fetch(
            "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = $1 ORDER BY indexname", schema
        )
        constraints = await conn.fetch(
            "SELECT c.conrelid::regclass::text, c.conname, c.contype, pg_get_constraintdef(c.oid) FROM pg_constraint c"
            " JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = $1 ORDER BY c.conname",
            schema,
        )
    finally:
        await conn.close()

    def plain(rows: list[asyncpg.Record]) -> Rows:
        return [tuple(str(v).replace(schema, "SCHEMA") if isinstance(v, str) else v for v in row) for row in rows]

    return {"columns": plain(columns), "indexes": plain(indexes), "constraints": plain(constraints)}


async def test_a_store_at_a_newer_schema_version_is_refused_and_left_untouched(copy: Placed) -> None:
    newer = CURRENT_VERSION + 1
    await copy.rows(f"INSERT INTO schema_migrations (version, applied_at) VALUES ({newer}, {SNAPSHOT})")
    before = await snapshot(copy)
    with pytest.raises(SchemaTooNewError, match=f"schema version {newer}.*upgrade spotify-mcp"):
        await open_store(copy.url)
    assert await snapshot(copy) == before
    assert max(row[0] for row in before["schema_migrations"]) == newer  # type: ignore[type-var]


async def snapshot(copy: Placed) -> dict[str, Rows]:
    """The schema's shape and every row of every table, to tell whether anything changed."""
    if copy.schema is None:
        shape = await copy.rows(SQLITE_SHAPE)
    else:
        shape = [tuple(rows) for rows in (await postgres_shape(copy.schema)).values()]
    tables = [
        "schema_migrations",
        "clients",
        "auth_requests",
        "auth_codes",
        "grants",
        "tokens",
        "spotify_credentials",
    ]
    rows = {table: sorted(await copy.rows(f"SELECT * FROM {table}"), key=repr) for table in tables}
    return {"(shape)": shape, **rows}


# -- what the old release stored still works -------------------------------------------------------------
async def test_the_registered_clients_are_found_and_their_metadata_still_parses(store: Store) -> None:
    clients = await store.list_clients()
    assert [c.client_id for c in clients] == [PUBLIC_CLIENT, CONFIDENTIAL_CLIENT]
    public = await store.get_client(PUBLIC_CLIENT)
    assert public is not None
    assert public.secret_hash is None
    assert public.last_used_at == SNAPSHOT - 60
    metadata = parse_client_metadata(json.loads(public.metadata_json))
    assert metadata.redirect_uris == (REDIRECT_URI,)
    assert metadata.client_name == "Claude"
    assert metadata.token_endpoint_auth_method == "none"
    confidential = await store.get_client(CONFIDENTIAL_CLIENT)
    assert confidential is not None
    assert secrets_equal(hash_secret(CLIENT_SECRET), confidential.secret_hash or "")
    assert parse_client_metadata(json.loads(confidential.metadata_json)).token_endpoint_auth_method == (
        "client_secret_post"
    )


async def test_issued_access_tokens_still_verify_and_expired_ones_do_not(store: Store) -> None:
    tokens = token_service(store, ManualClock(NOW))
    for plaintext in (ACCESS, ACCESS_OLD):
        access = await tokens.verify_access(plaintext)
        assert access is not None
        assert (access.subject, access.client_id, tuple(access.scopes)) == (USER, PUBLIC_CLIENT, SCOPES)
        assert access.claims == {"grant_id": GRANT}
        assert access.resource == RESOURCE
    assert await tokens.verify_access(EXPIRED_ACCESS) is None
    record = await store.get_token(hash_secret(ACCESS))
    assert record is not None
    assert (record.kind, record.grant_id, record.expires_at, record.rotated) == (
        TokenKind.ACCESS,
        GRANT,
        SNAPSHOT - 60 + 3600,
        False,
    )
    grant = await store.get_grant(GRANT)
    # Verifying the token recorded its use on the grant (it was last used at SNAPSHOT - 30).
    assert grant == GrantRecord(GRANT, PUBLIC_CLIENT, USER, SCOPES, RESOURCE, SNAPSHOT - 120, NOW)
    assert [g.grant_id for g in await store.list_grants(USER)] == [OTHER_GRANT, GRANT]


async def test_the_live_refresh_token_rotates_once(store: Store) -> None:
    clock = ManualClock(NOW)
    tokens = token_service(store, clock)
    grant = await store.get_grant(GRANT)
    assert grant is not None
    issued = tokens.issue(grant)
    assert await store.rotate_refresh_token(hash_secret(REFRESH), issued.records, NOW) is RotateOutcome.ROTATED
    fresh = await tokens.verify_access(issued.access_token)
    assert fresh is not None
    assert fresh.subject == USER
    old = await store.get_token(hash_secret(REFRESH))
    assert old is not None
    assert old.rotated
    # Presenting it again is reuse: the whole grant goes, tokens issued before the upgrade with it.
    assert await store.rotate_refresh_token(hash_secret(REFRESH), [], NOW) is RotateOutcome.REUSED
    assert await store.get_grant(GRANT) is None
    assert await tokens.verify_access(ACCESS) is None
    assert await tokens.verify_access(issued.access_token) is None


async def test_a_refresh_token_rotated_before_the_upgrade_is_still_recognised_as_reuse(store: Store) -> None:
    rotated = await store.get_token(hash_secret(REFRESH_OLD))
    assert rotated is not None
    assert rotated.rotated
    assert await store.rotate_refresh_token(hash_secret(REFRESH_OLD), [], NOW) is RotateOutcome.REUSED
    assert await store.get_grant(GRANT) is None
    assert await store.get_grant(OTHER_GRANT) is not None


async def test_the_confidential_clients_refresh_token_rotates(store: Store) -> None:
    tokens = token_service(store, ManualClock(NOW))
    grant = await store.get_grant(OTHER_GRANT)
    assert grant is not None
    issued = tokens.issue(grant)
    assert await store.rotate_refresh_token(hash_secret(OTHER_REFRESH), issued.records, NOW) is RotateOutcome.ROTATED
    access = await tokens.verify_access(issued.access_token)
    assert access is not None
    assert access.client_id == CONFIDENTIAL_CLIENT


async def test_sealed_spotify_credentials_open_with_the_fixture_key_ring(store: Store) -> None:
    creds = await store.get_spotify_credentials(USER)
    assert creds is not None
    assert (creds.version, creds.display_name, creds.expires_at) == (2, "Fixture User", SNAPSHOT + 3000)
    assert creds.authorized_at == SNAPSHOT - 2 * 86400
    keys = KeyRing.parse(TEST_ONLY_SECRET_KEY)
    assert keys.unseal(creds.access_token_sealed, seal_context(USER, "access")) == SPOTIFY_ACCESS
    assert keys.unseal(creds.refresh_token_sealed, seal_context(USER, "refresh")) == SPOTIFY_REFRESH
    rotated_ring = KeyRing.parse(f"{TEST_ONLY_NEWER_KEY},{TEST_ONLY_SECRET_KEY}")
    assert rotated_ring.unseal(creds.access_token_sealed, seal_context(USER, "access")) == SPOTIFY_ACCESS
    assert not rotated_ring.is_current(creds.access_token_sealed)
    with pytest.raises(UnsealError):
        KeyRing.parse(TEST_ONLY_NEWER_KEY).unseal(creds.access_token_sealed, seal_context(USER, "access"))


async def test_the_credentials_manager_serves_and_refreshes_the_stored_spotify_token(store: Store) -> None:
    clock = ManualClock(NOW)
    spotify = FakeSpotifyAccounts()
    keys = KeyRing.parse(f"{TEST_ONLY_NEWER_KEY},{TEST_ONLY_SECRET_KEY}")
    manager = CredentialsManager(store, keys, cast(SpotifyAccounts, spotify), clock, owner="after-the-upgrade")
    assert await manager.access_token(USER) == SPOTIFY_ACCESS
    assert spotify.refreshed_with == []
    # Past its expiry: the refresh takes over the lease a dead replica left, and writes version 3.
    clock.advance(3000)
    assert await manager.access_token(USER) == "BQrefreshed-after-the-upgrade-TEST-ONLY"
    assert spotify.refreshed_with == [SPOTIFY_REFRESH]
    creds = await store.get_spotify_credentials(USER)
    assert creds is not None
    assert creds.version == 3
    assert keys.is_current(creds.access_token_sealed)
    assert keys.unseal(creds.refresh_token_sealed, seal_context(USER, "refresh")) == SPOTIFY_REFRESH


async def test_the_pending_request_can_still_be_approved_and_taken(store: Store) -> None:
    pending = await store.get_auth_request(PENDING_REQUEST, NOW)
    assert pending is not None
    assert pending.status is RequestStatus.PENDING_CONSENT
    assert (pending.client_id, pending.redirect_uri, pending.scopes) == (PUBLIC_CLIENT, REDIRECT_URI, SCOPES)
    assert pending.client_state == f"client-state-of-{PENDING_REQUEST}"
    assert verify_pkce(PKCE_VERIFIER, pending.code_challenge)
    approve = {
        "upstream_state_hash": hash_secret("state-after-the-upgrade"),
        "upstream_verifier_sealed": "sealed",
        "binding_hash": hash_secret("binding-after-the-upgrade"),
        "expires_at": NOW + 600,
        "now": NOW,
    }
    assert await store.approve_auth_request(PENDING_REQUEST, **approve)  # type: ignore[arg-type]
    assert not await store.approve_auth_request(PENDING_REQUEST, **approve)  # type: ignore[arg-type]
    taken = await store.take_auth_request_by_state(hash_secret("state-after-the-upgrade"), NOW)
    assert taken is not None
    assert taken.request_id == PENDING_REQUEST
    assert await store.get_auth_request(PENDING_REQUEST, NOW) is None


async def test_the_request_approved_before_the_upgrade_completes_at_the_callback(store: Store) -> None:
    taken = await store.take_auth_request_by_state(hash_secret(UPSTREAM_STATE), NOW)
    assert taken is not None
    assert (taken.request_id, taken.status) == (APPROVED_REQUEST, RequestStatus.APPROVED)
    assert taken.binding_hash == hash_secret(BINDING)
    keys = KeyRing.parse(TEST_ONLY_SECRET_KEY)
    assert keys.unseal(taken.upstream_verifier_sealed or "", verifier_context(APPROVED_REQUEST)) == SPOTIFY_VERIFIER
    assert await store.take_auth_request_by_state(hash_secret(UPSTREAM_STATE), NOW) is None


async def test_the_used_code_is_still_a_replay_and_the_fresh_one_redeems(store: Store) -> None:
    used = await store.get_code(hash_secret(USED_CODE))
    assert used is not None
    assert used.grant_id == GRANT
    replay = GrantRecord("replay-grant", PUBLIC_CLIENT, USER, SCOPES, RESOURCE, NOW)
    redemption = await store.redeem_code(hash_secret(USED_CODE), replay, [], NOW)
    assert (redemption.outcome, redemption.first_grant_id) == (RedeemOutcome.REPLAYED, GRANT)

    fresh = await store.get_code(hash_secret(FRESH_CODE))
    assert fresh is not None
    assert fresh.grant_id is None
    assert verify_pkce(PKCE_VERIFIER, fresh.code_challenge)
    grant = GrantRecord("grant-after-the-upgrade", PUBLIC_CLIENT, USER, fresh.scopes, fresh.resource, NOW)
    issued = token_service(store, ManualClock(NOW)).issue(grant)
    redemption = await store.redeem_code(hash_secret(FRESH_CODE), grant, issued.records, NOW)
    assert redemption.outcome is RedeemOutcome.REDEEMED
    assert await token_service(store, ManualClock(NOW)).verify_access(issued.access_token) is not None


async def test_the_sweep_removes_what_expired_before_the_upgrade_and_nothing_else(store: Store) -> None:
    assert await store.sweep(NOW) == 2  # the expired access token and the two-day-old code
    assert await store.get_token(hash_secret(EXPIRED_ACCESS)) is None
    assert await store.get_code(hash_secret(OLD_CODE)) is None
    assert await store.get_token(hash_secret(ACCESS)) is not None
    assert await store.get_code(hash_secret(USED_CODE)) is not None
    assert await store.get_auth_request(PENDING_REQUEST, NOW) is not None


async def test_a_refresh_lease_left_by_a_dead_replica_can_be_taken(store: Store) -> None:
    assert await store.acquire_refresh_lease(USER, "after-the-upgrade", NOW + 30, NOW)
    assert not await store.acquire_refresh_lease(USER, "another-replica", NOW + 30, NOW)


async def test_deleting_the_user_removes_what_the_old_release_stored_for_them(store: Store) -> None:
    await store.delete_user(USER)
    assert await store.get_spotify_credentials(USER) is None
    assert await store.list_grants(USER) == []
    assert await token_service(store, ManualClock(NOW)).verify_access(ACCESS) is None
    assert await store.get_client(PUBLIC_CLIENT) is not None
