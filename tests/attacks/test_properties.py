"""Property tests (hypothesis) for the validators the catalogue leans on: B2–B7, C4–C5, D5–D9, B12–B13.

* Redirect-URI matching: a registered URI matches itself; a loopback http URI also matches on any port; no
  near-miss (path case, extra segments, userinfo, fragments, encoded characters, trailing dots, another
  port off loopback, ...) ever matches.
* PKCE: only the verifier a challenge was made from verifies it; malformed verifiers never verify.
* Registration: a dangerous scheme, a fragment or http off loopback is never accepted, and arbitrary JSON
  is refused with a client error (400/413), never an exception or a 500.

Every test is deterministic (``derandomize``) and bounded (at most 200 examples).
"""

from __future__ import annotations

import base64
import hashlib
import json
import string
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from spotify_mcp.crypto import is_valid_pkce_verifier, pkce_challenge, verify_pkce
from spotify_mcp.oauth.authorize import is_s256_challenge
from spotify_mcp.oauth.client_metadata import ClientMetadataError, parse_client_metadata
from spotify_mcp.oauth.redirects import (
    InvalidRedirectURI,
    is_loopback_redirect,
    redirect_uri_matches,
    split_uri,
    validate_registered_redirect_uri,
)
from tests.support import PUBLIC, Harness, harness

BOUNDED = settings(
    max_examples=200,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
UNRESERVED = string.ascii_letters + string.digits + "-._~"
LOOPBACK_HOSTS = ("127.0.0.1", "127.4.5.6", "[::1]", "localhost")

LOWER = string.ascii_lowercase
labels = st.builds(str.__add__, st.sampled_from(LOWER), st.text(alphabet=LOWER + string.digits, max_size=7))
hosts = st.lists(labels, min_size=1, max_size=3).map(lambda parts: ".".join([*parts, "example"]))
segments = st.lists(
    st.text(alphabet=string.ascii_letters + string.digits + "_-", min_size=1, max_size=8), min_size=1, max_size=3
)
queries = st.none() | st.sampled_from(["a=1", "a=1&b=2", "tenant=x&b=2&c=3", "q=", "x=%20y"])
ports = st.none() | st.integers(min_value=1, max_value=65535)


def build(scheme: str, host: str, port: int | None, path: list[str], query: str | None) -> str:
    """A URI from its parts."""
    authority = host if port is None else f"{host}:{port}"
    return f"{scheme}://{authority}/{'/'.join(path)}" + ("" if query is None else f"?{query}")


https_uris = st.builds(build, st.just("https"), hosts, ports, segments, queries)
loopback_uris = st.builds(build, st.just("http"), st.sampled_from(LOOPBACK_HOSTS), ports, segments, queries)


def authority_end(uri: str) -> int:
    """Index where the authority of a ``scheme://`` URI ends."""
    start = uri.index("//") + 2
    ends = [i for i in (uri.find("/", start), uri.find("?", start)) if i != -1]
    return min(ends) if ends else len(uri)


def path_span(uri: str) -> tuple[int, int]:
    """(start, end) of the path."""
    start = authority_end(uri)
    query = uri.find("?", start)
    return start, len(uri) if query == -1 else query


def near_misses(uri: str, draw: Any) -> list[str]:
    """Every mutation of ``uri`` that exact matching must refuse (those equal to ``uri`` are dropped later)."""
    start, end = path_span(uri)
    path, rest = uri[start:end], uri[end:]
    head = uri[:start]
    letters = [i for i, c in enumerate(path) if c.isalpha()]
    mutations = [
        head + path + "/" + rest,
        head + path + "/x" + rest,
        head + "/x" + path + rest,
        head + path.replace("/", "//", 1) + rest,
        head + path.replace("/", "\\", 1) + rest,
        head + path + "/." + rest,
        head + path + "/../" + path.rsplit("/", 1)[-1] + rest,
        uri + "#",
        uri + "#" + draw(labels),
        uri.replace("//", "//user@", 1),
        uri.replace("//", "//" + draw(hosts) + "@", 1),
        head + path + (rest + "&z=1" if rest else "?z=1"),
        head + path,
        uri.replace("://", "://" + draw(labels) + ".", 1),
        uri[: authority_end(uri)] + "." + uri[authority_end(uri) :],
        uri[: uri.index("//") + 2] + uri[uri.index("//") + 2 : authority_end(uri)].upper() + uri[authority_end(uri) :],
        uri.replace("https://", "http://", 1) if uri.startswith("https://") else uri.replace("http://", "https://", 1),
        uri + " ",
        " " + uri,
        uri + "%00",
    ]
    if letters:
        i = draw(st.sampled_from(letters))
        char = path[i]
        mutations.append(head + path[:i] + char.swapcase() + path[i + 1 :] + rest)
        mutations.append(head + path[:i] + f"%{ord(char):02X}" + path[i + 1 :] + rest)
        mutations.append(head + path[:i] + f"%25{ord(char):02X}" + path[i + 1 :] + rest)
    if "?" in rest and "&" in rest:
        pairs = rest[1:].split("&")
        mutations.append(head + path + "?" + "&".join(reversed(pairs)))
    return mutations


def with_port(uri: str, port: int) -> str:
    """``uri`` with its port replaced (or added)."""
    end = authority_end(uri)
    start = uri.index("//") + 2
    authority = uri[start:end]
    host = authority if authority.endswith("]") or ":" not in authority else authority.rsplit(":", 1)[0]
    return f"{uri[:start]}{host}:{port}{uri[end:]}"


@BOUNDED
@given(uri=https_uris | loopback_uris)
def test_a_registered_uri_matches_itself(uri: str) -> None:
    assert validate_registered_redirect_uri(uri) == uri
    assert redirect_uri_matches([uri], uri)


@BOUNDED
@given(uri=https_uris | loopback_uris, data=st.data())
def test_no_near_miss_ever_matches(uri: str, data: st.DataObject) -> None:
    for presented in near_misses(uri, data.draw):
        if presented != uri:
            assert not redirect_uri_matches([uri], presented), presented


@BOUNDED
@given(uri=https_uris, port=st.integers(min_value=1, max_value=65535))
def test_another_port_never_matches_off_loopback(uri: str, port: int) -> None:
    presented = with_port(uri, port)
    assume(presented != uri)
    assert not redirect_uri_matches([uri], presented)


@BOUNDED
@given(uri=loopback_uris, port=st.integers(min_value=1, max_value=65535), data=st.data())
def test_a_loopback_uri_matches_on_any_port_and_only_the_port_may_change(
    uri: str, port: int, data: st.DataObject
) -> None:
    moved = with_port(uri, port)
    assert redirect_uri_matches([uri], moved)
    for presented in near_misses(moved, data.draw):
        if with_port(presented, port) != moved and presented != uri:
            assert not redirect_uri_matches([uri], presented), presented


# -- PKCE ----------------------------------------------------------------------------------------------------

verifiers = st.text(alphabet=UNRESERVED, min_size=43, max_size=128)


def raw_challenge(verifier: str) -> str:
    """S256 of any string, even one that is not a valid verifier."""
    digest = hashlib.sha256(verifier.encode("utf-8", "surrogatepass")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@BOUNDED
@given(verifier=verifiers)
def test_the_right_verifier_verifies_and_its_challenge_is_well_formed(verifier: str) -> None:
    challenge = pkce_challenge(verifier)
    assert is_s256_challenge(challenge)
    assert verify_pkce(verifier, challenge)
    assert not verify_pkce(challenge, challenge) or challenge == verifier


@BOUNDED
@given(verifier=verifiers, other=verifiers)
def test_any_other_verifier_does_not_verify(verifier: str, other: str) -> None:
    assume(other != verifier)
    assert not verify_pkce(other, pkce_challenge(verifier))


@BOUNDED
@given(text=st.text(max_size=200))
def test_a_malformed_verifier_never_verifies_even_against_its_own_challenge(text: str) -> None:
    valid = 43 <= len(text) <= 128 and all(c in UNRESERVED for c in text)
    assert is_valid_pkce_verifier(text) is valid
    if not valid:
        assert not verify_pkce(text, raw_challenge(text))


@BOUNDED
@given(text=st.text(max_size=130) | st.text(alphabet=string.ascii_letters + "-_+/=.~", min_size=40, max_size=46))
def test_only_43_base64url_characters_are_an_s256_challenge(text: str) -> None:
    expected = len(text) == 43 and all(c in string.ascii_letters + string.digits + "-_" for c in text)
    assert is_s256_challenge(text) is expected


# -- registration --------------------------------------------------------------------------------------------

schemes = st.sampled_from(
    ["https", "http", "HTTPS", "javascript", "JavaScript", "data", "file", "vbscript", "ftp", "ws", "myapp"]
)
any_hosts = st.sampled_from([*LOOPBACK_HOSTS, "127.0.0.1.nip.io", "localhost.evil.example", "10.0.0.1"]) | hosts
uri_parts = st.tuples(
    schemes,
    st.sampled_from(["://", ":", ":/", ":///"]),
    st.none() | labels,
    any_hosts,
    ports,
    segments,
    queries,
    st.none() | st.text(alphabet=UNRESERVED, max_size=5),
)


def compose(parts: tuple[str, str, str | None, str, int | None, list[str], str | None, str | None]) -> str:
    """A URI, possibly hostile, from generated parts."""
    scheme, sep, userinfo, host, port, path, query, fragment = parts
    authority = (f"{userinfo}@" if userinfo else "") + host + (f":{port}" if port else "")
    uri = f"{scheme}{sep}{authority}/{'/'.join(path)}"
    if query is not None:
        uri += f"?{query}"
    if fragment is not None:
        uri += f"#{fragment}"
    return uri


def assert_safe_if_accepted(uri: str) -> None:
    """Registration either refuses ``uri`` (InvalidRedirectURI) or it is safe to redirect to."""
    try:
        accepted = validate_registered_redirect_uri(uri)
    except InvalidRedirectURI:
        return
    assert accepted == uri
    parts = split_uri(uri)
    assert "#" not in uri
    assert parts.scheme not in ("javascript", "data", "file", "vbscript")
    if parts.scheme == "http":
        assert is_loopback_redirect(uri)
    if parts.scheme in ("http", "https"):
        assert parts.host
        assert "@" not in uri[: authority_end(uri)]
    else:
        assert "." in parts.scheme


@BOUNDED
@given(parts=uri_parts)
def test_a_dangerous_scheme_fragment_userinfo_or_http_off_loopback_is_never_registered(
    parts: tuple[str, str, str | None, str, int | None, list[str], str | None, str | None],
) -> None:
    assert_safe_if_accepted(compose(parts))


@BOUNDED
@given(text=st.text(max_size=300))
def test_arbitrary_text_is_refused_cleanly_or_safe(text: str) -> None:
    assert_safe_if_accepted(text)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=8,
)
FIELDS = (
    "redirect_uris",
    "client_name",
    "client_uri",
    "logo_uri",
    "contacts",
    "grant_types",
    "response_types",
    "token_endpoint_auth_method",
    "scope",
    "application_type",
    "software_id",
)
field_values = json_values | st.lists(st.builds(compose, uri_parts), max_size=3) | st.builds(compose, uri_parts)
metadata_bodies = json_values | st.dictionaries(st.sampled_from(FIELDS), field_values, max_size=len(FIELDS))


@BOUNDED
@given(body=metadata_bodies)
def test_the_metadata_validator_refuses_arbitrary_json_with_a_metadata_error(body: object) -> None:
    refused: str | None = None
    try:
        metadata = parse_client_metadata(body)
    except ClientMetadataError as exc:
        refused = exc.error
    else:
        for uri in metadata.redirect_uris:
            assert_safe_if_accepted(uri)
    assert refused in (None, "invalid_client_metadata", "invalid_redirect_uri")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[BlockingPortal, Harness]]:
    """One running server for every example of the HTTP properties (a harness per example is too slow)."""
    path: Path = tmp_path_factory.mktemp("properties")
    with (
        start_blocking_portal(backend="asyncio") as portal,
        portal.wrap_async_context_manager(harness(path, rate_limits="off")) as h,
    ):
        yield portal, h


@BOUNDED
@given(body=metadata_bodies)
def test_registration_answers_arbitrary_json_with_201_or_a_client_error(
    served: tuple[BlockingPortal, Harness], body: object
) -> None:
    portal, h = served
    content = json.dumps(body).encode()
    post = partial(h.http.post, f"{PUBLIC}/register", content=content, headers={"Content-Type": "application/json"})
    response = portal.call(post)
    assert response.status_code in (201, 400, 413), response.text
    answer = response.json()
    if response.status_code == 201:
        for uri in answer["redirect_uris"]:
            assert_safe_if_accepted(uri)
    else:
        assert answer["error"] in ("invalid_client_metadata", "invalid_redirect_uri")


@BOUNDED
@given(raw=st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_registration_answers_arbitrary_bytes_with_a_client_error(
    served: tuple[BlockingPortal, Harness], raw: bytes
) -> None:
    portal, h = served
    post = partial(h.http.post, f"{PUBLIC}/register", content=raw, headers={"Content-Type": "application/json"})
    response = portal.call(post)
    assert response.status_code in (201, 400), response.text
