"""Fixtures of the admin tests: the CLI with a configured SQLite store, and a hand-moved clock."""

from __future__ import annotations

from pathlib import Path

import pytest

from .support import Cli


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> Cli:
    """``spotify-mcp`` in-process, configured with a SQLite store in the test's directory and no key ring yet."""
    return Cli(monkeypatch, capsys, tmp_path)
