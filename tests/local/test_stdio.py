"""``spotify-mcp stdio``: the same toolset over stdio, acting as the user ``login`` signed in.

The server runs as a subprocess driven by the official ``mcp`` client's stdio transport; its Spotify is the
emulator on a real loopback socket in this process.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import pytest
from mcp.client import Client
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.types import TextContent

from spotify_mcp.emulator import PREMIUM_USER
from spotify_mcp.local.config import LocalSettings
from spotify_mcp.server.mcp_server import build_mcp_server
from spotify_mcp.services import Runtime
from tests.local.support import Emulator, emulator, local_settings, log_in, spotify_mcp_executable, stdio_env

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]

# A cold interpreter start imports the whole server; on a loaded machine that alone can take many seconds.
SESSION_LIMIT = 180.0


@asynccontextmanager
async def stdio_session(settings: LocalSettings, emu: Emulator, tmp_path: Path) -> AsyncIterator[Client]:
    """``spotify-mcp stdio`` as a subprocess, connected through the official client's stdio transport."""
    params = StdioServerParameters(
        command=spotify_mcp_executable(), args=["stdio"], env=stdio_env(settings, emu), cwd=tmp_path
    )
    with (tmp_path / "stdio.stderr").open("w") as errlog:
        async with Client(stdio_client(params, errlog=errlog)) as client:
            yield client


def text(content: list[object]) -> str:
    return "\n".join(c.text for c in content if isinstance(c, TextContent))


async def test_stdio_serves_the_remote_catalogue_as_the_signed_in_user_and_refreshes_as_a_public_client(
    tmp_path: Path,
) -> None:
    with anyio.fail_after(SESSION_LIMIT):
        async with emulator() as emu:
            settings = local_settings(tmp_path / "data", emu)
            await log_in(settings, emu)
            async with stdio_session(settings, emu, tmp_path) as client:
                listed = await client.list_tools()
                remote = await build_mcp_server(Runtime()).list_tools()
                assert [t.name for t in listed.tools] == [t.name for t in remote]

                me = await client.call_tool("getCurrentUserProfile", {})
                assert not me.is_error, text(me.content)
                assert me.structured_content is not None
                assert me.structured_content["id"] == PREMIUM_USER

                playing = await client.call_tool("getCurrentPlayback", {})
                assert not playing.is_error, text(playing.content)
                assert playing.structured_content is not None
                assert playing.structured_content["is_playing"] is True

                # An expired access token is refreshed as the same public client, without a secret.
                emu.world.expire_access_tokens()
                again = await client.call_tool("getCurrentUserProfile", {})
                assert not again.is_error, text(again.content)
                assert emu.world.token_requests["refresh_token"] == 1
    assert "/v1/me" in [path for _, path in emu.world.api_calls]


async def test_after_spotify_consent_ends_a_tool_says_to_run_login_again(tmp_path: Path) -> None:
    with anyio.fail_after(SESSION_LIMIT):
        async with emulator() as emu:
            settings = local_settings(tmp_path / "data", emu)
            await log_in(settings, emu)
            async with stdio_session(settings, emu, tmp_path) as client:
                assert not (await client.call_tool("getCurrentUserProfile", {})).is_error
                emu.world.revoke_user_consent(PREMIUM_USER)
                emu.world.expire_access_tokens()
                ended = await client.call_tool("getCurrentUserProfile", {})
    assert ended.is_error
    message = text(ended.content)
    assert "Spotify access for this account has ended" in message
    assert "run `spotify-mcp login` again" in message
    assert "reconnect this server" not in message


def run_stdio(env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """``spotify-mcp stdio`` with stdin closed at once; its exit status and output."""
    return subprocess.run(
        [spotify_mcp_executable(), "stdio"],
        env={"PATH": os.environ.get("PATH", ""), "HOME": str(cwd), **env},
        cwd=cwd,
        input="",
        capture_output=True,
        text=True,
        timeout=SESSION_LIMIT,
        check=False,
    )


def test_stdio_without_a_login_exits_with_advice_on_stderr(tmp_path: Path) -> None:
    finished = run_stdio({"SPOTIFY_MCP_DATA_DIR": str(tmp_path / "data")}, tmp_path)
    assert finished.returncode != 0
    assert finished.stdout == ""
    assert "run `spotify-mcp login` first" in finished.stderr


def test_stdio_refuses_a_key_file_other_users_can_read(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o700)
    (data_dir / "local.json").write_text(
        '{"version": 1, "user_id": "premium-user", "display_name": null, "client_id": "app", '
        '"client_secret_sealed": null, "scopes": [], "logged_in_at": 0}'
    )
    key = data_dir / "local.key"
    key.write_text("A" * 43 + "=\n")
    key.chmod(0o644)
    finished = run_stdio({"SPOTIFY_MCP_DATA_DIR": str(data_dir)}, tmp_path)
    assert finished.returncode != 0
    assert finished.stdout == ""
    assert f"chmod 600 {key}" in finished.stderr
