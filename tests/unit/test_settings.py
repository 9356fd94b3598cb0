"""Settings: the public environment names, validation with advice, and derived URLs."""

from __future__ import annotations

import pytest

from spotify_mcp.settings import ConfigError, load_settings

BASE = {"SPOTIFY_CLIENT_ID": "id", "SPOTIFY_CLIENT_SECRET": "secret"}


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    monkeypatch.chdir(str(tmp_path))
    for name in ("SPOTIFY_MCP_PUBLIC_URL", "SPOTIFY_MCP_SECRET_KEY", "SPOTIFY_MCP_ALLOWED_HOSTS", "PORT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in BASE.items():
        monkeypatch.setenv(name, value)


def test_the_seed_names_configure_the_spotify_app() -> None:
    settings = load_settings()
    assert settings.spotify_client_id == "id"
    assert settings.spotify_client_secret.get_secret_value() == "secret"


def test_urls_derive_from_the_public_url_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPOTIFY_MCP_PUBLIC_URL", "https://mcp.example.com/")
    settings = load_settings()
    assert settings.issuer == "https://mcp.example.com"
    assert settings.mcp_url == "https://mcp.example.com/mcp"
    assert settings.callback_url == "https://mcp.example.com/callback"
    assert settings.is_https


def test_plain_http_is_refused_except_on_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPOTIFY_MCP_PUBLIC_URL", "http://mcp.example.com")
    with pytest.raises(ConfigError, match="SPOTIFY_MCP_PUBLIC_URL"):
        load_settings()


def test_a_missing_client_id_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SPOTIFY_CLIENT_ID")
    with pytest.raises(ConfigError, match="SPOTIFY_CLIENT_ID is required"):
        load_settings()


def test_a_bad_secret_key_is_refused_with_a_command_to_generate_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPOTIFY_MCP_SECRET_KEY", "not-a-key")
    with pytest.raises(ConfigError, match="generate one with"):
        load_settings()


def test_a_missing_secret_key_is_an_error_when_the_key_ring_is_needed() -> None:
    with pytest.raises(ConfigError, match="SPOTIFY_MCP_SECRET_KEY is not set"):
        load_settings().key_ring()


def test_allowed_hosts_and_port_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPOTIFY_MCP_ALLOWED_HOSTS", "a.example, b.example:8443")
    monkeypatch.setenv("PORT", "9100")
    settings = load_settings()
    assert settings.allowed_hosts == ("a.example", "b.example:8443")
    assert settings.port == 9100


def test_an_unknown_scope_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPOTIFY_MCP_SCOPES", "user-read-private admin-everything")
    with pytest.raises(ConfigError, match="unknown Spotify scopes"):
        load_settings()


def test_a_dotenv_file_is_read(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    monkeypatch.delenv("SPOTIFY_CLIENT_ID")
    (__import__("pathlib").Path(str(tmp_path)) / ".env").write_text("SPOTIFY_CLIENT_ID=from-dotenv\n")
    assert load_settings().spotify_client_id == "from-dotenv"
