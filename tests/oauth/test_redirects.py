"""Redirect URI registration rules and /authorize matching (catalogue B2–B7, C3–C5)."""

from __future__ import annotations

import pytest

from spotify_mcp.oauth.redirects import (
    InvalidRedirectURI,
    is_loopback_redirect,
    is_private_use_redirect,
    redirect_host,
    redirect_uri_matches,
    split_uri,
    validate_registered_redirect_uri,
    validate_web_url,
)


@pytest.mark.parametrize(
    "uri",
    [
        "https://app.example/cb",
        "https://app.example:8443/oauth/callback?tenant=a",
        "https://192.0.2.10/cb",
        "https://[2001:db8::1]/cb",
        "http://127.0.0.1/cb",  # B4
        "http://127.0.0.1:51004/callback",
        "http://127.10.0.3/cb",
        "http://[::1]/cb",  # B4
        "http://localhost:3000/callback",
        "com.example.app:/oauth2redirect",
        "com.example.app://callback/path",
        "https://xn--pple-43d.example/cb",
    ],
)
def test_an_acceptable_redirect_uri_is_returned_unchanged(uri: str) -> None:
    assert validate_registered_redirect_uri(uri) == uri


@pytest.mark.parametrize(
    "uri",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "data:text/html,<b>x</b>",
        "file:///etc/passwd",
        "vbscript:x",
    ],
)
def test_a_javascript_redirect_uri_is_refused(uri: str) -> None:
    # B2
    with pytest.raises(InvalidRedirectURI, match="scheme is not allowed"):
        validate_registered_redirect_uri(uri)


@pytest.mark.parametrize(
    "uri", ["http://app.example/cb", "http://127.0.0.1.nip.io/cb", "http://localhost.evil.example/cb"]
)
def test_a_plain_http_redirect_uri_off_loopback_is_refused(uri: str) -> None:
    # B3
    with pytest.raises(InvalidRedirectURI, match="loopback"):
        validate_registered_redirect_uri(uri)


def test_a_redirect_uri_with_a_fragment_is_refused() -> None:
    # B5
    with pytest.raises(InvalidRedirectURI, match="fragment"):
        validate_registered_redirect_uri("https://a.example/cb#x")


@pytest.mark.parametrize("uri", ["", "/cb", "cb", "//evil.example/cb", "?x=1"])
def test_a_relative_or_empty_redirect_uri_is_refused(uri: str) -> None:
    # B6
    with pytest.raises(InvalidRedirectURI):
        validate_registered_redirect_uri(uri)


@pytest.mark.parametrize(
    "uri",
    [
        "https://*.a.example/cb",  # B7 wildcard
        "https://good.example@evil.example/cb",  # B7 userinfo
        "https://user:pw@a.example/cb",
        "https://a.example\\@evil.example/cb",  # B7 backslash
        "https://a.example/cb\r\nSet-Cookie:x",  # B7 CR/LF
        "https://a.example/c b",  # B7 space
        " https://a.example/cb",
        "https://a.example/cb\t",
        "https://a.example/cb\x00",
        "https://аpple.example/cb",  # B7 IDN homograph (Cyrillic а)
        "https://a.example/caf\u00e9",
        "https://a.example/cb\u202e",
        "https://a.example/%zz",
        "https://a.example/cb/../admin",
        "https://a.example/%2e%2e/admin",
        "https://a.example:0/cb",
        "https://a.example:65536/cb",
        "https://a.example:/cb",
        "https:///cb",
        "https://0x7f.1/cb",
        "https://2130706433/cb",
        "https://[fe80::1%25eth0]/cb",
        "https://a_b.example/cb",
        "http://[::ffff:127.0.0.1]/cb",
    ],
)
def test_a_tricky_redirect_uri_is_refused(uri: str) -> None:
    with pytest.raises(InvalidRedirectURI):
        validate_registered_redirect_uri(uri)


def test_an_over_long_redirect_uri_is_refused() -> None:
    # B12
    with pytest.raises(InvalidRedirectURI, match="longer than"):
        validate_registered_redirect_uri("https://a.example/" + "a" * 2000)


@pytest.mark.parametrize("uri", ["myapp://callback", "cursor://anysphere.cursor-mcp/oauth", "app:/cb"])
def test_a_custom_scheme_without_a_reverse_domain_is_refused(uri: str) -> None:
    with pytest.raises(InvalidRedirectURI, match="reverse-domain"):
        validate_registered_redirect_uri(uri)


def test_a_private_use_scheme_without_a_path_is_refused() -> None:
    with pytest.raises(InvalidRedirectURI, match="path"):
        validate_registered_redirect_uri("com.example.app:callback")


def test_the_refusal_reason_is_readable() -> None:
    with pytest.raises(InvalidRedirectURI) as caught:
        validate_registered_redirect_uri("https://a.example/cb#frag")
    assert caught.value.reason == str(caught.value)
    assert "fragment" in caught.value.reason


def test_an_exact_redirect_uri_matches() -> None:
    assert redirect_uri_matches(["https://a.example/cb", "https://b.example/cb"], "https://b.example/cb")


def test_an_unregistered_redirect_uri_does_not_match() -> None:
    # C3
    assert not redirect_uri_matches(["https://a.example/cb"], "https://evil.example/cb")
    assert not redirect_uri_matches([], "https://a.example/cb")


@pytest.mark.parametrize(
    "presented",
    [
        "https://a.example/cb/",
        "https://a.example/CB",
        "https://A.example/cb",
        "https://a.example/cb?x=1",
        "https://a.example/cb?b=2&a=1",
        "https://a.example%2Fcb",
        "https://a.example:443/cb",
        "https://a.example/cb/../cb",
        "https://a.example/%2E%2E/cb",
        "https://a.example/%252E%252E/cb",
        "https://a.example/cb#",
        "https://a.example/cbx",
        "https://a.example/c",
        "http://a.example/cb",
    ],
)
def test_a_near_miss_redirect_uri_does_not_match(presented: str) -> None:
    # C4
    registered = ["https://a.example/cb", "https://a.example/cb?a=1&b=2"]
    assert not redirect_uri_matches(registered, presented)


@pytest.mark.parametrize(
    ("registered", "presented"),
    [
        ("http://127.0.0.1/cb", "http://127.0.0.1:51004/cb"),  # C5
        ("http://127.0.0.1:3030/cb", "http://127.0.0.1:4040/cb"),
        ("http://127.0.0.1:3030/cb", "http://127.0.0.1/cb"),
        ("http://[::1]/cb", "http://[::1]:9999/cb"),
        ("http://localhost/callback", "http://localhost:61000/callback"),
        ("http://127.0.0.1:1/cb?x=1", "http://127.0.0.1:2/cb?x=1"),
    ],
)
def test_a_loopback_redirect_matches_on_any_port(registered: str, presented: str) -> None:
    assert redirect_uri_matches([registered], presented)


@pytest.mark.parametrize(
    "presented",
    [
        "http://127.0.0.1:51004/other",  # C5 different path
        "http://localhost:51004/cb",  # C5 localhost vs 127.0.0.1
        "https://127.0.0.1:51004/cb",  # C5 https vs http
        "http://127.0.0.2:51004/cb",
        "http://127.0.0.1:51004/cb?x=1",
        "http://127.0.0.1:51004/cb#frag",
        "http://127.0.0.1:99999/cb",
        "http://evil@127.0.0.1:51004/cb",
        "HTTP://127.0.0.1:51004/cb",
        "http://127.0.0.1:51004/cb/",
    ],
)
def test_a_loopback_redirect_differing_in_more_than_the_port_does_not_match(presented: str) -> None:
    assert not redirect_uri_matches(["http://127.0.0.1/cb"], presented)


def test_an_https_loopback_redirect_must_match_exactly_including_the_port() -> None:
    assert not redirect_uri_matches(["https://127.0.0.1:8443/cb"], "https://127.0.0.1:9443/cb")
    assert redirect_uri_matches(["https://127.0.0.1:8443/cb"], "https://127.0.0.1:8443/cb")


def test_port_flexibility_never_applies_to_non_loopback_hosts() -> None:
    assert not redirect_uri_matches(["https://a.example/cb"], "https://a.example:8443/cb")


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("http://127.0.0.1:8080/cb", True),
        ("http://[::1]/cb", True),
        ("http://localhost/cb", True),
        ("https://localhost/cb", True),
        ("https://127.3.2.1/cb", True),
        ("https://a.example/cb", False),
        ("com.example.app:/cb", False),
        ("not a uri", False),
    ],
)
def test_loopback_redirects_are_recognised(uri: str, expected: bool) -> None:
    assert is_loopback_redirect(uri) is expected


def test_private_use_redirects_are_recognised() -> None:
    assert is_private_use_redirect("com.example.app:/cb")
    assert not is_private_use_redirect("https://a.example/cb")
    assert not is_private_use_redirect("myapp://cb")


@pytest.mark.parametrize(
    ("uri", "host"),
    [
        ("https://App.Example:8443/cb?x=1", "app.example"),
        ("http://127.0.0.1:5000/cb", "127.0.0.1"),
        ("http://[::1]:5000/cb", "[::1]"),
        ("com.example.app:/cb", "com.example.app"),
    ],
)
def test_the_consent_page_host_is_the_redirect_uris_host(uri: str, host: str) -> None:
    assert redirect_host(uri) == host


def test_the_consent_page_host_of_an_invalid_uri_is_refused() -> None:
    with pytest.raises(InvalidRedirectURI):
        redirect_host("javascript:alert(1)")


def test_a_web_url_may_carry_a_fragment_but_must_be_https() -> None:
    assert validate_web_url("https://a.example/legal#privacy") == "https://a.example/legal#privacy"
    assert validate_web_url("http://localhost:8000/about") == "http://localhost:8000/about"
    for bad in ("http://a.example/", "javascript:alert(1)", "com.example.app:/x", "https://u@a.example/"):
        with pytest.raises(InvalidRedirectURI):
            validate_web_url(bad)


def test_split_uri_keeps_path_and_query_verbatim() -> None:
    parts = split_uri("https://A.example:8443/p%2Fq?b=2&a=1#f")
    assert (parts.scheme, parts.host, parts.port) == ("https", "a.example", 8443)
    assert parts.path_and_query == "/p%2Fq?b=2&a=1"
    assert parts.fragment == "f"
