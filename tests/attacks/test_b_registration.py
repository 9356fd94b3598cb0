"""Catalogue group B: dynamic client registration (RFC 7591), over HTTP.

Policies pinned here (where the catalogue leaves a choice):

* B5: a fragment is ``invalid_redirect_uri`` (not ``invalid_client_metadata``).
* B7: wildcards, userinfo, backslashes, whitespace, control and non-ASCII characters are refused outright; an
  ASCII (punycode) IDN host is stored byte-exact and later matched byte-exact, never normalised.
* B10: an omitted ``token_endpoint_auth_method`` means RFC 7591's default ``client_secret_basic``: a secret
  is issued, with ``client_secret_expires_at: 0`` (never expires).
* B12: a body over 16 KiB is 413 ``invalid_client_metadata``; any other size or count limit is 400.
* B13: duplicate JSON keys, ``NaN``/``Infinity`` and too-deep nesting are 400 ``invalid_client_metadata``.
* B15: a ``software_statement`` is ignored (not echoed, not trusted).
* B16: the 429 half (registration flood) belongs to the rate limiter (``web/ratelimit.py``) and its tests;
  the expiry half (never-used clients go away) is tested here through ``oauth/client_expiry.py``.
* B17: the registered ``scope`` is a ceiling the client puts on itself, never a grant: it is accepted as
  syntax, and /authorize refuses (``invalid_scope``) anything beyond both it and the server's own scopes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from spotify_mcp.clock import ManualClock
from spotify_mcp.oauth.client_expiry import expire_unused_clients
from spotify_mcp.store.sweeper import sweep_once
from tests.attacks.conftest import (
    assert_consent_redirect,
    assert_error_page,
    authorize_url,
    consent_form,
    redirect_query,
)
from tests.support import CLIENT_REDIRECT, PUBLIC, Harness, harness

pytestmark = pytest.mark.anyio

REGISTER = f"{PUBLIC}/register"
PUBLIC_CLIENT: dict[str, Any] = {"redirect_uris": ["https://app.example/cb"], "token_endpoint_auth_method": "none"}


async def register(h: Harness, body: object) -> Any:
    return await h.http.post(REGISTER, content=json.dumps(body).encode(), headers={"Content-Type": "application/json"})


async def stored_clients(h: Harness) -> int:
    return len(await h.app.state.runtime.services.store.list_clients())


def assert_refused(response: Any, error: str, status: int = 400) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["cache-control"] == "no-store"
    assert response.json()["error"] == error


async def test_b01_a_valid_public_client_gets_a_server_assigned_id_and_no_secret(h: Harness) -> None:
    response = await register(h, {**PUBLIC_CLIENT, "client_name": "App"})
    assert response.status_code == 201
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["client_id"].startswith("smcp_client_")
    assert isinstance(body["client_id_issued_at"], int)
    assert "client_secret" not in body
    assert body["redirect_uris"] == PUBLIC_CLIENT["redirect_uris"]
    assert body["token_endpoint_auth_method"] == "none"
    assert body["client_name"] == "App"
    assert body["grant_types"] == ["authorization_code", "refresh_token"]
    assert body["response_types"] == ["code"]
    second = (await register(h, PUBLIC_CLIENT)).json()
    assert second["client_id"] != body["client_id"]


async def test_b02_a_dangerous_scheme_is_invalid_redirect_uri_and_nothing_is_stored(h: Harness) -> None:
    for uri in ("javascript:alert(1)", "JAVASCRIPT:alert(1)", "data:text/html,x", "vbscript:x", "file:///etc/passwd"):
        assert_refused(await register(h, {**PUBLIC_CLIENT, "redirect_uris": [uri]}), "invalid_redirect_uri")
    assert await stored_clients(h) == 0


async def test_b03_http_off_loopback_is_invalid_redirect_uri(h: Harness) -> None:
    for uri in ("http://app.example/cb", "http://127.0.0.1.nip.io/cb", "http://localhost.evil.example/cb"):
        assert_refused(await register(h, {**PUBLIC_CLIENT, "redirect_uris": [uri]}), "invalid_redirect_uri")


async def test_b04_loopback_redirects_are_accepted(h: Harness) -> None:
    for uri in ("http://127.0.0.1/cb", "http://[::1]/cb", "http://localhost:8080/cb"):
        response = await register(h, {**PUBLIC_CLIENT, "redirect_uris": [uri]})
        assert response.status_code == 201, uri
        assert response.json()["redirect_uris"] == [uri]
        assert response.json()["application_type"] == "native"


async def test_b05_a_fragment_is_invalid_redirect_uri(h: Harness) -> None:
    for uri in ("https://a.example/cb#x", "https://a.example/cb#", "http://127.0.0.1/cb#frag"):
        assert_refused(await register(h, {**PUBLIC_CLIENT, "redirect_uris": [uri]}), "invalid_redirect_uri")


async def test_b06_missing_or_malformed_redirect_uris_are_refused_without_a_500(h: Harness) -> None:
    bodies: list[dict[str, Any]] = [
        {"token_endpoint_auth_method": "none"},
        {**PUBLIC_CLIENT, "redirect_uris": []},
        {**PUBLIC_CLIENT, "redirect_uris": "https://app.example/cb"},
        {**PUBLIC_CLIENT, "redirect_uris": [""]},
        {**PUBLIC_CLIENT, "redirect_uris": ["/cb"]},
        {**PUBLIC_CLIENT, "redirect_uris": ["app.example/cb"]},
        {**PUBLIC_CLIENT, "redirect_uris": [1, 2]},
        {**PUBLIC_CLIENT, "redirect_uris": [["https://app.example/cb"]]},
        {**PUBLIC_CLIENT, "redirect_uris": [{"uri": "https://app.example/cb"}]},
        {**PUBLIC_CLIENT, "redirect_uris": {"0": "https://app.example/cb"}},
    ]
    for body in bodies:
        assert_refused(await register(h, body), "invalid_redirect_uri")
    assert await stored_clients(h) == 0


async def test_b07_tricky_redirect_uris_are_refused(h: Harness) -> None:
    for uri in (
        "https://*.a.example/cb",
        "https://good.example@evil.example/cb",
        "https://good.example\\@evil.example/cb",
        "https://a.example/cb\r\nSet-Cookie: x=1",
        "https://a.example/c b",
        "https://a.example/cb\t",
        "https://аpple.example/cb",  # Cyrillic а: an IDN homograph
        "https://a.example/x/../cb",
        "https://a.example/%2e%2e/cb",
    ):
        assert_refused(await register(h, {**PUBLIC_CLIENT, "redirect_uris": [uri]}), "invalid_redirect_uri")
    assert await stored_clients(h) == 0


async def test_b07_a_punycode_host_is_stored_and_matched_byte_exact(h: Harness) -> None:
    uri = "https://xn--pple-43d.example/cb"
    client = (await register(h, {**PUBLIC_CLIENT, "redirect_uris": [uri]})).json()
    assert client["redirect_uris"] == [uri]
    assert_consent_redirect(await h.http.get(authorize_url(client["client_id"], redirect_uri=uri)))
    for variant in ("https://XN--PPLE-43D.example/cb", "https://аpple.example/cb", "https://xn--pple-43d.example./cb"):
        assert_error_page(await h.http.get(authorize_url(client["client_id"], redirect_uri=variant)))


async def test_b08_grant_types_other_than_code_and_refresh_are_refused(h: Harness) -> None:
    for grant_types in (
        ["implicit"],
        ["password"],
        ["client_credentials"],
        ["authorization_code", "urn:ietf:params:oauth:grant-type:device_code"],
        ["authorization_code", "urn:example:unknown"],
    ):
        assert_refused(await register(h, {**PUBLIC_CLIENT, "grant_types": grant_types}), "invalid_client_metadata")


async def test_b09_response_types_other_than_code_or_disagreeing_with_grants_are_refused(h: Harness) -> None:
    for extra in (
        {"response_types": ["token"]},
        {"response_types": ["code", "token"]},
        {"response_types": ["code id_token"]},
        {"response_types": ["code"], "grant_types": ["refresh_token"]},
    ):
        assert_refused(await register(h, {**PUBLIC_CLIENT, **extra}), "invalid_client_metadata")


async def test_b10_an_unsupported_auth_method_is_refused(h: Harness) -> None:
    for method in ("private_key_jwt", "client_secret_jwt", "tls_client_auth", "foo", 3):
        body = {**PUBLIC_CLIENT, "token_endpoint_auth_method": method}
        assert_refused(await register(h, body), "invalid_client_metadata")


async def test_b10_an_omitted_auth_method_gets_a_client_secret_basic_secret_that_never_expires(h: Harness) -> None:
    """Policy: RFC 7591's default method; the secret is returned once, with client_secret_expires_at 0."""
    response = await register(h, {"redirect_uris": ["https://app.example/cb"]})
    assert response.status_code == 201
    body = response.json()
    assert body["token_endpoint_auth_method"] == "client_secret_basic"
    assert body["client_secret"].startswith("smcp_cs_")
    assert body["client_secret_expires_at"] == 0


async def test_b11_client_chosen_identifiers_and_secrets_are_ignored(h: Harness) -> None:
    body = {**PUBLIC_CLIENT, "client_id": "chosen-id", "client_secret": "chosen-secret", "client_id_issued_at": 1}
    response = await register(h, body)
    assert response.status_code == 201
    client = response.json()
    assert client["client_id"] != "chosen-id"
    assert "client_secret" not in client
    assert client["client_id_issued_at"] != 1
    assert "chosen" not in response.text
    assert_error_page(await h.http.get(authorize_url("chosen-id", redirect_uri="https://app.example/cb")))


async def test_b12_oversized_bodies_and_counts_are_refused_without_a_500(h: Harness) -> None:
    huge = {**PUBLIC_CLIENT, "client_name": "x" * (1024 * 1024)}
    assert_refused(await register(h, huge), "invalid_client_metadata", 413)
    assert_refused(await register(h, {**PUBLIC_CLIENT, "client_name": "x" * 10_000}), "invalid_client_metadata")
    many = {**PUBLIC_CLIENT, "redirect_uris": [f"https://app.example/cb{i}" for i in range(1000)]}
    assert (await register(h, many)).status_code in (400, 413)
    eleven = {**PUBLIC_CLIENT, "redirect_uris": [f"https://app.example/cb{i}" for i in range(11)]}
    assert_refused(await register(h, eleven), "invalid_redirect_uri")
    long_uri = {**PUBLIC_CLIENT, "redirect_uris": ["https://app.example/" + "a" * 2100]}
    assert_refused(await register(h, long_uri), "invalid_redirect_uri")
    contacts = {**PUBLIC_CLIENT, "contacts": [f"a{i}@app.example" for i in range(11)]}
    assert_refused(await register(h, contacts), "invalid_client_metadata")
    long_contact = {**PUBLIC_CLIENT, "contacts": ["a" * 400 + "@app.example"]}
    assert_refused(await register(h, long_contact), "invalid_client_metadata")
    scopes = {**PUBLIC_CLIENT, "scope": " ".join(f"s{i}" for i in range(51))}
    assert_refused(await register(h, scopes), "invalid_client_metadata")
    for field in ("software_id", "software_version"):
        assert_refused(await register(h, {**PUBLIC_CLIENT, field: "v" * 201}), "invalid_client_metadata")
    assert await stored_clients(h) == 0


async def test_b12_deeply_nested_json_is_refused_without_a_500(h: Harness) -> None:
    for depth in (100, 5000):
        nested = "[" * depth + "]" * depth
        raw = '{"redirect_uris": ["https://app.example/cb"], "token_endpoint_auth_method": "none", "x": '
        response = await h.http.post(
            REGISTER, content=(raw + nested + "}").encode(), headers={"Content-Type": "application/json"}
        )
        assert response.status_code in (201, 400, 413), (depth, response.text)
        if response.status_code != 201:
            assert response.json()["error"] == "invalid_client_metadata"
    deep = "[" * 7000 + "]" * 7000
    response = await h.http.post(REGISTER, content=deep.encode(), headers={"Content-Type": "application/json"})
    assert_refused(response, "invalid_client_metadata")


async def test_b13_non_json_malformed_or_ambiguous_bodies_are_invalid_client_metadata(h: Harness) -> None:
    valid = json.dumps(PUBLIC_CLIENT).encode()
    cases: list[tuple[bytes, str]] = [
        (valid, "application/x-www-form-urlencoded"),
        (valid, "text/plain"),
        (valid, ""),
        (b'{"redirect_uris": ["https://app.example/cb"]', "application/json"),
        (b"[]", "application/json"),
        (b'"a string"', "application/json"),
        (b"null", "application/json"),
        (b"\xff\xfe{}", "application/json"),
        (
            b'{"redirect_uris": ["https://app.example/cb"], "redirect_uris": ["https://evil.example/cb"]}',
            "application/json",
        ),
        (b'{"redirect_uris": ["https://app.example/cb"], "x": NaN}', "application/json"),
        (b'{"redirect_uris": ["https://app.example/cb"], "x": Infinity}', "application/json"),
    ]
    for content, content_type in cases:
        headers = {"Content-Type": content_type} if content_type else {}
        response = await h.http.post(REGISTER, content=content, headers=headers)
        assert_refused(response, "invalid_client_metadata")
    assert await stored_clients(h) == 0


async def test_b14_markup_in_the_name_is_stored_but_rendered_escaped_and_nothing_is_fetched(h: Harness) -> None:
    name = '<script>alert(1)</script><img src=x onerror="alert(2)">'
    body = {
        **PUBLIC_CLIENT,
        "redirect_uris": [CLIENT_REDIRECT],
        "client_name": name,
        "logo_uri": "https://10.0.0.1/logo.png",
        "client_uri": "https://169.254.169.254/latest/meta-data/",
    }
    response = await register(h, body)
    assert response.status_code == 201
    client = response.json()
    assert client["client_name"] == name
    page = await h.http.get(assert_consent_redirect(await h.http.get(authorize_url(client["client_id"]))))
    assert "<script>" not in page.text
    assert "<img" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "10.0.0.1" not in page.text
    assert "169.254.169.254" not in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]


async def test_b14_bidi_overrides_control_characters_and_long_names_are_refused(h: Harness) -> None:
    for name in ("evil\u202etxt.exe", "a\u2066b", "line\nbreak", "nul\x00", "x" * 201, "   "):
        assert_refused(await register(h, {**PUBLIC_CLIENT, "client_name": name}), "invalid_client_metadata")


async def test_b15_a_bogus_software_statement_is_ignored(h: Harness) -> None:
    response = await register(h, {**PUBLIC_CLIENT, "software_statement": "eyJhbGciOiJub25lIn0.eyJ4IjoxfQ."})
    assert response.status_code == 201
    assert "software_statement" not in response.json()


async def test_b16_never_used_clients_expire_and_used_or_granted_ones_stay(h: Harness, clock: ManualClock) -> None:
    store = h.app.state.runtime.services.store
    day = 86400.0
    stale = (await register(h, PUBLIC_CLIENT)).json()["client_id"]
    granted = (await h.register())["client_id"]
    await h.tokens(granted)
    clock.advance(10 * day)
    recent = (await register(h, PUBLIC_CLIENT)).json()["client_id"]
    touched = (await register(h, PUBLIC_CLIENT)).json()["client_id"]
    clock.advance(21 * day)
    await store.touch_client(touched, clock.now())
    assert await expire_unused_clients(store, clock.now(), 30 * day) == [stale]
    assert {client.client_id for client in await store.list_clients()} == {granted, recent, touched}
    assert_error_page(await h.http.get(authorize_url(stale, redirect_uri="https://app.example/cb")))
    assert await expire_unused_clients(store, clock.now(), 30 * day) == []
    # The periodic sweep runs the same expiry when it is given a TTL.
    clock.advance(31 * day)
    await sweep_once(store, clock)
    assert len(await store.list_clients()) == 3
    await sweep_once(store, clock, unused_client_ttl=30 * day)
    assert {client.client_id for client in await store.list_clients()} == {granted}


async def test_b17_a_registered_scope_is_a_ceiling_not_a_grant(h: Harness) -> None:
    """Policy: the registered scope is accepted as syntax; /authorize allows only its overlap with ours."""
    response = await register(
        h, {**PUBLIC_CLIENT, "redirect_uris": [CLIENT_REDIRECT], "scope": "user-read-private admin"}
    )
    assert response.status_code == 201
    client_id = response.json()["client_id"]
    for scope in ("admin", "user-read-private admin", "user-top-read"):
        refused = redirect_query(await h.http.get(authorize_url(client_id, scope=scope)))
        assert refused["error"] == ["invalid_scope"], scope
    fields = await consent_form(h, client_id)
    assert fields["request"]


async def test_b_a_redirect_host_allow_list_is_enforced_at_registration(tmp_path: Path) -> None:
    allow = ("app.example", "127.0.0.1")
    async with harness(tmp_path, redirect_host_allowlist=allow) as h:
        assert (await register(h, PUBLIC_CLIENT)).status_code == 201
        assert (await register(h, {**PUBLIC_CLIENT, "redirect_uris": [CLIENT_REDIRECT]})).status_code == 201
        for uri in ("https://evil.example/cb", "https://app.example.evil.example/cb", "http://localhost:3000/cb"):
            assert_refused(await register(h, {**PUBLIC_CLIENT, "redirect_uris": [uri]}), "invalid_redirect_uri")
        mixed = {**PUBLIC_CLIENT, "redirect_uris": ["https://app.example/cb", "https://evil.example/cb"]}
        assert_refused(await register(h, mixed), "invalid_redirect_uri")
