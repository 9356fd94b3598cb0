"""``spotify-mcp login``: one sign-in through a loopback redirect, stored sealed, remembered as the local user."""

from __future__ import annotations

import io
import json
import os
import re
import stat
from pathlib import Path
from urllib.parse import parse_qs

import anyio
import httpx2
import pytest

from spotify_mcp.crypto import KeyRing
from spotify_mcp.emulator import FREE_USER, PREMIUM_USER
from spotify_mcp.local.config import LocalSettings, read_profile
from spotify_mcp.local.keyfile import key_file_path, read_key_file
from spotify_mcp.local.login import LoginError, client_configs, listen_on_loopback, login
from spotify_mcp.settings import ConfigError
from spotify_mcp.spotify.credentials import seal_context
from spotify_mcp.store import open_store
from tests.local.support import (
    Emulator,
    Recorder,
    emulator,
    local_settings,
    log_in,
    running_login,
    sign_in,
    spotify_mcp_executable,
    stdio_env,
)
from tests.support import SPOTIFY_CLIENT_ID, SPOTIFY_CLIENT_SECRET, walk

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]


def user_tokens(emu: Emulator, user_id: str) -> list[str]:
    """Every access and refresh token the emulator issued to the user."""
    world = emu.world
    access = [t for t, record in world.access_tokens.items() if record.grant.user_id == user_id]
    refresh = [t for t, record in world.refresh_tokens.items() if record.grant.user_id == user_id]
    return access + refresh


def files_bytes(directory: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(directory.iterdir()) if p.is_file())


async def stored_access_token(settings: LocalSettings, keys: KeyRing, user_id: str) -> str | None:
    store = await open_store(settings.local_store_url)
    try:
        creds = await store.get_spotify_credentials(user_id)
    finally:
        await store.close()
    return None if creds is None else keys.unseal(creds.access_token_sealed, seal_context(user_id, "access"))


async def test_a_public_client_login_stores_the_tokens_sealed_and_remembers_the_local_user(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    recorder = Recorder()
    async with emulator() as emu:
        settings = local_settings(data_dir, emu)
        result = await log_in(settings, emu, transport=recorder)

        assert result.user_id == PREMIUM_USER
        profile = read_profile(data_dir)
        assert profile is not None
        assert profile.user_id == PREMIUM_USER
        assert profile.client_id == SPOTIFY_CLIENT_ID
        assert profile.client_secret_sealed is None
        assert "user-read-playback-state" in profile.scopes

        issued = user_tokens(emu, PREMIUM_USER)
        assert issued
        everything = files_bytes(data_dir)
        assert all(token.encode() not in everything for token in issued), "a Spotify token is stored in clear"
        keys = read_key_file(key_file_path(data_dir))
        assert await stored_access_token(settings, keys, PREMIUM_USER) in issued

    assert stat.S_IMODE(key_file_path(data_dir).stat().st_mode) == 0o600
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE((data_dir / "local.json").stat().st_mode) == 0o600

    [exchange] = recorder.token_requests()
    assert "authorization" not in exchange.headers
    form = parse_qs(exchange.content.decode())
    assert form["grant_type"] == ["authorization_code"]
    assert form["client_id"] == [SPOTIFY_CLIENT_ID]
    assert len(form["code_verifier"][0]) >= 43
    assert "client_secret" not in form


async def test_a_login_with_a_client_secret_authenticates_with_it_and_keeps_it_sealed(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    recorder = Recorder()
    async with emulator() as emu:
        settings = local_settings(data_dir, emu, secret=SPOTIFY_CLIENT_SECRET)
        await log_in(settings, emu, transport=recorder)

    [exchange] = recorder.token_requests()
    assert exchange.headers["authorization"].startswith("Basic ")
    assert "code_verifier" in parse_qs(exchange.content.decode())
    profile = read_profile(data_dir)
    assert profile is not None
    assert profile.client_secret_sealed is not None
    assert SPOTIFY_CLIENT_SECRET.encode() not in files_bytes(data_dir)


async def test_a_callback_with_a_wrong_state_is_refused_and_stores_nothing(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    async with emulator() as emu:
        settings = local_settings(data_dir, emu)
        async with running_login(settings) as running:
            async with httpx2.AsyncClient(timeout=10) as attacker:
                forged = await attacker.get(running.terminal.redirect_uri(), params={"code": "AQforged", "state": "x"})
            assert forged.status_code == 400
            assert "does not match" in forged.text
            assert read_profile(data_dir) is None
            assert emu.world.token_requests["authorization_code"] == 0
            assert await stored_access_token(settings, read_key_file(key_file_path(data_dir)), PREMIUM_USER) is None
            # The genuine sign-in still completes: a forged response cannot cancel the login.
            page = await sign_in(running, emu)
            assert page.status_code == 200
        assert running.error is None
        assert read_profile(data_dir) is not None


async def test_without_a_sign_in_the_login_gives_up_after_its_wait_and_says_so(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    async with emulator() as emu:
        settings = local_settings(data_dir, emu)
        async with running_login(settings, wait_seconds=0.5) as running, httpx2.AsyncClient(timeout=10) as attacker:
            await attacker.get(running.terminal.redirect_uri(), params={"code": "AQforged", "state": "x"})
    assert isinstance(running.error, LoginError)
    assert "no sign-in arrived" in str(running.error)
    assert "1 response(s) with a wrong state were refused" in str(running.error)
    assert read_profile(data_dir) is None


async def test_declining_at_spotify_stores_nothing(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    async with emulator() as emu:
        settings = local_settings(data_dir, emu)
        async with running_login(settings) as running:
            page = await sign_in(running, emu, action="deny")
            assert page.status_code == 400
    assert isinstance(running.error, LoginError)
    assert "declined" in str(running.error)
    assert read_profile(data_dir) is None


async def test_signing_in_as_someone_else_replaces_the_local_user(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    async with emulator() as emu:
        settings = local_settings(data_dir, emu)
        await log_in(settings, emu)
        second = await log_in(settings, emu, user=FREE_USER)
        assert second.user_id == FREE_USER
        keys = read_key_file(key_file_path(data_dir))
        assert await stored_access_token(settings, keys, PREMIUM_USER) is None
        assert await stored_access_token(settings, keys, second.user_id) is not None
    profile = read_profile(data_dir)
    assert profile is not None
    assert profile.user_id == second.user_id


async def test_a_configured_secret_key_seals_instead_of_a_key_file(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    key = "A" * 43 + "="
    async with emulator() as emu:
        settings = local_settings(data_dir, emu, secret_key=key)
        await log_in(settings, emu)
        assert not key_file_path(data_dir).exists()
        assert await stored_access_token(settings, KeyRing.parse(key), PREMIUM_USER) in user_tokens(emu, PREMIUM_USER)


async def test_login_needs_a_client_id_and_says_where_to_get_one(tmp_path: Path) -> None:
    async with emulator() as emu:
        settings = local_settings(tmp_path / "data", emu, spotify_client_id=None)
        with pytest.raises(ConfigError, match="SPOTIFY_CLIENT_ID is not set") as caught:
            await login(settings, port=0, open_browser=False, out=io.StringIO())
    assert "add the redirect URI http://127.0.0.1:PORT/callback" in str(caught.value)


async def test_a_port_in_use_is_refused_with_advice(tmp_path: Path) -> None:
    taken = listen_on_loopback(0)
    try:
        with pytest.raises(LoginError, match="--port"):
            listen_on_loopback(taken.getsockname()[1])
    finally:
        taken.close()


def test_the_printed_client_configs_start_the_stdio_server_by_absolute_path() -> None:
    command = ["/opt/spotify mcp/bin/spotify-mcp", "stdio"]
    text = client_configs(command, {"SPOTIFY_MCP_DATA_DIR": "/data"}, needs_secret_key=False)
    desktop = json.loads(text[text.index("{") : text.index("\n}\n") + 2])
    assert desktop == {
        "mcpServers": {
            "spotify": {
                "command": "/opt/spotify mcp/bin/spotify-mcp",
                "args": ["stdio"],
                "env": {"SPOTIFY_MCP_DATA_DIR": "/data"},
            }
        }
    }
    assert "claude mcp add spotify -e SPOTIFY_MCP_DATA_DIR=/data -- '/opt/spotify mcp/bin/spotify-mcp' stdio" in text
    assert "~/.cursor/mcp.json" in text
    assert "SPOTIFY_MCP_SECRET_KEY" in client_configs(command, {}, needs_secret_key=True)


async def test_the_login_command_prints_a_config_naming_the_installed_executable(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    async with emulator() as emu:
        settings = local_settings(data_dir, emu)
        env = {**os.environ, **stdio_env(settings, emu), "XDG_DATA_HOME": str(tmp_path / "xdg")}
        env.pop("SPOTIFY_MCP_SECRET_KEY", None)
        env.pop("SPOTIFY_CLIENT_SECRET", None)
        command = [spotify_mcp_executable(), "login", "--port", "0", "--no-browser"]
        with anyio.fail_after(180):  # a cold interpreter start on a loaded machine takes a while
            async with await anyio.open_process(command, env=env, cwd=tmp_path) as process:
                assert process.stdout is not None
                printed = ""
                async for chunk in process.stdout:
                    printed += chunk.decode()
                    if re.search(r"/authorize\?\S+\n", printed):
                        break
                url = re.search(r"https?://\S+/authorize\?\S+", printed)
                assert url is not None
                origin = parse_qs(url.group(0).split("?", 1)[1])["redirect_uri"][0].removesuffix("/callback")
                async with httpx2.AsyncClient(timeout=10) as browser:
                    page = await walk(browser, url.group(0), (emu.base, origin))
                assert page.status_code == 200, page.text
                async for chunk in process.stdout:
                    printed += chunk.decode()
                assert await process.wait() == 0
    assert re.search(rf"Signed in to Spotify as .*\({PREMIUM_USER}\)", printed), printed
    assert f'"command": "{spotify_mcp_executable()}"' in printed
    assert f"claude mcp add spotify -e SPOTIFY_MCP_DATA_DIR={data_dir}" in printed
