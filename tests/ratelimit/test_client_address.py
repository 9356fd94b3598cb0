"""The client address: the peer, unless a trusted proxy forwarded the request; forged headers never win."""

from __future__ import annotations

import pytest
from starlette.types import Scope

from spotify_mcp.web.client_address import MAX_FORWARDED_HOPS, ClientAddresses, parse_address
from spotify_mcp.web.ratelimit import address_subject, rate_key

PROXIES = ("10.0.0.0/8", "fd00::/8")


def scope(peer: str | None, *forwarded: str, port: int = 40000) -> Scope:
    """An HTTP scope from ``peer`` carrying one X-Forwarded-For header per item of ``forwarded``."""
    headers = [(b"x-forwarded-for", value.encode()) for value in forwarded]
    return {"type": "http", "client": None if peer is None else (peer, port), "headers": headers}


# -- no trusted proxies: forwarding headers are ignored ---------------------------------------------
@pytest.mark.parametrize("forwarded", [(), ("1.2.3.4",), ("1.2.3.4, 10.0.0.1",), ("203.0.113.9", "198.51.100.7")])
def test_without_trusted_proxies_the_peer_is_the_client_whatever_the_headers_say(forwarded: tuple[str, ...]) -> None:
    assert ClientAddresses().of(scope("192.0.2.10", *forwarded)) == "192.0.2.10"


def test_a_peer_outside_the_trusted_proxies_cannot_forward() -> None:
    addresses = ClientAddresses(PROXIES)
    assert addresses.of(scope("192.0.2.10", "203.0.113.9")) == "192.0.2.10"
    assert addresses.of(scope("192.0.2.10", "10.0.0.7")) == "192.0.2.10"


# -- behind trusted proxies ------------------------------------------------------------------------
def test_a_trusted_proxy_names_the_client() -> None:
    assert ClientAddresses(PROXIES).of(scope("10.0.0.2", "203.0.113.9")) == "203.0.113.9"


def test_addresses_the_client_prepended_are_ignored() -> None:
    # The client sent "X-Forwarded-For: 1.1.1.1, 10.9.9.9"; our proxy appended the address it saw.
    addresses = ClientAddresses(PROXIES)
    assert addresses.of(scope("10.0.0.2", "1.1.1.1, 10.9.9.9, 203.0.113.9")) == "203.0.113.9"
    assert addresses.of(scope("10.0.0.2", "1.1.1.1", "203.0.113.9")) == "203.0.113.9"


def test_a_chain_of_trusted_proxies_is_walked_from_the_right() -> None:
    addresses = ClientAddresses(PROXIES)
    assert addresses.of(scope("10.0.0.2", "8.8.8.8, 203.0.113.9, 10.1.1.1, 10.2.2.2")) == "203.0.113.9"
    assert addresses.of(scope("10.0.0.2", "8.8.8.8, 203.0.113.9", "10.1.1.1")) == "203.0.113.9"


def test_when_every_hop_is_a_trusted_proxy_the_left_most_is_the_client() -> None:
    addresses = ClientAddresses(PROXIES)
    assert addresses.of(scope("10.0.0.2", "10.3.3.3, 10.1.1.1")) == "10.3.3.3"
    assert addresses.of(scope("10.0.0.2")) == "10.0.0.2"
    assert addresses.of(scope("10.0.0.2", "")) == "10.0.0.2"


@pytest.mark.parametrize("garbage", ["unknown", "_hidden", "evil.example", "1.2.3.4.5", "<script>", "\u0661.1.1.1"])
def test_an_entry_that_is_not_an_address_stops_at_the_last_trusted_hop(garbage: str) -> None:
    addresses = ClientAddresses(PROXIES)
    assert addresses.of(scope("10.0.0.2", f"203.0.113.9, {garbage}")) == "10.0.0.2"
    assert addresses.of(scope("10.0.0.2", f"203.0.113.9, {garbage}, 10.1.1.1")) == "10.1.1.1"


def test_ports_brackets_quotes_and_mapped_addresses_are_read() -> None:
    addresses = ClientAddresses(PROXIES)
    assert addresses.of(scope("10.0.0.2", "203.0.113.9:5555")) == "203.0.113.9"
    assert addresses.of(scope("10.0.0.2", "[2001:db8::1]:443")) == "2001:db8::1"
    assert addresses.of(scope("10.0.0.2", '"2001:db8::2"')) == "2001:db8::2"
    assert addresses.of(scope("10.0.0.2", "::ffff:203.0.113.9")) == "203.0.113.9"
    assert addresses.of(scope("::ffff:10.0.0.2", "203.0.113.9")) == "203.0.113.9"  # a mapped trusted peer
    assert addresses.of(scope("fd00::1", "2001:db8::3")) == "2001:db8::3"


def test_a_mapped_address_does_not_slip_past_the_trust_check() -> None:
    # ::ffff:10.0.0.2 is 10.0.0.2, which is trusted; ::ffff:192.0.2.1 is not, so its header is ignored.
    assert ClientAddresses(PROXIES).of(scope("::ffff:192.0.2.1", "203.0.113.9")) == "192.0.2.1"


def test_a_very_long_header_is_read_only_from_the_right() -> None:
    hops = ", ".join(["10.0.0.9"] * (MAX_FORWARDED_HOPS + 10))
    assert ClientAddresses(PROXIES).of(scope("10.0.0.2", f"203.0.113.9, {hops}")) == "10.0.0.9"


def test_a_peer_that_is_not_an_ip_address_is_its_own_client() -> None:
    assert ClientAddresses(PROXIES).of(scope("testclient", "203.0.113.9")) == "testclient"
    assert ClientAddresses(PROXIES).of(scope(None, "203.0.113.9")) == "unknown"


def test_parse_address_refuses_what_is_not_one_address() -> None:
    for text in ("", "1.2.3", "1.2.3.4:80:90", "[::1", "example.com:80", "1.2.3.4/32"):
        assert parse_address(text) is None, text


# -- what the limiter counts -----------------------------------------------------------------------
def test_ipv6_clients_are_counted_per_64_network_and_ipv4_per_address() -> None:
    assert address_subject("2001:db8:1:2:aaaa::1") == address_subject("2001:db8:1:2:bbbb::2") == "2001:db8:1:2::/64"
    assert address_subject("2001:db8:1:3::1") != address_subject("2001:db8:1:2::1")
    assert address_subject("203.0.113.9") == "203.0.113.9"
    assert address_subject("testclient") == "testclient"


def test_long_subjects_are_hashed_to_fit_the_store() -> None:
    assert rate_key("token", "203.0.113.9") == "token:203.0.113.9"
    long = rate_key("tools", "u" * 300)
    assert long.startswith("tools:sha256:")
    assert len(long) <= 200
    assert long != rate_key("tools", "u" * 301)
