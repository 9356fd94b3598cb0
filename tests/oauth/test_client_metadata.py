"""Client metadata for /register bodies and CIMD documents (catalogue B1–B17, CIMD R2/R5/R8)."""

from __future__ import annotations

from typing import Any

import pytest

from spotify_mcp.oauth.client_metadata import ClientMetadata, ClientMetadataError, parse_client_metadata

CIMD_URL = "https://app.example/oauth/client.json"


def body(**overrides: Any) -> dict[str, Any]:
    """A valid public-client registration body, with some fields replaced."""
    base: dict[str, Any] = {
        "redirect_uris": ["https://app.example/cb"],
        "token_endpoint_auth_method": "none",
        "client_name": "Example App",
    }
    base.update(overrides)
    return {key: value for key, value in base.items() if value is not ...}


def document(**overrides: Any) -> dict[str, Any]:
    """A valid client metadata document for CIMD_URL."""
    return body(**{"client_id": CIMD_URL, **overrides})


def refused(raw: object, error: str, *, cimd: str | None = None) -> ClientMetadataError:
    """Assert that the metadata is refused with ``error`` and return the exception."""
    with pytest.raises(ClientMetadataError) as caught:
        parse_client_metadata(raw, cimd_client_id=cimd)
    assert caught.value.error == error
    assert caught.value.description
    return caught.value


def test_a_valid_public_client_is_accepted() -> None:
    # B1
    metadata = parse_client_metadata(body())
    assert metadata.redirect_uris == ("https://app.example/cb",)
    assert metadata.token_endpoint_auth_method == "none"
    assert metadata.is_public
    assert metadata.client_name == "Example App"
    assert metadata.grant_types == ("authorization_code", "refresh_token")
    assert metadata.response_types == ("code",)
    assert metadata.application_type == "web"


def test_an_omitted_auth_method_defaults_to_client_secret_basic_for_registration() -> None:
    # B10 (policy: RFC 7591 §2 default)
    metadata = parse_client_metadata(body(token_endpoint_auth_method=...))
    assert metadata.token_endpoint_auth_method == "client_secret_basic"
    assert not metadata.is_public


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
def test_a_confidential_client_may_register(method: str) -> None:
    assert parse_client_metadata(body(token_endpoint_auth_method=method)).token_endpoint_auth_method == method


@pytest.mark.parametrize("method", ["private_key_jwt", "client_secret_jwt", "foo", "", 1])
def test_an_unsupported_auth_method_is_refused(method: object) -> None:
    # B10
    refused(body(token_endpoint_auth_method=method), "invalid_client_metadata")


def test_a_javascript_redirect_uri_is_refused_with_invalid_redirect_uri() -> None:
    # B2
    error = refused(body(redirect_uris=["javascript:alert(1)"]), "invalid_redirect_uri")
    assert "redirect_uris[0]" in error.description


def test_a_plain_http_redirect_uri_is_refused() -> None:
    # B3
    refused(body(redirect_uris=["http://app.example/cb"]), "invalid_redirect_uri")


def test_a_redirect_uri_with_a_fragment_is_refused() -> None:
    # B5 (pinned: invalid_redirect_uri)
    refused(body(redirect_uris=["https://a.example/cb#x"]), "invalid_redirect_uri")


@pytest.mark.parametrize(
    "redirect_uris",
    [..., [], "https://app.example/cb", [""], ["/cb"], [1], [None], ["https://a.example/cb", 2]],
)
def test_missing_or_malformed_redirect_uris_are_refused(redirect_uris: object) -> None:
    # B6
    refused(body(redirect_uris=redirect_uris), "invalid_redirect_uri")


def test_a_wildcard_or_userinfo_redirect_uri_is_refused() -> None:
    # B7
    refused(body(redirect_uris=["https://*.a.example/cb"]), "invalid_redirect_uri")
    refused(body(redirect_uris=["https://good.example@evil.example/cb"]), "invalid_redirect_uri")


@pytest.mark.parametrize(
    "grant_types",
    [
        ["implicit"],
        ["password"],
        ["client_credentials"],
        ["authorization_code", "urn:x"],
        ["refresh_token"],
        "x",
    ],
)
def test_an_unsupported_grant_type_is_refused(grant_types: object) -> None:
    # B8
    refused(body(grant_types=grant_types), "invalid_client_metadata")


def test_authorization_code_alone_is_a_valid_grant_set() -> None:
    metadata = parse_client_metadata(body(grant_types=["authorization_code"]))
    assert metadata.grant_types == ("authorization_code",)


@pytest.mark.parametrize("response_types", [["token"], ["code", "token"], ["code id_token"], [], "code"])
def test_a_response_type_other_than_code_is_refused(response_types: object) -> None:
    # B9
    refused(body(response_types=response_types), "invalid_client_metadata")


def test_client_chosen_credentials_are_ignored_at_registration() -> None:
    # B11: client_id and client_secret are the server's to assign
    metadata = parse_client_metadata(body(client_id="chosen", client_secret="s3cret", client_id_issued_at=1))
    assert "client_id" not in metadata.to_json_dict()
    assert "client_secret" not in metadata.to_json_dict()


def test_too_many_redirect_uris_are_refused() -> None:
    # B12
    uris = [f"https://app.example/cb{i}" for i in range(1000)]
    refused(body(redirect_uris=uris), "invalid_redirect_uri")


def test_an_over_long_client_name_is_refused() -> None:
    # B12
    refused(body(client_name="x" * 100_000), "invalid_client_metadata")
    assert parse_client_metadata(body(client_name="x" * 200)).client_name == "x" * 200


@pytest.mark.parametrize("raw", [[], "x", 1, None, [body()]])
def test_a_body_that_is_not_an_object_is_refused(raw: object) -> None:
    # B13
    refused(raw, "invalid_client_metadata")


def test_a_client_name_with_markup_is_kept_verbatim_for_escaping() -> None:
    # B14: stored as-is; the consent page escapes it
    name = "<img src=x onerror=alert(1)>"
    assert parse_client_metadata(body(client_name=name)).client_name == name


@pytest.mark.parametrize("name", ["Good\u202eevil", "a\x00b", "line\nbreak", "", "   "])
def test_a_client_name_with_control_or_bidi_characters_is_refused(name: str) -> None:
    # B14
    refused(body(client_name=name), "invalid_client_metadata")


@pytest.mark.parametrize("field", ["client_uri", "logo_uri", "tos_uri", "policy_uri"])
@pytest.mark.parametrize("value", ["javascript:alert(1)", "http://10.0.0.1/logo.png", "data:image/png,x", 5])
def test_an_unsafe_informational_url_is_refused(field: str, value: object) -> None:
    # B14, E9
    refused(body(**{field: value}), "invalid_client_metadata")


def test_informational_urls_are_kept() -> None:
    metadata = parse_client_metadata(
        body(
            client_uri="https://app.example/",
            logo_uri="https://app.example/logo.png",
            tos_uri="https://app.example/legal#tos",
            policy_uri="http://localhost:8000/privacy",
        )
    )
    assert metadata.tos_uri == "https://app.example/legal#tos"
    assert metadata.policy_uri == "http://localhost:8000/privacy"


def test_a_software_statement_is_ignored() -> None:
    # B15
    assert parse_client_metadata(body(software_statement="eyJ.bogus.sig")).redirect_uris


def test_unknown_fields_and_nulls_are_ignored() -> None:
    metadata = parse_client_metadata(body(jwks_uri="https://x/jwks", logo_uri=None, scope=None, frobnicate=[1]))
    assert metadata.logo_uri is None
    assert metadata.scope is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("client_name", 5),
        ("scope", ["a"]),
        ("contacts", "a@b.example"),
        ("software_id", {}),
        ("contacts", [1]),
    ],
)
def test_a_field_of_the_wrong_type_is_refused_with_its_name(field: str, value: object) -> None:
    error = refused(body(**{field: value}), "invalid_client_metadata")
    assert field in error.description


def test_scope_is_normalised_to_single_spaces_without_duplicates() -> None:
    metadata = parse_client_metadata(body(scope=" spotify  offline_access spotify "))
    assert metadata.scope == "spotify offline_access"
    assert parse_client_metadata(body(scope="   ")).scope is None


@pytest.mark.parametrize("scope", ['a"b', "a\\b", "caf\u00e9", "a\tb", " ".join(f"s{i}" for i in range(51))])
def test_a_malformed_scope_is_refused(scope: str) -> None:
    # B17 (shape only; which scopes a client may get is decided at /authorize)
    refused(body(scope=scope), "invalid_client_metadata")


def test_contacts_are_bounded() -> None:
    assert parse_client_metadata(body(contacts=["a@b.example", "a@b.example"])).contacts == ("a@b.example",)
    refused(body(contacts=[f"{i}@b.example" for i in range(11)]), "invalid_client_metadata")


def test_a_loopback_client_without_application_type_is_inferred_native() -> None:
    metadata = parse_client_metadata(body(redirect_uris=["http://127.0.0.1/cb"]))
    assert metadata.application_type == "native"


def test_a_private_use_scheme_client_is_inferred_native() -> None:
    metadata = parse_client_metadata(body(redirect_uris=["com.example.app:/cb"]))
    assert metadata.application_type == "native"


@pytest.mark.parametrize("uri", ["http://127.0.0.1/cb", "https://localhost/cb", "com.example.app:/cb"])
def test_a_web_application_with_a_loopback_or_private_use_redirect_is_refused(uri: str) -> None:
    # SEP-837
    refused(body(application_type="web", redirect_uris=[uri]), "invalid_redirect_uri")


def test_a_native_application_may_mix_https_and_loopback_redirects() -> None:
    uris = ["https://app.example/cb", "http://[::1]/cb"]
    metadata = parse_client_metadata(body(application_type="native", redirect_uris=uris))
    assert metadata.redirect_uris == tuple(uris)


@pytest.mark.parametrize("value", ["desktop", "", 1])
def test_an_unknown_application_type_is_refused(value: object) -> None:
    refused(body(application_type=value), "invalid_client_metadata")


def test_metadata_round_trips_through_its_json_form() -> None:
    metadata = parse_client_metadata(
        body(
            redirect_uris=["http://127.0.0.1/cb", "https://app.example/cb"],
            token_endpoint_auth_method="client_secret_post",
            scope="spotify",
            contacts=["ops@app.example"],
            logo_uri="https://app.example/logo.png",
            software_id="app",
            software_version="1.2",
        )
    )
    as_json = metadata.to_json_dict()
    assert as_json["redirect_uris"] == ["http://127.0.0.1/cb", "https://app.example/cb"]
    assert "client_uri" not in as_json
    assert parse_client_metadata(as_json) == metadata


def test_to_json_dict_omits_absent_values() -> None:
    as_json = ClientMetadata(redirect_uris=("https://a.example/cb",)).to_json_dict()
    assert set(as_json) == {
        "redirect_uris",
        "grant_types",
        "response_types",
        "token_endpoint_auth_method",
        "application_type",
    }


def test_a_valid_cimd_document_is_accepted_as_a_public_client() -> None:
    metadata = parse_client_metadata(document(token_endpoint_auth_method=...), cimd_client_id=CIMD_URL)
    assert metadata.token_endpoint_auth_method == "none"
    assert metadata.client_name == "Example App"


@pytest.mark.parametrize(
    "client_id",
    [..., None, "https://app.example/oauth/client.json/", "https://APP.example/oauth/client.json", 1],
)
def test_a_cimd_document_whose_client_id_differs_is_refused(client_id: object) -> None:
    # CIMD R2: simple string comparison
    refused(document(client_id=client_id), "invalid_client_metadata", cimd=CIMD_URL)


@pytest.mark.parametrize(
    "method", ["client_secret_basic", "client_secret_post", "client_secret_jwt", "private_key_jwt"]
)
def test_a_cimd_document_with_a_secret_auth_method_is_refused(method: str) -> None:
    # CIMD R8
    refused(document(token_endpoint_auth_method=method), "invalid_client_metadata", cimd=CIMD_URL)


def test_a_cimd_document_carrying_a_client_secret_is_refused() -> None:
    # CIMD R8
    error = refused(document(client_secret="s3cret"), "invalid_client_metadata", cimd=CIMD_URL)
    assert "client_secret" in error.description


def test_a_cimd_document_without_redirect_uris_is_refused() -> None:
    # CIMD R5
    refused(document(redirect_uris=...), "invalid_redirect_uri", cimd=CIMD_URL)
