"""``admin keys generate``, ``status`` and ``rotate``: the key ring that seals the stored Spotify tokens.

Rotation, without logging anyone out: 1. ``keys generate``; 2. deploy the ring ``old,new`` on every replica (with
several), then ``new,old``; 3. ``keys rotate``; 4. drop the old key once ``rotate`` says nothing needs it.
"""

from __future__ import annotations

from spotify_mcp.admin.output import clean, plural, say, table, warn
from spotify_mcp.admin.rotation import Outcome, census, kids_of, rotate_all
from spotify_mcp.admin.session import EXIT_FAILED, EXIT_OK
from spotify_mcp.crypto import KeyRing, generate_key
from spotify_mcp.settings import ConfigError, load_settings
from spotify_mcp.store.base import Store

PENDING_SIGN_INS = (
    "  Wait until every replica has had the new key first for 10 minutes: sign-ins started before that are sealed\n"
    "  and signed under the old key. Consents remembered in browsers under it will be asked for once more."
)


def _configured_ring() -> str | None:
    """The configured ring as one comma-separated value, or None when there is none (or the config is invalid)."""
    try:
        settings = load_settings()
    except ConfigError:
        return None
    if settings.secret_key is None:
        return None
    return ",".join(part.strip() for part in settings.secret_key.get_secret_value().split(","))


def generate() -> int:
    """Print a fresh key, and the ring to deploy with it first (the only command that prints key material)."""
    key = generate_key()
    ring = _configured_ring()
    say(f"New key (id {KeyRing.parse(key).current_kid}):")
    say(f"  {key}")
    say()
    if ring is None:
        say("No valid key ring is configured here. A first deployment sets:")
        say(f"  SPOTIFY_MCP_SECRET_KEY={key}")
        say("(Run it where SPOTIFY_MCP_SECRET_KEY is set to rotate that ring: it prints the rings to deploy.)")
        return EXIT_OK
    say("Next steps:")
    say("  1. With several replicas, first add the new key last on every replica, so that each can open what it")
    say("     seals (with one replica, go to step 2):")
    say(f"     SPOTIFY_MCP_SECRET_KEY={ring},{key}")
    say("  2. Then put it first on every replica; new values are sealed with it:")
    say(f"     SPOTIFY_MCP_SECRET_KEY={key},{ring}")
    say("  3. Run `spotify-mcp admin keys rotate` with that ring: it re-seals the stored Spotify tokens under the")
    say("     new key.")
    say("  4. Drop the old keys from the ring once `rotate` (or `keys status`) says they seal nothing.")
    return EXIT_OK


def _ring_rows(keys: KeyRing, counts: dict[str, int]) -> list[tuple[str, str, str]]:
    rows = [
        (kid, "current" if position == 0 else "old", plural(counts.get(kid, 0), "user"))
        for position, kid in enumerate(keys.kids)
    ]
    rows += [
        (clean(kid, limit=20), "NOT IN RING", plural(n, "user")) for kid, n in counts.items() if kid not in keys.kids
    ]
    return rows


async def status(store: Store, keys: KeyRing) -> int:
    """Print each key of the ring (and any unknown one) with how many users' tokens it seals."""
    credentials = await store.list_spotify_credentials()
    counts = census(credentials)
    say(f"{plural(len(keys.kids), 'key')} in SPOTIFY_MCP_SECRET_KEY; {plural(len(credentials), 'user')} stored.")
    say(table(("KEY ID", "ROLE", "SEALS TOKENS OF"), _ring_rows(keys, counts)))
    stale = [creds for creds in credentials if kids_of(creds) != {keys.current_kid}]
    lost = [creds.user_id for creds in credentials if not kids_of(creds) <= set(keys.kids)]
    if lost:
        say(
            f"{plural(len(lost), 'user')} sealed under keys not in the ring cannot be served: put the key back, or "
            "disconnect them (`spotify-mcp admin users disconnect`) so they connect again."
        )
    if len(stale) > len(lost):
        say("Not everything is under the current key: run `spotify-mcp admin keys rotate`.")
    elif not lost:
        say("Everything stored is under the current key.")
    unused = [kid for kid in keys.kids[1:] if not counts.get(kid)]
    if unused and len(stale) == len(lost):
        say(f"Old key {', '.join(unused)} seals nothing stored: it may be removed from the ring on every replica.")
        say(PENDING_SIGN_INS)
    return EXIT_OK


async def rotate(store: Store, keys: KeyRing) -> int:
    """Re-seal every user's Spotify tokens under the current key, then say which old keys may go."""
    report = await rotate_all(store, keys)
    say(f"Current key: {keys.current_kid} (first in SPOTIFY_MCP_SECRET_KEY).")
    say(
        f"Re-sealed {plural(report.count(Outcome.RESEALED), 'user')}; "
        f"{report.count(Outcome.CURRENT)} already under the current key; "
        f"{report.count(Outcome.GONE)} disconnected meanwhile."
    )
    if report.users[Outcome.BUSY]:
        warn(
            f"{plural(report.count(Outcome.BUSY), 'user')} changed on every attempt (a server kept writing them): "
            f"{', '.join(clean(u) for u in report.users[Outcome.BUSY])}; run `spotify-mcp admin keys rotate` again"
        )
    if report.users[Outcome.UNREADABLE]:
        warn(
            f"{plural(report.count(Outcome.UNREADABLE), 'user')} cannot be opened with this ring (sealed by a key "
            f"not in it): {', '.join(clean(u) for u in report.users[Outcome.UNREADABLE])}; they are left as they are"
        )
    counts = census(await store.list_spotify_credentials())
    for kid in keys.kids[1:]:
        if counts.get(kid, 0):
            say(f"Old key {kid} still seals the tokens of {plural(counts[kid], 'user')}: keep it in the ring.")
        else:
            say(f"Old key {kid} seals nothing stored any more: it may be removed from the ring on every replica.")
            say(PENDING_SIGN_INS)
    return EXIT_OK if report.complete else EXIT_FAILED
