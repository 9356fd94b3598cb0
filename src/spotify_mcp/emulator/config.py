"""The emulated Spotify app registration: client credentials, redirect URIs, token lifetimes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1"})

KNOWN_SCOPES = frozenset(
    {
        "ugc-image-upload",
        "user-read-playback-state",
        "user-modify-playback-state",
        "user-read-currently-playing",
        "app-remote-control",
        "streaming",
        "playlist-read-private",
        "playlist-read-collaborative",
        "playlist-modify-private",
        "playlist-modify-public",
        "user-follow-modify",
        "user-follow-read",
        "user-read-playback-position",
        "user-top-read",
        "user-read-recently-played",
        "user-library-modify",
        "user-library-read",
        "user-read-email",
        "user-read-private",
        "user-personalized",
        "user-soa-link",
        "user-soa-unlink",
        "soa-manage-entitlements",
        "soa-manage-partner",
        "soa-create-partner",
    }
)


@dataclass(frozen=True)
class EmulatorConfig:
    """One Spotify app as registered in the developer dashboard, plus the accounts service's lifetimes.

    ``allow_listed_users`` is the dashboard's User Management list; ``None`` allow-lists every built-in
    test user except ``unlisted-user``. ``rotate_refresh_tokens`` makes confidential-client refreshes
    return a new refresh token (public PKCE clients always rotate, as Spotify's do).
    """

    client_id: str
    client_secret: str
    redirect_uris: Sequence[str]
    access_token_ttl: int = 3600
    refresh_token_lifetime: int = 180 * 24 * 3600
    rotate_refresh_tokens: bool = False
    allow_listed_users: Sequence[str] | None = None

    def __post_init__(self) -> None:
        if not self.client_id or not self.client_secret:
            raise ValueError("client_id and client_secret must not be empty")
        if isinstance(self.redirect_uris, str):
            raise TypeError("redirect_uris must be a sequence of URIs, not one string")

    def accepts_redirect_uri(self, uri: str) -> bool:
        """Whether ``uri`` matches a registered redirect URI the way Spotify matches them."""
        try:
            parts = urlsplit(uri)
            _ = parts.port  # raises ValueError on a malformed port
        except ValueError:
            return False
        if parts.hostname == "localhost" or parts.fragment:
            return False
        if uri in self.redirect_uris:
            return True
        if parts.scheme != "http" or parts.hostname not in LOOPBACK_HOSTS:
            return False
        for registered in self.redirect_uris:
            reg = urlsplit(registered)
            same = (reg.scheme, reg.hostname, reg.path, reg.query) == (
                "http",
                parts.hostname,
                parts.path,
                parts.query,
            )
            if same:
                return True
        return False
