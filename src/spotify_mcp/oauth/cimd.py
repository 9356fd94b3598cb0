"""Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document): SSRF-safe fetch and cache.

A URL ``client_id`` names a JSON document describing the client. Fetching it is a request our server
makes to an address an anonymous party chose, so: the host is resolved once, every address it
resolves to must be public, and the request goes to that checked address (``Host`` header and TLS
SNI carry the name), so a DNS rebind between check and connect cannot redirect it. No redirects are
followed, the body is capped (5 KB by default) and the whole fetch is time-boxed.
"""

from __future__ import annotations

import email.utils
import ipaddress
import re
import socket
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC

import anyio
import httpx2

from spotify_mcp.clock import Clock
from spotify_mcp.oauth.client_metadata import (
    ClientMetadata,
    ClientMetadataError,
    decode_metadata_json,
    parse_client_metadata,
)
from spotify_mcp.oauth.redirects import InvalidRedirectURI, URIParts, split_uri

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[Sequence[IPAddress]]]

MAX_CONNECT_ATTEMPTS = 3

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_LOOPBACK_V4 = ipaddress.IPv4Network("127.0.0.0/8")
_DIGITS = re.compile(r"[0-9]+")


class CIMDError(Exception):
    """A client metadata document could not be used; ``description`` is safe to show to a user."""

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


def is_cimd_client_id(client_id: str) -> bool:
    """True if ``client_id`` is a metadata document URL: https, a non-root path, no query or fragment."""
    return isinstance(client_id, str) and client_id.startswith("https://") and _url_parts(client_id) is not None


def is_public_address(address: IPAddress) -> bool:
    """True if ``address`` is globally routable unicast (IPv4 embedded in IPv6 is judged as IPv4)."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return is_public_address(embedded)
    return address.is_global and not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


async def system_resolver(host: str, port: int) -> Sequence[IPAddress]:
    """Resolve ``host`` with the system resolver (in a worker thread)."""
    infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [ipaddress.ip_address(str(info[4][0]).partition("%")[0]) for info in infos]


class CIMDFetcher:
    """Fetches, validates and caches client metadata documents.

    Give it a dedicated HTTP/1.1 ``httpx2.AsyncClient`` (no default auth headers, no cookies, not
    shared): every fetch sends ``Connection: close`` so that no pooled connection, verified for one
    name, is reused for another. ``allow_private_addresses`` and ``allow_http_loopback`` are for
    development and tests only; the latter accepts ``http://127.0.0.1:PORT/...`` (or ``[::1]``)
    client_ids, whose address is loopback by construction and so not checked.
    """

    def __init__(
        self,
        http: httpx2.AsyncClient,
        clock: Clock,
        *,
        allow_private_addresses: bool = False,
        allow_http_loopback: bool = False,
        max_bytes: int = 5120,
        timeout: float = 5.0,
        min_cache_seconds: int = 60,
        max_cache_seconds: int = 86400,
        max_entries: int = 1000,
        resolver: Resolver = system_resolver,
    ) -> None:
        self._http = http
        self._clock = clock
        self._allow_private = allow_private_addresses
        self._allow_http_loopback = allow_http_loopback
        self._max_bytes = max_bytes
        self._timeout = timeout
        self._min_cache = min_cache_seconds
        self._max_cache = max_cache_seconds
        self._max_entries = max_entries
        self._resolver = resolver
        self._cache: OrderedDict[str, tuple[ClientMetadata, float]] = OrderedDict()

    async def get(self, client_id: str) -> ClientMetadata:
        """Return the validated metadata for ``client_id``, from cache or freshly fetched; raise CIMDError."""
        cached = self._cached(client_id)
        if cached is not None:
            return cached
        parts = self._target(client_id)
        try:
            with anyio.fail_after(self._timeout):
                metadata, lifetime = await self._fetch(client_id, parts)
        except TimeoutError:
            raise CIMDError("fetching the client metadata document timed out") from None
        if lifetime is not None:
            self._remember(client_id, metadata, self._clock.now() + lifetime)
        return metadata

    def _target(self, client_id: str) -> URIParts:
        parts = _url_parts(client_id) if isinstance(client_id, str) else None
        if parts is None:
            raise CIMDError("the client_id is not a valid metadata document URL (https, a path, no query or fragment)")
        if client_id.startswith("https://"):
            return parts
        if self._allow_http_loopback and client_id.startswith("http://") and _is_loopback_literal(parts.host):
            return parts
        raise CIMDError("the client_id must be an https URL")

    async def _fetch(self, client_id: str, parts: URIParts) -> tuple[ClientMetadata, float | None]:
        assert parts.host is not None
        port = parts.port or (443 if parts.scheme == "https" else 80)
        literal = _ip_literal(parts.host)
        addresses = [literal] if literal is not None else await self._resolve(parts.host, port)
        dev_loopback = parts.scheme == "http"
        if not (self._allow_private or dev_loopback) and not all(is_public_address(a) for a in addresses):
            raise CIMDError("the client_id's host resolves to a private or reserved address")
        headers = {
            "Host": parts.host if parts.port is None else f"{parts.host}:{parts.port}",
            "Accept": "application/json",
            "Accept-Encoding": "identity",
            # A pooled connection to this IP may have been verified for another name: never reuse one.
            "Connection": "close",
        }
        extensions = {"sni_hostname": parts.host} if parts.scheme == "https" and literal is None else {}
        for address in addresses[:MAX_CONNECT_ATTEMPTS]:
            netloc = f"[{address}]" if address.version == 6 else str(address)
            url = f"{parts.scheme}://{netloc}:{port}{parts.path}"
            try:
                return await self._fetch_from(url, headers, extensions, client_id)
            except httpx2.ConnectError:
                continue
            except httpx2.TimeoutException:
                raise CIMDError("fetching the client metadata document timed out") from None
            except httpx2.HTTPError:
                raise CIMDError("the client metadata document could not be fetched") from None
        raise CIMDError("could not connect to the client_id's host")

    async def _resolve(self, host: str, port: int) -> list[IPAddress]:
        try:
            addresses = list(dict.fromkeys(await self._resolver(host, port)))
        except (OSError, UnicodeError, ValueError):
            addresses = []
        if not addresses:
            raise CIMDError("the client_id's host could not be resolved")
        return addresses

    async def _fetch_from(
        self, url: str, headers: dict[str, str], extensions: dict[str, str], client_id: str
    ) -> tuple[ClientMetadata, float | None]:
        body = bytearray()
        async with self._http.stream(
            "GET", url, headers=headers, extensions=extensions, follow_redirects=False, timeout=self._timeout
        ) as response:
            if 300 <= response.status_code < 400:
                raise CIMDError("the client metadata URL answered with a redirect, which is not followed")
            if response.status_code != 200:
                raise CIMDError(f"the client metadata URL answered HTTP {response.status_code}, not 200")
            if not _is_json_media_type(response.headers.get("content-type", "")):
                raise CIMDError("the client metadata document is not served as application/json")
            if response.headers.get("content-encoding", "identity").strip().lower() not in ("", "identity"):
                raise CIMDError("the client metadata document must not be compressed")
            declared = _non_negative_int(response.headers.get("content-length"))
            if declared is not None and declared > self._max_bytes:
                raise CIMDError(f"the client metadata document is larger than {self._max_bytes} bytes")
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > self._max_bytes:
                    raise CIMDError(f"the client metadata document is larger than {self._max_bytes} bytes")
            lifetime = self._lifetime(response.headers)
        try:
            metadata = parse_client_metadata(_decode_json(bytes(body)), cimd_client_id=client_id)
        except ClientMetadataError as exc:
            raise CIMDError(f"the client metadata document is invalid: {exc.description}") from None
        return metadata, lifetime

    def _lifetime(self, headers: httpx2.Headers) -> float | None:
        """Seconds to cache for, from Cache-Control / Expires clamped to our bounds; None to not cache."""
        directives: dict[str, str | None] = {}
        for item in headers.get_list("cache-control", split_commas=True):
            name, eq, value = item.partition("=")
            directives.setdefault(name.strip().lower(), value.strip().strip('"') if eq else None)
        if "no-store" in directives or "no-cache" in directives:
            return None
        age = _non_negative_int(headers.get("age")) or 0
        lifetime: float
        if "max-age" in directives:
            lifetime = (_non_negative_int(directives["max-age"]) or 0) - age
        elif "expires" in headers:
            expires = _http_date(headers["expires"])
            date = _http_date(headers.get("date", "")) or self._clock.now()
            lifetime = 0 if expires is None else expires - date
        else:
            lifetime = self._min_cache
        lifetime = min(max(lifetime, self._min_cache), self._max_cache)
        return lifetime if lifetime > 0 else None

    def _cached(self, client_id: str) -> ClientMetadata | None:
        entry = self._cache.get(client_id)
        if entry is None:
            return None
        metadata, expires_at = entry
        if self._clock.now() >= expires_at:
            del self._cache[client_id]
            return None
        self._cache.move_to_end(client_id)
        return metadata

    def _remember(self, client_id: str, metadata: ClientMetadata, expires_at: float) -> None:
        self._cache[client_id] = (metadata, expires_at)
        self._cache.move_to_end(client_id)
        while len(self._cache) > self._max_entries:
            self._cache.popitem(last=False)


def _url_parts(client_id: str) -> URIParts | None:
    try:
        parts = split_uri(client_id)
    except InvalidRedirectURI:
        return None
    if parts.host is None or parts.query is not None or parts.fragment is not None or parts.path in ("", "/"):
        return None
    return parts


def _ip_literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def _is_loopback_literal(host: str | None) -> bool:
    address = _ip_literal(host or "")
    if isinstance(address, ipaddress.IPv4Address):
        return address in _LOOPBACK_V4
    return address == ipaddress.IPv6Address("::1")


def _is_json_media_type(content_type: str) -> bool:
    media_type = content_type.partition(";")[0].strip().lower()
    return media_type == "application/json" or (media_type.startswith("application/") and media_type.endswith("+json"))


def _non_negative_int(value: str | None) -> int | None:
    if value is None or not _DIGITS.fullmatch(value.strip()):
        return None
    digits = value.strip().lstrip("0") or "0"
    return int(digits) if len(digits) <= 15 else 10**15


def _http_date(value: str) -> float | None:
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def _decode_json(body: bytes) -> object:
    try:
        return decode_metadata_json(body)
    except ClientMetadataError:
        raise CIMDError("the client metadata document is not valid JSON") from None
