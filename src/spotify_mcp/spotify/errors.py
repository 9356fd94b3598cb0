"""What can go wrong talking to Spotify; no message here ever carries a token."""

from __future__ import annotations


class SpotifyAuthError(Exception):
    """The accounts service refused a token request (``error`` is the RFC 6749 code, e.g. invalid_grant)."""

    def __init__(self, error: str, description: str | None = None, status: int | None = None) -> None:
        self.error = error
        self.description = description
        self.status = status
        detail = f": {description}" if description else ""
        super().__init__(f"Spotify accounts error {error}{detail} (HTTP {status})")


class ReconnectRequired(Exception):
    """The user's Spotify consent is gone (revoked, expired, or never stored); they must sign in again."""

    def __init__(self, user_id: str, reason: str = "no usable Spotify authorization is stored") -> None:
        self.user_id = user_id
        self.reason = reason
        super().__init__(f"Spotify user {user_id} must reconnect: {reason}")


class SpotifyAPIError(Exception):
    """The Web API answered with an error object (``reason`` is set for player and quota errors)."""

    def __init__(self, status: int, message: str, reason: str | None = None, retry_after: float | None = None) -> None:
        self.status = status
        self.message = message
        self.reason = reason
        self.retry_after = retry_after
        suffix = f" [{reason}]" if reason else ""
        super().__init__(f"Spotify API error {status}: {message}{suffix}")


class SpotifyUnavailable(Exception):
    """Spotify could not be reached in time (timeout, connection failure, or a server-side outage)."""
