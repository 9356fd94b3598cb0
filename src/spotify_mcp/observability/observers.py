"""What the server reports as it works; these base classes record nothing.

Components take an observer (defaulting to one of these) so that they need no metrics library and their
tests no registry; ``spotify_mcp.observability.metrics`` implements them with Prometheus.
"""

from __future__ import annotations

import json

from starlette.responses import Response

#: RFC 6749 §5.2 / RFC 8707 error codes /token answers with; anything else is counted as ``other``.
TOKEN_ERRORS = frozenset(
    {
        "invalid_request",
        "invalid_client",
        "invalid_grant",
        "unauthorized_client",
        "unsupported_grant_type",
        "invalid_scope",
        "invalid_target",
        "server_error",
        "temporarily_unavailable",
    }
)


class OAuthObserver:
    """The authorization funnel: /authorize, /consent, /callback, /token."""

    def authorize(self, *, accepted: bool) -> None:
        """An authorization request was accepted (sent on to consent) or refused."""

    def consent(self, decision: str) -> None:
        """A person decided on the consent page: ``approved`` or ``denied``."""

    def callback(self, outcome: str) -> None:
        """Spotify's redirect ended in ``success``, ``denied`` or ``error``."""

    def token_issued(self, grant_type: str) -> None:
        """Tokens were issued for a grant type."""

    def token_refused(self, error: str) -> None:
        """A token request was refused with an OAuth error code."""

    def token(self, response: Response, grant_type: str | None = None) -> Response:
        """Count a /token answer (issued for ``grant_type`` on 200, else refused by its error) and return it."""
        if response.status_code == 200 and grant_type is not None:
            self.token_issued(grant_type)
        else:
            self.token_refused(token_error(response))
        return response


def token_error(response: Response) -> str:
    """The OAuth ``error`` of a /token error response, bounded to the known codes (else ``other``)."""
    try:
        body = json.loads(bytes(response.body))
    except (ValueError, TypeError, AttributeError):
        return "other"
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, str) and error in TOKEN_ERRORS else "other"


class ToolObserver:
    """MCP tool calls."""

    def tool_call(self, tool: str, outcome: str, seconds: float) -> None:
        """A tool call ended ``ok`` or ``error`` after ``seconds``."""


class SpotifyObserver:
    """Calls to Spotify's Web API and accounts service."""

    def request(self, method: str, path: str, status: str, seconds: float) -> None:
        """One HTTP attempt to the Web API ended with ``status`` (a code, or ``timeout``/``connection``)."""

    def retry(self, reason: str) -> None:
        """An attempt is being retried: ``429``, ``5xx``, ``connection`` or ``401`` (after a token refresh)."""

    def rate_limited(self) -> None:
        """Spotify answered 429."""

    def token_refresh(self, outcome: str) -> None:
        """A user's Spotify token refresh ended ``ok``, ``invalid_grant`` or ``error``."""


NO_OAUTH = OAuthObserver()
NO_TOOLS = ToolObserver()
NO_SPOTIFY = SpotifyObserver()
