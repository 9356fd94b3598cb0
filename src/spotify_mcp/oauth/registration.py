"""``/register``: RFC 7591 dynamic client registration for public and confidential clients."""

from __future__ import annotations

import json
import secrets

from starlette.requests import Request
from starlette.responses import Response

from spotify_mcp.crypto import hash_secret, new_secret
from spotify_mcp.oauth.body import BodyTooLarge, read_limited
from spotify_mcp.oauth.client_metadata import ClientMetadataError, decode_metadata_json, parse_client_metadata
from spotify_mcp.oauth.redirects import redirect_uri_allowed
from spotify_mcp.services import Runtime
from spotify_mcp.store.records import ClientRecord
from spotify_mcp.web.responses import json_response, oauth_error

MAX_REGISTRATION_BYTES = 16 * 1024
CLIENT_SECRET_PREFIX = "smcp_cs_"


class RegistrationEndpoint:
    """Validates client metadata, stores the client, and returns its credentials once."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime

    async def __call__(self, request: Request) -> Response:
        """Register a client."""
        services = self._runtime.services
        if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
            return oauth_error("invalid_client_metadata", "the registration body must be application/json")
        try:
            raw = await read_limited(request, MAX_REGISTRATION_BYTES)
        except BodyTooLarge:
            return oauth_error("invalid_client_metadata", "the registration body is too large", 413)
        try:
            metadata = parse_client_metadata(decode_metadata_json(raw))
        except ClientMetadataError as exc:
            return oauth_error(exc.error, exc.description)
        allowlist = services.settings.redirect_host_allowlist
        refused = [uri for uri in metadata.redirect_uris if not redirect_uri_allowed(uri, allowlist)]
        if refused:
            return oauth_error("invalid_redirect_uri", f"{refused[0]} is not on this server's redirect host allow-list")

        now = services.clock.now()
        client_id = "smcp_client_" + secrets.token_urlsafe(18)
        secret = None
        if metadata.token_endpoint_auth_method != "none":
            secret = new_secret(CLIENT_SECRET_PREFIX)
        record = ClientRecord(
            client_id=client_id,
            metadata_json=json.dumps(metadata.to_json_dict(), sort_keys=True),
            secret_hash=hash_secret(secret) if secret else None,
            created_at=now,
        )
        await services.store.add_client(record)
        response: dict[str, object] = {
            **metadata.to_json_dict(),
            "client_id": client_id,
            "client_id_issued_at": int(now),
        }
        if secret is not None:
            response["client_secret"] = secret
            response["client_secret_expires_at"] = 0
        return json_response(response, status=201)
