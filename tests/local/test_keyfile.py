"""The local sealing key: generated once, private to the user, refused when others could read it."""

from __future__ import annotations

import io
import stat
from pathlib import Path

import pytest

from spotify_mcp.crypto import KeyRing
from spotify_mcp.local.config import LocalSettings, prepare_data_dir
from spotify_mcp.local.keyfile import KeyFileError, key_file_path, local_key_ring, read_key_file
from spotify_mcp.local.login import login


def test_a_key_is_generated_once_private_and_reused(tmp_path: Path) -> None:
    data_dir = prepare_data_dir(tmp_path / "data")
    first = local_key_ring(None, data_dir, create=True)
    path = key_file_path(data_dir)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    sealed = first.seal("secret", "context")
    again = local_key_ring(None, data_dir, create=True)
    assert again.unseal(sealed, "context") == "secret"


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o602])
def test_a_key_file_other_users_can_access_is_refused(tmp_path: Path, mode: int) -> None:
    data_dir = prepare_data_dir(tmp_path / "data")
    local_key_ring(None, data_dir, create=True)
    path = key_file_path(data_dir)
    path.chmod(mode)
    with pytest.raises(KeyFileError, match=f"chmod 600 {path}"):
        local_key_ring(None, data_dir, create=True)
    with pytest.raises(KeyFileError, match="accessible to other users"):
        read_key_file(path)


def test_a_missing_key_file_is_not_created_when_serving(tmp_path: Path) -> None:
    data_dir = prepare_data_dir(tmp_path / "data")
    with pytest.raises(KeyFileError, match="spotify-mcp login"):
        local_key_ring(None, data_dir, create=False)
    assert not key_file_path(data_dir).exists()


def test_a_malformed_key_file_is_refused_with_advice(tmp_path: Path) -> None:
    data_dir = prepare_data_dir(tmp_path / "data")
    path = key_file_path(data_dir)
    path.write_text("not a key\n")
    path.chmod(0o600)
    with pytest.raises(KeyFileError, match="does not hold a valid key"):
        read_key_file(path)


def test_the_configured_secret_key_wins_over_the_key_file(tmp_path: Path) -> None:
    data_dir = prepare_data_dir(tmp_path / "data")
    key = "B" * 43 + "="
    ring = local_key_ring(key, data_dir, create=True)
    assert ring.current_kid == KeyRing.parse(key).current_kid
    assert not key_file_path(data_dir).exists()


def test_an_existing_data_directory_open_to_others_is_made_private(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    data_dir.chmod(0o755)
    prepare_data_dir(data_dir)
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700


@pytest.mark.anyio
async def test_login_refuses_a_key_file_other_users_can_read_before_listening(tmp_path: Path) -> None:
    data_dir = prepare_data_dir(tmp_path / "data")
    local_key_ring(None, data_dir, create=True)
    key_file_path(data_dir).chmod(0o644)
    settings = LocalSettings(spotify_client_id="app", secret_key=None, data_dir=data_dir)
    with pytest.raises(KeyFileError, match="chmod 600"):
        await login(settings, port=0, open_browser=False, out=io.StringIO())
