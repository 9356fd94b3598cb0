"""Resolving a ``client_id`` to a client (registered, or a CIMD URL) and authenticating it.

Two kinds of client id are reserved for the account page (``account/``) and never resolve to a client here, so
/authorize, /token and /revoke refuse them and /register (which makes ``smcp_client_`` ids) cannot claim them:
``smcp_account`` (the page's own Spotify sign-ins) and ``smcp_patc_…`` (one per personal access token). A
personal access token authenticates itself instead: a request that names no client and carries a
``token=smcp_pat_…`` speaks for that token's client, which registered no grant type, so it can revoke the
token at /revoke and nothing else.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from urllib.parse import unquote

from starlette.datastructures import FormData
from starlette.requests import Request

from spotify_mcp.crypto import hash_secret, secrets_equal
from spotify_mcp.oauth.cimd import CIMDError, CIMDFetcher, is_cimd_client_id
from spotify_mcp.oauth.client_metadata import ClientMetadata, parse_client_metadata
from spotify_mcp.oauth.tokens import PAT_PREFIX
from spotify_mcp.store.base import Store

MAX_CLIENT_ID_LENGTH = 2000
ACCOUNT_CLIENT_ID = "smcp_account"
PAT_CLIENT_PREFIX = "smcp_patc_"
_TOKEN_HOLDER = ClientMetadata(redirect_uris=(), grant_types=(), token_endpoint_auth_method="none")


def is_pat_client_id(client_id: str) -> bool:
    """Whether a client id is that of a personal access token."""
    return client_id.startswith(PAT_CLIENT_PREFIX)


def is_reserved_client_id(client_id: str) -> bool:
    """Whether a client id belongs to the account page, which no OAuth endpoint may accept."""
    return client_id == ACCOUNT_CLIENT_ID or is_pat_client_id(client_id)


@dataclass(frozen=True, slots=True)
class Client:
    """A client we know, whichever way it became known."""

    client_id: str
    metadata: ClientMetadata
    secret_hash: str | None
    is_cimd: bool

    @property
    def is_public(self) -> bool:
        """Public clients (auth method ``none``) have no secret to present."""
        return self.secret_hash is None

    @property
    def display_name(self) -> str:
        """What to call the client on the consent page."""
        return self.metadata.client_name or self.client_id


class ClientLookupError(Exception):
    """The client could not be resolved; ``description`` is safe to show."""

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


class ClientAuthError(Exception):
    """Client authentication at /token or /revoke failed (RFC 6749 ``invalid_client``)."""

    def __init__(self, description: str, *, used_basic: bool = False) -> None:
        super().__init__(description)
        self.description = description
        self.used_basic = used_basic


class ClientRegistry:
    """Looks clients up in the store or fetches their metadata document."""

    def __init__(self, store: Store, cimd: CIMDFetcher) -> None:
        self._store = store
        self._cimd = cimd

    async def get(self, client_id: str) -> Client | None:
        """Return the client, None if unknown; raise ClientLookupError when a CIMD fetch fails."""
        if not client_id or len(client_id) > MAX_CLIENT_ID_LENGTH or is_reserved_client_id(client_id):
            return None
        if is_cimd_client_id(client_id) or client_id.startswith("http://"):
            try:
                metadata = await self._cimd.get(client_id)
            except CIMDError as exc:
                raise ClientLookupError(f"the client's metadata document could not be used: {exc}") from None
            return Client(client_id, metadata, None, is_cimd=True)
        record = await self._store.get_client(client_id)
        if record is None:
            return None
        metadata = parse_client_metadata(json.loads(record.metadata_json))
        return Client(client_id, metadata, record.secret_hash, is_cimd=False)

    async def authenticate(self, request: Request, form: FormData) -> Client:
        """Authenticate the client of a token or revocation request (basic, post, or none)."""
        basic = _basic_credentials(request)
        body_id = _form_str(form, "client_id")
        body_secret = _form_str(form, "client_secret")
        secret: str | None
        if basic is not None:
            client_id, secret = basic
            if body_id is not None and body_id != client_id:
                raise ClientAuthError("client_id in the body differs from the Authorization header", used_basic=True)
            if body_secret is not None:
                raise ClientAuthError("use one client authentication method, not two", used_basic=True)
        else:
            token = _form_str(form, "token")
            if body_id is None and body_secret is None and token is not None and token.startswith(PAT_PREFIX):
                return await self._token_holder(token)
            if body_id is None:
                raise ClientAuthError("client_id is required")
            client_id, secret = body_id, body_secret
        try:
            client = await self.get(client_id)
        except ClientLookupError as exc:
            raise ClientAuthError(exc.description, used_basic=basic is not None) from None
        if client is None:
            raise ClientAuthError("unknown client", used_basic=basic is not None)
        if client.is_public:
            if secret:
                raise ClientAuthError("this is a public client: send no client_secret", used_basic=basic is not None)
            return client
        if not secret or not secrets_equal(hash_secret(secret), client.secret_hash or ""):
            raise ClientAuthError("client authentication failed", used_basic=basic is not None)
        return client

    async def _token_holder(self, token: str) -> Client:
        """The client a personal access token speaks for (one no token has, if the token is unknown)."""
        record = await self._store.get_token(hash_secret(token))
        client_id = record.client_id if record is not None and is_pat_client_id(record.client_id) else PAT_CLIENT_PREFIX
        return Client(client_id, _TOKEN_HOLDER, None, is_cimd=False)


def _form_str(form: FormData, name: str) -> str | None:
    value = form.get(name)
    return value if isinstance(value, str) and value != "" else None


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise ClientAuthError("malformed Basic credentials", used_basic=True) from None
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        raise ClientAuthError("malformed Basic credentials", used_basic=True)
    return unquote(client_id), unquote(secret)
