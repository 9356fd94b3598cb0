"""The instructions of docs/clients.md for mcp-remote and the MCP Inspector CLI, run against the emulator.

The real npm packages (pinned in tests/clients/npm) talk to the real server over loopback sockets. Their OAuth
browser step is played by tests/clients/browser.py, given to them as ``$BROWSER``: it opens the authorization
URL, approves our consent page, signs in at the Spotify emulator and opens the client's own loopback callback
exactly as the server redirected to it.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from tests.clients.npm_clients import (
    BrowserShim,
    NpmClients,
    client_env,
    free_port,
    make_browser_shim,
    run_client,
    stdio_peer,
)
from tests.e2e.live import Live

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]

PROTOCOL = "2025-06-18"
USER = "premium-user"
CALL_PROFILE = ("--method", "tools/call", "--tool-name", "getCurrentUserProfile")


def assert_profile(response: dict[str, object]) -> None:
    """A tools/call result that is the emulator's Premium user's profile."""
    result = response.get("result")
    assert isinstance(result, dict), response
    assert result["isError"] is False, result
    assert result["structuredContent"]["id"] == USER
    assert result["structuredContent"]["display_name"] == "Pia Premium"


async def test_mcp_remote_signs_in_once_then_proxies_tool_calls_over_stdio_with_its_cached_tokens(
    npm_clients: NpmClients, server: Live, shim: BrowserShim, tmp_path: Path
) -> None:
    port = free_port()
    config_dir = tmp_path / "mcp-auth"
    command = npm_clients.command("mcp-remote", server.mcp_url, str(port))
    env = client_env(tmp_path / "home", MCP_REMOTE_CONFIG_DIR=str(config_dir), **shim.env())
    hello = {"protocolVersion": PROTOCOL, "capabilities": {}, "clientInfo": {"name": "stdio-only", "version": "1"}}

    async with stdio_peer(command, env) as peer:
        initialized = await peer.request("initialize", hello, seconds=90)
        assert initialized["result"]["serverInfo"]["name"] == "spotify-mcp", initialized
        await peer.notify("notifications/initialized")
        listed = await peer.request("tools/list")
        names = {tool["name"] for tool in listed["result"]["tools"]}
        assert {"getCurrentUserProfile", "searchTracks", "startPlayback"} <= names
        assert_profile(await peer.request("tools/call", {"name": "getCurrentUserProfile", "arguments": {}}))
    assert "Error from remote server" not in peer.stderr_text()

    # mcp-remote registered its own loopback redirect (localhost, as it does by default); our server accepted it
    # and sent the browser back to exactly that URL, with our code and issuer.
    redirect_uri, last = shim.authorization()
    assert redirect_uri == f"http://localhost:{port}/oauth/callback"
    assert last.startswith(f"{redirect_uri}?code=smcp_ac_")
    assert "iss=" in last
    cached = list(config_dir.glob("mcp-remote-*/*_tokens.json"))
    assert len(cached) == 1, list(config_dir.rglob("*"))
    assert stat.S_IMODE(cached[0].stat().st_mode) == 0o600
    assert json.loads(cached[0].read_text())["access_token"].startswith("smcp_at_")

    # The next start (a client app restarting the proxy) uses the cached tokens: no browser at all.
    again = make_browser_shim(tmp_path / "second-browser")
    env = client_env(tmp_path / "home", MCP_REMOTE_CONFIG_DIR=str(config_dir), **again.env())
    async with stdio_peer(command, env) as peer:
        await peer.request("initialize", hello)
        await peer.notify("notifications/initialized")
        assert_profile(await peer.request("tools/call", {"name": "getCurrentUserProfile", "arguments": {}}))
    assert again.hops() == []


async def test_the_inspector_cli_signs_in_then_calls_tools_with_its_stored_login_in_both_protocol_eras(
    npm_clients: NpmClients, server: Live, shim: BrowserShim, tmp_path: Path
) -> None:
    callback = f"http://127.0.0.1:{free_port()}/oauth/callback"
    base = npm_clients.command("mcp-inspector", "--cli", server.mcp_url, "--transport", "http")
    env = client_env(tmp_path / "home", MCP_INSPECTOR_SECRET_STORE="file", **shim.env())

    # Without a stored login, --stored-auth-only refuses instead of opening a browser.
    refused = await run_client([*base, "--stored-auth-only", "--method", "tools/list", "--format", "json"], env)
    assert refused.returncode == 3, refused
    assert '"auth_required"' in refused.stderr
    assert shim.hops() == []

    # Interactive sign-in without a TTY: MCP_AUTO_OPEN_ENABLED=true lets it open $BROWSER.
    signed_in = await run_client(
        [*base, "--callback-url", callback, "--method", "tools/list", "--format", "json"],
        {**env, "MCP_AUTO_OPEN_ENABLED": "true"},
        seconds=90,
    )
    assert signed_in.returncode == 0, signed_in
    assert "Please navigate to: " in signed_in.stderr
    names = {tool["name"] for tool in signed_in.json()["result"]["tools"]}
    assert {"getCurrentUserProfile", "searchTracks", "startPlayback"} <= names
    redirect_uri, last = shim.authorization()
    assert redirect_uri == callback
    assert last.startswith(f"{callback}?code=smcp_ac_")
    visits = len(shim.hops())
    secrets = tmp_path / "home" / ".mcp-inspector" / "secrets.json"
    assert stat.S_IMODE(secrets.stat().st_mode) == 0o600

    for era in ("legacy", "modern"):  # 2025-era sessions, and 2026-07-28 stateless requests
        called = await run_client(
            [*base, "--stored-auth-only", "--protocol-era", era, *CALL_PROFILE, "--format", "json"],
            env,
        )
        assert called.returncode == 0, called
        assert_profile(called.json())
    assert len(shim.hops()) == visits
