"""SPOTIFY_MCP_METRICS=<port>: metrics on a listener of their own, in the same process as the server."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest

from spotify_mcp.app import create_app
from spotify_mcp.cli import build_servers, run_servers
from spotify_mcp.crypto import KeyRing
from spotify_mcp.settings import ConfigError
from tests.observability.conftest import Logs, origin, value
from tests.support import make_settings

pytestmark = pytest.mark.anyio


async def test_metrics_on_their_own_port_are_served_there_and_not_on_the_main_port(
    tmp_path: Path, listeners: list[socket.socket], capture_logs: Any
) -> None:
    logs: Logs = capture_logs("json")
    settings = make_settings(tmp_path, metrics="9464", metrics_host="127.0.0.1")
    servers = build_servers(create_app(settings, keys=KeyRing.ephemeral()), settings, "127.0.0.1", 8000)
    assert [(s.config.host, s.config.port) for s in servers] == [("127.0.0.1", 8000), ("127.0.0.1", 9464)]
    main, metrics = (origin(sock) for sock in listeners)
    started: list[bool] = []

    async def serve() -> None:
        started.append(await run_servers(servers, [[listeners[0]], [listeners[1]]]))

    with anyio.fail_after(30):
        async with anyio.create_task_group() as group, httpx2.AsyncClient() as http:
            group.start_soon(serve)
            assert (await http.get(f"{main}/healthz")).status_code == 200
            assert (await http.get(f"{main}/readyz")).status_code == 200
            assert (await http.get(f"{main}/metrics")).status_code == 404
            scraped = await http.get(f"{metrics}/metrics")
            assert (await http.get(f"{metrics}/healthz")).status_code == 404
            servers[0].should_exit = True
    assert started == [True]
    assert scraped.status_code == 200
    assert scraped.headers["cache-control"] == "no-store"
    requests = "spotify_mcp_http_requests_total"
    assert value(scraped.text, requests, route="/healthz", method="GET", status="200") == 1
    assert value(scraped.text, requests, route="/readyz", method="GET", status="200") == 1
    assert value(scraped.text, requests, route="(unmatched)", method="GET", status="404") == 1
    assert "process_cpu_seconds_total" in scraped.text
    # The metrics listener does not silence the main server's access log.
    access = [r["message"] for r in logs.records() if r["logger"] == "uvicorn.access"]
    assert any('"GET /healthz HTTP/1.1" 200' in line for line in access)


def test_metrics_on_the_main_port_need_no_second_listener(tmp_path: Path) -> None:
    for setting in ("on", "off"):
        settings = make_settings(tmp_path, metrics=setting)
        assert len(build_servers(create_app(settings, keys=KeyRing.ephemeral()), settings, "127.0.0.1", 8000)) == 1


def test_a_metrics_port_equal_to_the_main_port_is_refused(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, metrics="8000")
    with pytest.raises(ConfigError, match="main port"):
        build_servers(create_app(settings, keys=KeyRing.ephemeral()), settings, "127.0.0.1", 8000)
