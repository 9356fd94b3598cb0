"""The command line: ``serve`` refuses to start misconfigured; ``demo`` serves a working server."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import httpx2
import pytest

from spotify_mcp.cli import main


def test_serve_without_a_secret_key_exits_with_advice(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SPOTIFY_CLIENT_ID", "id")
    monkeypatch.setenv("SPOTIFY_CLIENT_SECRET", "secret")
    monkeypatch.delenv("SPOTIFY_MCP_SECRET_KEY", raising=False)
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert "SPOTIFY_MCP_SECRET_KEY is not set" in err
    assert "secrets.token_bytes(32)" in err


def free_port_pair() -> int:
    """A port that is free with the next one free too (the demo puts its emulator on PORT + 1)."""
    for _ in range(50):
        with socket.socket() as first:
            first.bind(("127.0.0.1", 0))
            port = int(first.getsockname()[1])
            with socket.socket() as second:
                try:
                    second.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
        return port
    raise AssertionError("no two consecutive free ports on 127.0.0.1")


@pytest.mark.e2e
def test_demo_serves_the_mcp_endpoint_and_prints_how_to_connect(tmp_path: Path) -> None:
    port = free_port_pair()
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path)}
    process = subprocess.Popen(
        [sys.executable, "-m", "spotify_mcp.cli", "demo", "--port", str(port)],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    try:
        assert process.stderr is not None
        seen: list[str] = []
        for _ in range(200):
            line = process.stderr.readline()
            seen.append(line)
            if f"Uvicorn running on http://127.0.0.1:{port} " in line or not line:
                break
        output = "".join(seen)
        assert f"Uvicorn running on http://127.0.0.1:{port} " in output, output
        assert f"http://127.0.0.1:{port}/mcp" in output
        assert "npx @modelcontextprotocol/inspector" in output
        metadata = httpx2.get(f"http://127.0.0.1:{port}/.well-known/oauth-authorization-server").json()
        assert metadata["issuer"] == f"http://127.0.0.1:{port}"
        assert httpx2.post(f"http://127.0.0.1:{port}/mcp", json={}).status_code == 401
    finally:
        process.terminate()
        process.wait(timeout=20)
        if process.stderr is not None:
            process.stderr.close()
