"""Fixtures of the npm client tests: the installed clients (once per session), a server, a browser shim."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.clients.npm_clients import BrowserShim, NpmClients, install_clients, make_browser_shim
from tests.e2e.live import Live, live


@pytest.fixture(scope="session")
def npm_clients() -> NpmClients:
    """mcp-remote and MCP Inspector from tests/clients/npm, installed with ``npm ci`` when not yet current."""
    return install_clients()


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Live]:
    """The server and the Spotify emulator on real loopback sockets."""
    data = tmp_path / "server"
    data.mkdir()
    async with live(data) as running:
        yield running


@pytest.fixture
def shim(tmp_path: Path) -> BrowserShim:
    """A ``$BROWSER`` that approves consent and signs in at the emulator, logging every hop."""
    return make_browser_shim(tmp_path / "browser")
