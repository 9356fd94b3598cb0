"""Client metadata (RFC 7591 registration bodies and Client ID Metadata Documents), validated.

Policy decisions:

* ``token_endpoint_auth_method`` defaults to ``client_secret_basic`` for /register, as RFC 7591 §2
  says; public clients must ask for ``none`` (MCP clients do). A metadata document (CIMD) may only
  use ``none``, which is also its default, since it cannot hold a shared secret.
* ``application_type``, when omitted, is inferred: ``native`` if any redirect URI is loopback or a
  private-use scheme, ``web`` otherwise (2025-era clients do not send it). ``web`` clients need
  https redirect URIs on non-loopback hosts (SEP-837).
* JSON ``null`` counts as absent; unknown fields are ignored; duplicates in lists are dropped.
* Informational URLs (``client_uri``, ``logo_uri``, ``tos_uri``, ``policy_uri``) must be https (or
  http on loopback); they are shown as links, never fetched.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from spotify_mcp.oauth.redirects import (
    InvalidRedirectURI,
    is_loopback_redirect,
    is_private_use_redirect,
    validate_registered_redirect_uri,
    validate_web_url,
)

MAX_REDIRECT_URIS = 10
MAX_NAME_LENGTH = 200
MAX_CONTACTS = 10
MAX_CONTACT_LENGTH = 320
MAX_SCOPES = 50
MAX_SCOPE_TOKEN_LENGTH = 200

DEFAULT_GRANT_TYPES = ("authorization_code", "refresh_token")
SUPPORTED_GRANT_TYPES = frozenset(DEFAULT_GRANT_TYPES)
DCR_AUTH_METHODS = frozenset({"none", "client_secret_basic", "client_secret_post"})
APPLICATION_TYPES = frozenset({"native", "web"})

_SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5B\x5D-\x7E]+")
_BIDI_CONTROLS = frozenset("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_URL_FIELDS = ("client_uri", "logo_uri", "tos_uri", "policy_uri")

ErrorCode = Literal["invalid_redirect_uri", "invalid_client_metadata"]


class ClientMetadataError(ValueError):
    """Metadata we refuse; ``error`` is the RFC 7591 error code, ``description`` is safe to show."""

    def __init__(self, error: ErrorCode, description: str) -> None:
        super().__init__(description)
        self.error: ErrorCode = error
        self.description = description


@dataclass(frozen=True, slots=True)
class ClientMetadata:
    """Validated client metadata, as registered or as read from a metadata document."""

    redirect_uris: tuple[str, ...]
    client_name: str | None = None
    client_uri: str | None = None
    logo_uri: str | None = None
    tos_uri: str | None = None
    policy_uri: str | None = None
    contacts: tuple[str, ...] = ()
    grant_types: tuple[str, ...] = DEFAULT_GRANT_TYPES
    response_types: tuple[str, ...] = ("code",)
    token_endpoint_auth_method: str = "client_secret_basic"
    scope: str | None = None
    application_type: str = "web"
    software_id: str | None = None
    software_version: str | None = None

    @property
    def is_public(self) -> bool:
        """True for clients that authenticate with no secret (``none``)."""
        return self.token_endpoint_auth_method == "none"

    def to_json_dict(self) -> dict[str, object]:
        """The metadata under RFC 7591 field names, leaving out absent values."""
        out: dict[str, object] = {
            "redirect_uris": list(self.redirect_uris),
            "grant_types": list(self.grant_types),
            "response_types": list(self.response_types),
            "token_endpoint_auth_method": self.token_endpoint_auth_method,
            "application_type": self.application_type,
        }
        if self.contacts:
            out["contacts"] = list(self.contacts)
        optional = {
            "client_name": self.client_name,
            "client_uri": self.client_uri,
            "logo_uri": self.logo_uri,
            "tos_uri": self.tos_uri,
            "policy_uri": self.policy_uri,
            "scope": self.scope,
            "software_id": self.software_id,
            "software_version": self.software_version,
        }
        out.update({key: value for key, value in optional.items() if value is not None})
        return out


def parse_client_metadata(raw: object, *, cimd_client_id: str | None = None) -> ClientMetadata:
    """Validate a registration body, or a metadata document if ``cimd_client_id`` is given; raise if invalid.

    ``raw`` is the decoded JSON. The caller bounds the body size before decoding it.
    """
    if not isinstance(raw, Mapping):
        raise _bad("client metadata must be a JSON object")
    fields = {key: value for key, value in raw.items() if isinstance(key, str) and value is not None}

    if cimd_client_id is not None:
        if fields.get("client_id") != cimd_client_id:
            raise _bad("the document's client_id must be exactly the URL it was fetched from")
        if "client_secret" in fields:
            raise _bad("a client metadata document must not contain a client_secret")

    redirect_uris = _redirect_uris(fields.get("redirect_uris"))
    grant_types = _string_list(fields, "grant_types", DEFAULT_GRANT_TYPES, limit=10)
    if not set(grant_types) <= SUPPORTED_GRANT_TYPES or "authorization_code" not in grant_types:
        raise _bad("grant_types must include authorization_code and may add only refresh_token")
    response_types = _string_list(fields, "response_types", ("code",), limit=10)
    if response_types != ("code",):
        raise _bad('response_types must be ["code"]')

    auth_method = _auth_method(fields, cimd=cimd_client_id is not None)
    application_type = _application_type(fields, redirect_uris)

    return ClientMetadata(
        redirect_uris=redirect_uris,
        client_name=_text(fields, "client_name", MAX_NAME_LENGTH),
        client_uri=_url(fields, "client_uri"),
        logo_uri=_url(fields, "logo_uri"),
        tos_uri=_url(fields, "tos_uri"),
        policy_uri=_url(fields, "policy_uri"),
        contacts=_contacts(fields),
        grant_types=grant_types,
        response_types=response_types,
        token_endpoint_auth_method=auth_method,
        scope=_scope(fields.get("scope")),
        application_type=application_type,
        software_id=_text(fields, "software_id", MAX_NAME_LENGTH),
        software_version=_text(fields, "software_version", MAX_NAME_LENGTH),
    )


def decode_metadata_json(raw: bytes) -> object:
    """Decode a metadata body strictly (UTF-8, no duplicate keys, no NaN/Infinity, bounded nesting); raise if not."""
    try:
        return json.loads(raw.decode("utf-8"), object_pairs_hook=_unique_keys, parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise _bad("the body is not valid JSON (UTF-8, no duplicate keys, no NaN or Infinity)") from None


def _unique_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("duplicate key")
    return result


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def _bad(description: str) -> ClientMetadataError:
    return ClientMetadataError("invalid_client_metadata", description)


def _bad_redirect(description: str) -> ClientMetadataError:
    return ClientMetadataError("invalid_redirect_uri", description)


def _redirect_uris(value: object) -> tuple[str, ...]:
    if value is None:
        raise _bad_redirect("redirect_uris is required")
    if not isinstance(value, list) or not all(isinstance(uri, str) for uri in value):
        raise _bad_redirect("redirect_uris must be an array of strings")
    uris = tuple(dict.fromkeys(value))
    if not 1 <= len(uris) <= MAX_REDIRECT_URIS:
        raise _bad_redirect(f"redirect_uris must list between 1 and {MAX_REDIRECT_URIS} URIs")
    for index, uri in enumerate(uris):
        try:
            validate_registered_redirect_uri(uri)
        except InvalidRedirectURI as exc:
            raise _bad_redirect(f"redirect_uris[{index}] is not allowed: {exc.reason}") from None
    return uris


def _string_list(fields: Mapping[str, object], name: str, default: tuple[str, ...], *, limit: int) -> tuple[str, ...]:
    value = fields.get(name)
    if value is None:
        return default
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value) or len(value) > limit:
        raise _bad(f"{name} must be an array of at most {limit} strings")
    return tuple(dict.fromkeys(value))


def _auth_method(fields: Mapping[str, object], *, cimd: bool) -> str:
    value = fields.get("token_endpoint_auth_method")
    if value is None:
        return "none" if cimd else "client_secret_basic"
    if not isinstance(value, str):
        raise _bad("token_endpoint_auth_method must be a string")
    if cimd and value != "none":
        raise _bad('a client metadata document must use token_endpoint_auth_method "none"')
    if value not in DCR_AUTH_METHODS:
        raise _bad("token_endpoint_auth_method must be none, client_secret_basic or client_secret_post")
    return value


def _application_type(fields: Mapping[str, object], redirect_uris: tuple[str, ...]) -> str:
    value = fields.get("application_type")
    native_uris = [uri for uri in redirect_uris if is_loopback_redirect(uri) or is_private_use_redirect(uri)]
    if value is None:
        return "native" if native_uris else "web"
    if not isinstance(value, str) or value not in APPLICATION_TYPES:
        raise _bad('application_type must be "native" or "web"')
    if value == "web" and native_uris:
        raise _bad_redirect("a web application's redirect URIs must use https on a non-loopback host")
    return value


def _text(fields: Mapping[str, object], name: str, limit: int) -> str | None:
    value = fields.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _bad(f"{name} must be a string")
    if not value.strip() or len(value) > limit:
        raise _bad(f"{name} must be between 1 and {limit} characters")
    if any(unicodedata.category(char) == "Cc" or char in _BIDI_CONTROLS for char in value):
        raise _bad(f"{name} must not contain control or bidirectional-override characters")
    return value


def _url(fields: Mapping[str, object], name: str) -> str | None:
    value = fields.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _bad(f"{name} must be a string")
    try:
        return validate_web_url(value)
    except InvalidRedirectURI as exc:
        raise _bad(f"{name} is not allowed: {exc.reason}") from None


def _contacts(fields: Mapping[str, object]) -> tuple[str, ...]:
    value = fields.get("contacts")
    if value is None:
        return ()
    if not isinstance(value, list) or len(value) > MAX_CONTACTS or not all(isinstance(c, str) for c in value):
        raise _bad(f"contacts must be an array of at most {MAX_CONTACTS} strings")
    checked = (_text({"contacts": item}, "contacts", MAX_CONTACT_LENGTH) for item in value)
    return tuple(dict.fromkeys(item for item in checked if item is not None))


def _scope(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise _bad("scope must be a space-separated string")
    tokens = tuple(dict.fromkeys(token for token in value.split(" ") if token))
    if len(tokens) > MAX_SCOPES:
        raise _bad(f"scope may list at most {MAX_SCOPES} scopes")
    for token in tokens:
        if len(token) > MAX_SCOPE_TOKEN_LENGTH or not _SCOPE_TOKEN.fullmatch(token):
            raise _bad("scope contains a malformed scope token (RFC 6749 §3.3)")
    return " ".join(tokens) or None
