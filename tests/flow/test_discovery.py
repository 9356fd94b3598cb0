"""Discovery: the 401 challenge and both metadata documents advertise exactly what is enforced."""

from __future__ import annotations

import pytest

from tests.support import PUBLIC, Harness

pytestmark = pytest.mark.anyio


async def test_an_unauthenticated_mcp_request_gets_a_401_naming_the_metadata_and_scopes(h: Harness) -> None:
    response = await h.http.post(f"{PUBLIC}/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
    assert response.status_code == 401
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith("Bearer ")
    assert f'resource_metadata="{PUBLIC}/.well-known/oauth-protected-resource/mcp"' in challenge
    assert 'scope="user-read-private ' in challenge


async def test_a_bogus_bearer_gets_invalid_token(h: Harness) -> None:
    response = await h.http.post(f"{PUBLIC}/mcp", json={}, headers={"Authorization": "Bearer smcp_at_not-a-real-token"})
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


async def test_a_token_in_the_query_string_is_refused(h: Harness) -> None:
    response = await h.http.post(f"{PUBLIC}/mcp?access_token=smcp_at_x", json={})
    assert response.status_code == 400


async def test_the_sse_endpoint_requires_a_bearer_too(h: Harness) -> None:
    response = await h.http.get(f"{PUBLIC}/sse")
    assert response.status_code == 401
    assert "resource_metadata=" in response.headers["www-authenticate"]


async def test_authorization_server_metadata_advertises_what_is_enforced(h: Harness) -> None:
    response = await h.http.get(f"{PUBLIC}/.well-known/oauth-authorization-server")
    assert response.status_code == 200
    doc = response.json()
    assert doc["issuer"] == PUBLIC
    assert doc["authorization_endpoint"] == f"{PUBLIC}/authorize"
    assert doc["token_endpoint"] == f"{PUBLIC}/token"
    assert doc["registration_endpoint"] == f"{PUBLIC}/register"
    assert doc["revocation_endpoint"] == f"{PUBLIC}/revoke"
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert "none" in doc["token_endpoint_auth_methods_supported"]
    assert doc["client_id_metadata_document_supported"] is True
    assert doc["authorization_response_iss_parameter_supported"] is True
    assert "offline_access" in doc["scopes_supported"]
    assert doc["response_types_supported"] == ["code"]


@pytest.mark.parametrize("path", ["/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"])
async def test_protected_resource_metadata_points_at_our_issuer(h: Harness, path: str) -> None:
    doc = (await h.http.get(f"{PUBLIC}{path}")).json()
    assert doc["resource"] == f"{PUBLIC}/mcp"
    assert doc["authorization_servers"] == [PUBLIC]
    assert "offline_access" not in doc["scopes_supported"]


async def test_browser_clients_get_cors_on_discovery_token_and_mcp(h: Harness) -> None:
    origin = {"Origin": "http://localhost:6274"}
    for path in ("/.well-known/oauth-authorization-server", "/.well-known/oauth-protected-resource/mcp"):
        assert (await h.http.get(f"{PUBLIC}{path}", headers=origin)).headers["access-control-allow-origin"] == "*"
    preflight = {
        **origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization",
    }
    for path in ("/token", "/register", "/revoke", "/mcp"):
        response = await h.http.options(f"{PUBLIC}{path}", headers=preflight)
        assert response.status_code == 200, path
        assert response.headers["access-control-allow-origin"] == "*"
    mcp = await h.http.post(f"{PUBLIC}/mcp", json={}, headers=origin)
    assert "WWW-Authenticate" in mcp.headers["access-control-expose-headers"]


async def test_authorize_consent_and_callback_never_get_cors(h: Harness) -> None:
    origin = {"Origin": "https://evil.example"}
    for path in ("/authorize", "/consent", "/callback"):
        response = await h.http.get(f"{PUBLIC}{path}", headers=origin)
        assert "access-control-allow-origin" not in response.headers, path
