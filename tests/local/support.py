"""Local-mode harness: the Spotify emulator on a real loopback socket, a terminal that watches what ``login``
prints, a browser that walks the sign-in, and the environment of a ``spotify-mcp stdio`` subprocess."""

from __future__ import annotations

import io
import re
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import anyio
import httpx2

from spotify_mcp.emulator import EmulatorConfig, World, create_emulator_app
from spotify_mcp.local.config import LocalSettings
from spotify_mcp.local.login import LoginResult, login
from tests.e2e.live import bound_socket, serve
from tests.support import SPOTIFY_CLIENT_ID, SPOTIFY_CLIENT_SECRET, parse_form, walk

REGISTERED_REDIRECT = "http://127.0.0.1:8888/callback"
WAIT = 20.0


@dataclass
class Emulator:
    """The emulator's base URL and world."""

    base: str
    world: World


@asynccontextmanager
async def emulator() -> AsyncIterator[Emulator]:
    """The Spotify emulator under uvicorn on 127.0.0.1; the app registers the loopback redirect URI."""
    sock = bound_socket()
    app = create_emulator_app(
        EmulatorConfig(
            client_id=SPOTIFY_CLIENT_ID, client_secret=SPOTIFY_CLIENT_SECRET, redirect_uris=[REGISTERED_REDIRECT]
        )
    )
    async with serve([(app, sock)]):
        yield Emulator(f"http://127.0.0.1:{sock.getsockname()[1]}", app.state.world)


def local_settings(data_dir: Path, emu: Emulator, *, secret: str | None = None, **overrides: Any) -> LocalSettings:
    """Local settings whose Spotify is the emulator (a public client unless ``secret`` is given)."""
    values: dict[str, Any] = {
        "spotify_client_id": SPOTIFY_CLIENT_ID,
        "spotify_client_secret": secret,
        "secret_key": None,
        "data_dir": data_dir,
        "spotify_accounts_url": emu.base,
        "spotify_api_url": f"{emu.base}/v1",
        **overrides,
    }
    return LocalSettings(**values)


class Terminal(io.StringIO):
    """What ``login`` prints; ``url_seen`` is set once the sign-in URL is there."""

    def __init__(self) -> None:
        super().__init__()
        self.url_seen = anyio.Event()

    def write(self, text: str) -> int:
        written = super().write(text)
        if "/authorize?" in self.getvalue():
            self.url_seen.set()
        return written

    def authorize_url(self) -> str:
        found = re.search(r"https?://\S+/authorize\?\S+", self.getvalue())
        assert found is not None, self.getvalue()
        return found.group(0)

    def redirect_uri(self) -> str:
        return parse_qs(urlsplit(self.authorize_url()).query)["redirect_uri"][0]


class Recorder(httpx2.AsyncBaseTransport):
    """The real network transport, keeping every request it sends."""

    def __init__(self) -> None:
        self.inner = httpx2.AsyncHTTPTransport()
        self.requests: list[httpx2.Request] = []

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()

    def token_requests(self) -> list[httpx2.Request]:
        return [r for r in self.requests if r.url.path == "/api/token"]


@dataclass
class Login:
    """A login running in the background, with its terminal."""

    terminal: Terminal
    result: LoginResult | None = None
    error: BaseException | None = None


@asynccontextmanager
async def running_login(
    settings: LocalSettings, *, wait_seconds: float = WAIT, transport: httpx2.AsyncBaseTransport | None = None
) -> AsyncIterator[Login]:
    """Start ``login`` (port 0, no browser) and yield once it has printed its sign-in URL; wait for its end."""
    running = Login(Terminal())

    async def run() -> None:
        try:
            running.result = await login(
                settings,
                port=0,
                open_browser=False,
                wait_seconds=wait_seconds,
                out=running.terminal,
                transport=transport,
            )
        except Exception as exc:
            running.error = exc

    with anyio.fail_after(wait_seconds + 30):
        async with anyio.create_task_group() as group:
            group.start_soon(run)
            with anyio.fail_after(WAIT):
                await running.terminal.url_seen.wait()
            yield running


async def sign_in(
    running: Login, emu: Emulator, *, action: str = "approve", user: str | None = None
) -> httpx2.Response:
    """Play the user: follow the printed URL through the emulator's sign-in page to our loopback callback.

    ``user`` picks a test user other than the preselected Premium one.
    """
    callback = running.terminal.redirect_uri()
    origin = callback.removesuffix("/callback")
    async with httpx2.AsyncClient(timeout=10) as browser:
        if user is None:
            return await walk(browser, running.terminal.authorize_url(), (emu.base, origin), action=action)
        page = await browser.get(running.terminal.authorize_url())
        form = parse_form(page.text)
        target = urljoin(str(page.url), form.action or "")
        answer = await browser.post(target, data={**form.fields, "user": user, "action": action})
        assert answer.status_code == 302, answer.text
        assert answer.headers["location"].startswith(callback)
        return await browser.get(answer.headers["location"])


async def log_in(settings: LocalSettings, emu: Emulator, *, user: str | None = None, **options: Any) -> LoginResult:
    """A whole successful login through the headless browser."""
    async with running_login(settings, **options) as running:
        page = await sign_in(running, emu, user=user)
        assert page.status_code == 200, page.text
    assert running.error is None, running.error
    assert running.result is not None
    return running.result


def spotify_mcp_executable() -> str:
    """The installed ``spotify-mcp`` console script of this environment."""
    script = Path(sys.executable).parent / "spotify-mcp"
    assert script.is_file(), f"{script} is missing: install the project (uv sync)"
    return str(script)


def stdio_env(settings: LocalSettings, emu: Emulator) -> dict[str, str]:
    """The environment of a ``spotify-mcp stdio`` subprocess for this test's data directory and emulator."""
    return {
        "SPOTIFY_MCP_DATA_DIR": str(settings.local_dir),
        "SPOTIFY_ACCOUNTS_URL": emu.base,
        "SPOTIFY_API_URL": f"{emu.base}/v1",
        "SPOTIFY_CLIENT_ID": SPOTIFY_CLIENT_ID,
    }
