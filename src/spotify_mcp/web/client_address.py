"""Which address a request comes from: the connection's peer, or what a trusted reverse proxy says it is.

``X-Forwarded-For`` is read only when the direct peer is inside ``SPOTIFY_MCP_TRUSTED_PROXIES``. Each proxy
appends the address it received the request from, so the list is trustworthy only from the right: walking
it right to left, every address a trusted proxy wrote is skipped, and the first one that is not a trusted
proxy is the client (anything to its left was written by that client and may be forged). If every entry
is a trusted proxy, the left-most one is the client; an entry that is not an IP address (``unknown``,
obfuscated names) stops the walk at the last trusted hop, so garbage never becomes a key of its own.
Without trusted proxies (the default), forwarding headers are ignored entirely; ``Forwarded`` (RFC 7239)
is never read.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from starlette.datastructures import Headers
from starlette.types import Scope

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

MAX_FORWARDED_HOPS = 32
"""How many X-Forwarded-For entries are examined at most, from the right (bounded work per request)."""


def parse_proxy_networks(values: Iterable[str]) -> tuple[str, ...]:
    """Validate trusted proxies (IPs or CIDR networks) and return them normalised; ValueError names a bad one."""
    networks: list[str] = []
    for value in values:
        text = value.strip()
        try:
            network = ipaddress.ip_network(text, strict=False)
        except ValueError:
            raise ValueError(
                f"{text!r} is not an IP address or CIDR network (examples: 10.0.0.5, 10.0.0.0/8, fd00::/8)"
            ) from None
        if str(network) not in networks:
            networks.append(str(network))
    return tuple(networks)


def parse_address(text: str) -> IPAddress | None:
    """Read one address as proxies write it (``1.2.3.4``, ``1.2.3.4:80``, ``2001:db8::1``, ``[2001:db8::1]:80``)."""
    text = text.strip().strip('"')
    if text.startswith("["):
        text, closed, port = text[1:].partition("]")
        if not closed or (port and not (port.startswith(":") and _is_port(port[1:]))):
            return None
    elif text.count(":") == 1:
        text, _, port = text.partition(":")
        if not _is_port(port):
            return None
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _is_port(text: str) -> bool:
    return text.isascii() and text.isdigit() and len(text) <= 5


class ClientAddresses:
    """Tells the client address of a request, trusting ``X-Forwarded-For`` only from the given proxies."""

    def __init__(self, trusted_proxies: Iterable[str] = ()) -> None:
        self._trusted = tuple(ipaddress.ip_network(network, strict=False) for network in trusted_proxies)

    def is_trusted(self, address: IPAddress) -> bool:
        """Whether an address is one of the trusted proxies."""
        return any(address in network for network in self._trusted)

    def of(self, scope: Scope) -> str:
        """The client address of a request, as text (the peer's host as given if it is not an IP address)."""
        client = scope.get("client")
        host = str(client[0]) if client else ""
        peer = parse_address(host)
        if peer is None:
            return host or "unknown"
        if not self._trusted or not self.is_trusted(peer):
            return str(peer)
        return str(self._forwarded_client(Headers(scope=scope), peer))

    def _forwarded_client(self, headers: Headers, peer: IPAddress) -> IPAddress:
        """Walk X-Forwarded-For from the right past trusted proxies; ``peer`` is itself trusted."""
        entries = [entry for value in headers.getlist("x-forwarded-for") for entry in value.split(",")]
        last_trusted = peer
        for entry in reversed(entries[-MAX_FORWARDED_HOPS:]):
            if not entry.strip():
                continue
            address = parse_address(entry)
            if address is None:
                return last_trusted
            if not self.is_trusted(address):
                return address
            last_trusted = address
        return last_trusted
