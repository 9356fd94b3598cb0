"""Re-sealing races with servers that write the same credentials: a concurrent write is never overwritten."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from spotify_mcp.admin.keys import rotate
from spotify_mcp.admin.rotation import MAX_ATTEMPTS, Outcome, census, reseal_user, rotate_all
from spotify_mcp.crypto import KeyRing, generate_key, kid_of
from spotify_mcp.spotify.credentials import seal_context
from spotify_mcp.store import SqliteStore
from spotify_mcp.store.records import SpotifyCredentials

from .support import opened_tokens, sealed_credentials

pytestmark = pytest.mark.anyio

OLD_RING = KeyRing.parse(OLD := generate_key())
RING = KeyRing.parse(f"{generate_key()},{OLD}")


class WrittenMeanwhile(SqliteStore):
    """A SQLite store where, just before each of the next ``times`` compare-and-sets, a server writes the user.

    ``writer`` is that server's key ring; ``None`` stands for a disconnection instead of a write.
    """

    def __init__(self, path: Path, writer: KeyRing | None, times: int) -> None:
        super().__init__(path)
        self.writer = writer
        self.times = times
        self.writes = 0

    async def update_spotify_credentials(self, creds: SpotifyCredentials, expected_version: int) -> bool:
        """Let the other server write first, then try the compare-and-set."""
        if self.times > 0:
            self.times -= 1
            await self._write_meanwhile(creds.user_id)
        return await super().update_spotify_credentials(creds, expected_version)

    async def _write_meanwhile(self, user_id: str) -> None:
        if self.writer is None:
            await self.delete_user(user_id)
            return
        current = await self.get_spotify_credentials(user_id)
        assert current is not None
        self.writes += 1
        token = f"refreshed-{self.writes}"
        refreshed = replace(
            current,
            access_token_sealed=self.writer.seal(token, seal_context(user_id, "access")),
            refresh_token_sealed=self.writer.seal(f"refresh-{user_id}", seal_context(user_id, "refresh")),
            version=current.version + 1,
        )
        assert await super().update_spotify_credentials(refreshed, current.version)


async def stored_under_old_key(store: SqliteStore) -> SpotifyCredentials:
    """Put u1's credentials, sealed under the old key, and return them as stored."""
    await store.migrate()
    await store.put_spotify_credentials(sealed_credentials(OLD_RING, "u1"))
    creds = await store.get_spotify_credentials("u1")
    assert creds is not None
    return creds


async def test_a_refresh_written_meanwhile_under_the_new_key_is_kept(tmp_path: Path) -> None:
    async with WrittenMeanwhile(tmp_path / "s.db", RING, times=1) as store:
        creds = await stored_under_old_key(store)
        assert await reseal_user(store, RING, creds) is Outcome.CURRENT
        after = await store.get_spotify_credentials("u1")
    assert after is not None
    assert opened_tokens(RING, after) == ("refreshed-1", "refresh-u1")
    assert after.version == creds.version + 1


async def test_a_refresh_written_meanwhile_under_the_old_key_is_kept_and_resealed_on_retry(tmp_path: Path) -> None:
    async with WrittenMeanwhile(tmp_path / "s.db", OLD_RING, times=2) as store:
        creds = await stored_under_old_key(store)
        assert await reseal_user(store, RING, creds) is Outcome.RESEALED
        after = await store.get_spotify_credentials("u1")
    assert after is not None
    assert opened_tokens(RING, after) == ("refreshed-2", "refresh-u1")
    assert {kid_of(after.access_token_sealed), kid_of(after.refresh_token_sealed)} == {RING.current_kid}
    assert after.version == creds.version + 3


async def test_a_user_written_on_every_attempt_is_given_up_after_a_bounded_number_of_tries(tmp_path: Path) -> None:
    store = WrittenMeanwhile(tmp_path / "s.db", OLD_RING, times=MAX_ATTEMPTS + 10)
    async with store:
        creds = await stored_under_old_key(store)
        assert await reseal_user(store, RING, creds) is Outcome.BUSY
        after = await store.get_spotify_credentials("u1")
    assert store.writes == MAX_ATTEMPTS
    assert after is not None
    assert opened_tokens(OLD_RING, after) == (f"refreshed-{MAX_ATTEMPTS}", "refresh-u1")


async def test_a_user_disconnected_meanwhile_is_reported_gone(tmp_path: Path) -> None:
    async with WrittenMeanwhile(tmp_path / "s.db", None, times=1) as store:
        creds = await stored_under_old_key(store)
        assert await reseal_user(store, RING, creds) is Outcome.GONE
        assert await store.list_spotify_credentials() == []


async def test_rotate_reports_busy_users_keeps_their_old_key_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async with WrittenMeanwhile(tmp_path / "s.db", OLD_RING, times=MAX_ATTEMPTS) as store:
        await stored_under_old_key(store)
        assert await rotate(store, RING) == 1
    out, err = capsys.readouterr()
    assert f"Old key {OLD_RING.current_kid} still seals the tokens of 1 user: keep it in the ring." in out
    assert "1 user changed on every attempt (a server kept writing them): u1; run" in err


async def test_rotate_all_reports_each_user_by_outcome(tmp_path: Path) -> None:
    lost = KeyRing.ephemeral()
    async with SqliteStore(tmp_path / "s.db") as store:
        await store.migrate()
        await store.put_spotify_credentials(sealed_credentials(OLD_RING, "old", authorized_at=1))
        await store.put_spotify_credentials(sealed_credentials(RING, "current", authorized_at=2))
        await store.put_spotify_credentials(sealed_credentials(lost, "lost", authorized_at=3))
        report = await rotate_all(store, RING)
        resealed = await store.get_spotify_credentials("old")
    assert report.users == {
        Outcome.RESEALED: ["old"],
        Outcome.CURRENT: ["current"],
        Outcome.UNREADABLE: ["lost"],
        Outcome.GONE: [],
        Outcome.BUSY: [],
    }
    assert not report.complete
    assert resealed is not None
    assert kid_of(resealed.access_token_sealed) == RING.current_kid


def test_a_value_that_is_not_sealed_is_counted_under_no_key_id() -> None:
    creds = replace(sealed_credentials(RING, "u1"), access_token_sealed="not-sealed")
    assert census([creds, sealed_credentials(RING, "u2")]) == {"?": 1, RING.current_kid: 2}
