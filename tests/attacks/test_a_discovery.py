"""Catalogue group A: discovery and metadata (RFC 8414, RFC 9728, RFC 9207, MCP).

Not applicable:

* A3 with a path in the issuer: the application serves every endpoint at the root of its public URL, and
  ``SPOTIFY_MCP_PUBLIC_URL`` is documented as the server's own origin (a path would need a prefix-stripping
  proxy, which then owns the path-inserted well-known URL). The root-issuer half of A3 is tested: the
  document is served at the root well-known URL only, and a path-inserted variant never names a different
  issuer (it is a 404).
"""

from __future__ import annotations

import json

import pytest

from spotify_mcp.oauth.metadata import CLIENT_AUTH_METHODS
from tests.attacks.conftest import authorize_url, consent_form, redirect_query, spotify_callback
from tests.support import PUBLIC, Harness

pytestmark = pytest.mark.anyio

AS_METADATA = f"{PUBLIC}/.well-known/oauth-authorization-server"
PR_METADATA = f"{PUBLIC}/.well-known/oauth-protected-resource/mcp"


async def test_a01_as_metadata_names_our_issuer_and_only_what_is_enforced(h: Harness) -> None:
    response = await h.http.get(AS_METADATA)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    doc = response.json()
    assert doc["issuer"] == PUBLIC == h.settings.public_url
    assert "?" not in doc["issuer"]
    assert "#" not in doc["issuer"]
    assert doc["response_types_supported"] == ["code"]
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert set(doc["grant_types_supported"]) == {"authorization_code", "refresh_token"}
    assert doc["token_endpoint_auth_methods_supported"] == CLIENT_AUTH_METHODS
    for endpoint in ("authorization_endpoint", "token_endpoint", "registration_endpoint", "revocation_endpoint"):
        assert doc[endpoint].startswith(f"{PUBLIC}/"), endpoint


async def test_a01_every_advertised_auth_method_is_the_one_enforced(h: Harness) -> None:
    """Registering with each advertised method works; anything else is refused, so the list is exact."""
    for method in CLIENT_AUTH_METHODS:
        body = {"redirect_uris": ["https://app.example/cb"], "token_endpoint_auth_method": method}
        response = await h.http.post(f"{PUBLIC}/register", json=body)
        assert response.status_code == 201, method
        assert response.json()["token_endpoint_auth_method"] == method
    for method in ("private_key_jwt", "tls_client_auth", "client_secret_jwt"):
        body = {"redirect_uris": ["https://app.example/cb"], "token_endpoint_auth_method": method}
        assert (await h.http.post(f"{PUBLIC}/register", json=body)).status_code == 400, method


@pytest.mark.parametrize(
    "headers",
    [
        {"Host": "evil.example"},
        {"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https"},
        {"X-Forwarded-Proto": "http", "Forwarded": "host=evil.example;proto=http"},
    ],
)
async def test_a02_request_headers_never_change_the_issuer_or_endpoints(h: Harness, headers: dict[str, str]) -> None:
    reference = (await h.http.get(AS_METADATA)).json()
    spoofed = await h.http.get(AS_METADATA, headers=headers)
    assert spoofed.status_code == 200
    assert spoofed.json() == reference
    assert "evil.example" not in spoofed.text
    resource = await h.http.get(PR_METADATA, headers=headers)
    assert resource.json()["authorization_servers"] == [PUBLIC]
    assert "evil.example" not in resource.text


async def test_a02_spoofed_host_does_not_change_iss_in_redirects(h: Harness) -> None:
    client = await h.register()
    response = await h.http.get(
        authorize_url(client["client_id"], response_type="token"), headers={"X-Forwarded-Host": "evil.example"}
    )
    assert redirect_query(response)["iss"] == [PUBLIC]


async def test_a03_metadata_lives_at_the_root_well_known_url_and_nowhere_else(h: Harness) -> None:
    assert (await h.http.get(AS_METADATA)).json()["issuer"] == PUBLIC
    for wrong in ("/.well-known/oauth-authorization-server/other", "/other/.well-known/oauth-authorization-server"):
        response = await h.http.get(f"{PUBLIC}{wrong}")
        assert response.status_code == 404, wrong


async def test_a04_protected_resource_metadata_names_the_canonical_mcp_url(h: Harness) -> None:
    response = await h.http.get(PR_METADATA)
    assert response.status_code == 200
    doc = response.json()
    assert doc["resource"] == f"{PUBLIC}/mcp" == h.settings.mcp_url
    assert doc["authorization_servers"] == [PUBLIC]
    assert "offline_access" not in doc["scopes_supported"]
    assert set(doc["scopes_supported"]) == set(h.settings.scopes)


async def test_a05_iss_support_is_advertised_and_every_authorization_response_carries_it(h: Harness) -> None:
    doc = (await h.http.get(AS_METADATA)).json()
    assert doc["authorization_response_iss_parameter_supported"] is True
    client = await h.register()
    client_id = client["client_id"]

    error = redirect_query(await h.http.get(authorize_url(client_id, code_challenge_method="plain")))
    assert error["iss"] == [PUBLIC]

    fields = await consent_form(h, client_id)
    denied = await h.http.post(f"{PUBLIC}/consent", data={**fields, "action": "deny"})
    assert redirect_query(denied)["iss"] == [PUBLIC]

    success = redirect_query(await h.http.get(await spotify_callback(h, client_id)))
    assert success["iss"] == [PUBLIC]
    assert "code" in success


async def test_a06_writing_to_metadata_is_405_and_changes_nothing(h: Harness) -> None:
    for url in (AS_METADATA, PR_METADATA, f"{PUBLIC}/.well-known/oauth-protected-resource"):
        before = (await h.http.get(url)).json()
        for method in ("POST", "PUT", "DELETE", "PATCH"):
            response = await h.http.request(method, url, json={"issuer": "https://evil.example"})
            assert response.status_code == 405, (method, url)
        assert (await h.http.get(url)).json() == before


async def test_a06_metadata_holds_no_secrets(h: Harness) -> None:
    for url in (AS_METADATA, PR_METADATA):
        text = (await h.http.get(url)).text
        assert h.settings.spotify_client_secret.get_secret_value() not in text
        assert h.settings.spotify_client_id not in text
        assert not any("secret" in key for key in json.loads(text) if not key.endswith("_methods_supported"))
