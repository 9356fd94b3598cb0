"""Building redirects back to an MCP client: always with ``state`` and ``iss`` (RFC 9207)."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from starlette.responses import Response

from spotify_mcp.web.responses import redirect


def client_redirect_url(redirect_uri: str, params: dict[str, str | None]) -> str:
    """Add parameters to the client's redirect URI, keeping any query it registered."""
    parts = urlsplit(redirect_uri)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query.extend((k, v) for k, v in params.items() if v is not None)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


def redirect_to_client(
    redirect_uri: str, *, issuer: str, state: str | None, https: bool, **params: str | None
) -> Response:
    """302 the browser back to the client with ``params``, ``state`` and ``iss``."""
    return redirect(client_redirect_url(redirect_uri, {**params, "state": state, "iss": issuer}), https=https)
