"""Discovery documents: RFC 8414 authorization-server metadata and RFC 9728 protected-resource metadata.

Both advertise exactly what the endpoints enforce.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from spotify_mcp.scopes import OFFLINE_ACCESS
from spotify_mcp.settings import Settings
from spotify_mcp.web.responses import json_response

CLIENT_AUTH_METHODS = ["none", "client_secret_basic", "client_secret_post"]


def authorization_server_metadata(settings: Settings) -> dict[str, Any]:
    """The RFC 8414 document for our issuer."""
    base = settings.issuer
    return {
        "issuer": base,
        "authorization_endpoint": f"{base}/authorize",
        "token_endpoint": f"{base}/token",
        "registration_endpoint": f"{base}/register",
        "revocation_endpoint": f"{base}/revoke",
        "scopes_supported": [*settings.scopes, OFFLINE_ACCESS],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "token_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
        "revocation_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
        "code_challenge_methods_supported": ["S256"],
        "client_id_metadata_document_supported": True,
        "authorization_response_iss_parameter_supported": True,
        "service_documentation": f"{base}/",
    }


def protected_resource_metadata(settings: Settings) -> dict[str, Any]:
    """The RFC 9728 document for our one resource, the MCP endpoint."""
    return {
        "resource": settings.mcp_url,
        "authorization_servers": [settings.issuer],
        "scopes_supported": list(settings.scopes),
        "bearer_methods_supported": ["header"],
        "resource_name": "Spotify MCP server",
        "resource_documentation": f"{settings.issuer}/",
    }


def resource_metadata_url(settings: Settings) -> str:
    """Where the protected-resource metadata of ``/mcp`` lives (path-inserted, RFC 9728 §3.1)."""
    return f"{settings.issuer}/.well-known/oauth-protected-resource/mcp"


class MetadataEndpoint:
    """Serves one precomputed, publicly cacheable JSON document; read-only (405 for any other method)."""

    def __init__(self, document: dict[str, Any]) -> None:
        self._document = document

    async def __call__(self, request: Request) -> Response:
        """Return the document."""
        if request.method not in ("GET", "HEAD"):
            return Response(status_code=405, headers={"Allow": "GET, HEAD"})
        return json_response(self._document, secret=False, headers={"Cache-Control": "public, max-age=3600"})
