"""Re-sealing stored Spotify credentials under the ring's current key, and counting what each key seals.

Each user is re-sealed with a compare-and-set on the credentials' version, so a refresh that a server writes
meanwhile is never overwritten: the user is read again and retried, a bounded number of times. A refresh
writes under the current key itself, so a retry usually finds the user already done.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from enum import StrEnum

from spotify_mcp.crypto import KeyRing, UnsealError, kid_of
from spotify_mcp.spotify.credentials import seal_context
from spotify_mcp.store.base import Store
from spotify_mcp.store.records import SpotifyCredentials

MAX_ATTEMPTS = 5
"""How many times one user is tried when concurrent writes keep changing their credentials."""


class Outcome(StrEnum):
    """What re-sealing one user's credentials came to."""

    RESEALED = "resealed"
    CURRENT = "current"
    """Already under the current key (possibly because a refresh wrote them meanwhile)."""
    UNREADABLE = "unreadable"
    """Sealed by a key that is not in the ring (or damaged): left as they are."""
    GONE = "gone"
    """Disconnected meanwhile."""
    BUSY = "busy"
    """Changed by someone else on every attempt: left for another run."""


@dataclass(slots=True)
class RotationReport:
    """The user ids of each outcome, in the order they were handled."""

    users: dict[Outcome, list[str]] = field(default_factory=lambda: {outcome: [] for outcome in Outcome})

    def count(self, outcome: Outcome) -> int:
        """How many users came to ``outcome``."""
        return len(self.users[outcome])

    @property
    def complete(self) -> bool:
        """Whether every stored user is now under the current key."""
        return not self.users[Outcome.UNREADABLE] and not self.users[Outcome.BUSY]


def kids_of(creds: SpotifyCredentials) -> set[str]:
    """The ids of the keys a user's two sealed tokens were sealed with ("?" for a value that is not sealed)."""
    return {kid_of(blob) or "?" for blob in (creds.access_token_sealed, creds.refresh_token_sealed)}


def census(credentials: Iterable[SpotifyCredentials]) -> Counter[str]:
    """How many users have a token sealed under each key id."""
    counts: Counter[str] = Counter()
    for creds in credentials:
        counts.update(kids_of(creds))
    return counts


def _resealed(keys: KeyRing, creds: SpotifyCredentials) -> SpotifyCredentials:
    """The same tokens sealed under the current key, as the next version (UnsealError if one cannot be opened)."""

    def current(blob: str, kind: str) -> str:
        if keys.is_current(blob):
            return blob
        context = seal_context(creds.user_id, kind)
        return keys.seal(keys.unseal(blob, context), context)

    return replace(
        creds,
        access_token_sealed=current(creds.access_token_sealed, "access"),
        refresh_token_sealed=current(creds.refresh_token_sealed, "refresh"),
        version=creds.version + 1,
    )


async def reseal_user(
    store: Store, keys: KeyRing, creds: SpotifyCredentials, *, attempts: int = MAX_ATTEMPTS
) -> Outcome:
    """Re-seal one user's credentials under the current key unless someone else writes them first."""
    for _ in range(attempts):
        if keys.is_current(creds.access_token_sealed) and keys.is_current(creds.refresh_token_sealed):
            return Outcome.CURRENT
        try:
            new = _resealed(keys, creds)
        except UnsealError:
            return Outcome.UNREADABLE
        if await store.update_spotify_credentials(new, expected_version=creds.version):
            return Outcome.RESEALED
        latest = await store.get_spotify_credentials(creds.user_id)
        if latest is None:
            return Outcome.GONE
        creds = latest
    return Outcome.BUSY


async def rotate_all(store: Store, keys: KeyRing, *, attempts: int = MAX_ATTEMPTS) -> RotationReport:
    """Re-seal every stored user's credentials under the current key; report what became of each user."""
    report = RotationReport()
    for creds in await store.list_spotify_credentials():
        outcome = await reseal_user(store, keys, creds, attempts=attempts)
        report.users[outcome].append(creds.user_id)
    return report
