"""docs/configuration.md is what the settings model declares: regenerate it with `make docs` when settings change."""

from __future__ import annotations

from pathlib import Path

from spotify_mcp.settings import Settings
from spotify_mcp.settings_doc import render_configuration_markdown

DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def test_the_configuration_reference_matches_the_settings_model() -> None:
    assert DOC.read_text(encoding="utf-8") == render_configuration_markdown(), "stale: run `make docs`"


def test_every_setting_is_described() -> None:
    assert [name for name, field in Settings.model_fields.items() if not field.description] == []


def test_the_public_contract_names_are_kept() -> None:
    text = render_configuration_markdown()
    for name in (
        "SPOTIFY_CLIENT_ID",
        "SPOTIFY_CLIENT_SECRET",
        "SPOTIFY_MCP_PUBLIC_URL",
        "SPOTIFY_MCP_STORE_URL",
        "SPOTIFY_MCP_SECRET_KEY",
        "SPOTIFY_ACCOUNTS_URL",
        "SPOTIFY_API_URL",
        "SPOTIFY_MCP_ALLOWED_HOSTS",
        "`PORT`",
    ):
        assert name in text, name
