"""``spotify-mcp login``: sign in to Spotify once through a loopback redirect and keep the tokens, sealed.

The flow is Spotify's authorization code flow with PKCE (S256) and a random ``state``, redirected to a one-shot
listener on ``http://127.0.0.1:PORT/callback`` (Spotify matches redirect URIs exactly and refuses
``localhost``). Without ``SPOTIFY_CLIENT_SECRET`` it is a public PKCE client; with it, a confidential one.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import shlex
import socket
import sys
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import anyio
import anyio.to_thread
import httpx2
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from spotify_mcp.clock import Clock
from spotify_mcp.crypto import KeyRing, new_pkce_verifier, pkce_challenge
from spotify_mcp.local.config import (
    CLIENT_SECRET_CONTEXT,
    LocalProfile,
    LocalSettings,
    prepare_data_dir,
    read_profile,
    write_profile,
)
from spotify_mcp.local.keyfile import local_key_ring
from spotify_mcp.local.services import local_runtime
from spotify_mcp.services import Services
from spotify_mcp.settings import ConfigError, Settings, default_data_dir
from spotify_mcp.spotify.errors import SpotifyAPIError, SpotifyAuthError, SpotifyUnavailable
from spotify_mcp.web.pages import error_page
from spotify_mcp.web.responses import html_page

DEFAULT_PORT = 8888
DEFAULT_WAIT = 300.0
CALLBACK_PATH = "/callback"
_MAX_CODE = 4096
_FINISH_GRACE = 60.0

logger = logging.getLogger(__name__)

Opener = Callable[[str], object]


class LoginError(Exception):
    """The login did not complete; the message says why and what to do. Nothing was stored."""


@dataclass(frozen=True, slots=True)
class LoginResult:
    """Who signed in, with which scopes, and where it is kept."""

    user_id: str
    display_name: str | None
    scopes: tuple[str, ...]
    redirect_uri: str
    data_dir: Path


def redirect_uri_for(port: int | str) -> str:
    """The loopback redirect URI to register in the Spotify dashboard for ``port``."""
    return f"http://127.0.0.1:{port}{CALLBACK_PATH}"


def listen_on_loopback(port: int) -> socket.socket:
    """A listening socket on ``127.0.0.1:port`` (0 picks a free port), or advice when the port is taken."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        if os.name == "posix":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        sock.listen(16)
    except OSError as exc:
        sock.close()
        raise LoginError(
            f"cannot listen on 127.0.0.1:{port} ({exc.strerror or exc}); another program may be using it. "
            f"Pass --port with a free port, and register {redirect_uri_for('PORT')} with that port in your Spotify app."
        ) from None
    return sock


async def login(
    settings: LocalSettings,
    *,
    port: int = DEFAULT_PORT,
    open_browser: bool = True,
    wait_seconds: float = DEFAULT_WAIT,
    out: TextIO | None = None,
    opener: Opener = webbrowser.open,
    clock: Clock | None = None,
    transport: httpx2.AsyncBaseTransport | None = None,
) -> LoginResult:
    """Run the sign-in once; store the user's Spotify tokens sealed and remember them as the local user.

    Prints the redirect URI to register and the sign-in URL to ``out`` (stdout by default), opens the browser
    unless ``open_browser`` is false, and waits at most ``wait_seconds`` for Spotify's redirect.
    """
    stream = out if out is not None else sys.stdout
    client_id = settings.spotify_client_id
    if not client_id:
        raise ConfigError(
            "SPOTIFY_CLIENT_ID is not set: create an app in the Spotify Developer Dashboard "
            f"(https://developer.spotify.com/dashboard), add the redirect URI {redirect_uri_for(port or 'PORT')}, "
            "and set SPOTIFY_CLIENT_ID to its client id (SPOTIFY_CLIENT_SECRET is optional)"
        )
    secret = settings.spotify_client_secret.get_secret_value() if settings.spotify_client_secret else None
    data_dir = prepare_data_dir(settings.local_dir)
    configured_key = settings.secret_key.get_secret_value() if settings.secret_key else None
    keys = local_key_ring(configured_key, data_dir, create=True)
    sock = listen_on_loopback(port)
    try:
        redirect_uri = redirect_uri_for(sock.getsockname()[1])
        async with local_runtime(
            settings, keys, client_id=client_id, client_secret=secret, clock=clock, transport=transport
        ) as runtime:
            flow = _Flow(runtime.services, keys, data_dir, client_id=client_id, secret=secret, redirect=redirect_uri)
            url = runtime.services.accounts.authorize_url(
                redirect_uri=redirect_uri, state=flow.state, code_challenge=flow.challenge, scopes=settings.scopes
            )
            _say(stream, _start_text(redirect_uri, url, client_secret=secret is not None, wait_seconds=wait_seconds))
            return await _serve_until_done(flow, sock, url, open_browser, opener, wait_seconds, stream)
    finally:
        sock.close()


async def _serve_until_done(
    flow: _Flow, sock: socket.socket, url: str, open_browser: bool, opener: Opener, wait_seconds: float, out: TextIO
) -> LoginResult:
    app = Starlette(routes=[Route(CALLBACK_PATH, flow.callback, methods=["GET"])])
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False))

    async def run_server() -> None:
        try:
            await server.serve(sockets=[sock])
        finally:
            flow.stopped = True
            flow.done.set()

    async with anyio.create_task_group() as group:
        group.start_soon(run_server)
        try:
            if open_browser and not await anyio.to_thread.run_sync(opener, url, abandon_on_cancel=True):
                _say(out, "Could not open a browser: open the URL above yourself.\n")
            with anyio.move_on_after(wait_seconds) as waiting:
                await flow.done.wait()
            if flow.claimed and not flow.done.is_set():
                with anyio.move_on_after(_FINISH_GRACE):  # the code exchange is under way: let it finish
                    await flow.done.wait()
        finally:
            server.should_exit = True
    if flow.error is not None:
        raise flow.error
    if flow.result is None:
        if not waiting.cancelled_caught:
            raise LoginError("the login was interrupted before Spotify redirected back; nothing was stored")
        refused = f" ({flow.refused} response(s) with a wrong state were refused)" if flow.refused else ""
        waited = _duration(wait_seconds)
        raise LoginError(
            f"no sign-in arrived at {flow.redirect} within {waited}{refused}; nothing was stored. "
            "Run `spotify-mcp login` again and finish the sign-in in the browser."
        )
    return flow.result


class _Flow:
    """One sign-in: its secrets, and the callback that completes it exactly once."""

    def __init__(
        self,
        services: Services,
        keys: KeyRing,
        data_dir: Path,
        *,
        client_id: str,
        secret: str | None,
        redirect: str,
    ) -> None:
        self.services = services
        self.keys = keys
        self.data_dir = data_dir
        self.client_id = client_id
        self.secret = secret
        self.redirect = redirect
        self.state = secrets.token_urlsafe(32)
        self.verifier = new_pkce_verifier()
        self.challenge = pkce_challenge(self.verifier)
        self.done = anyio.Event()
        self.claimed = False
        self.stopped = False
        self.refused = 0
        self.result: LoginResult | None = None
        self.error: LoginError | None = None

    async def callback(self, request: Request) -> Response:
        """Spotify's redirect: refuse a foreign ``state``; otherwise finish the login (once)."""
        params = request.query_params
        if self.claimed:
            return _page(409, "Sign-in already handled", "This sign-in is already complete; you can close this tab.")
        if not secrets.compare_digest(params.get("state", "").encode(), self.state.encode()):
            self.refused += 1
            logger.warning("refused a sign-in response whose state does not match this login")
            return _page(
                400,
                "Sign-in refused",
                "This response does not belong to the sign-in in progress (its state does not match).",
                "Use the link printed by the latest `spotify-mcp login`.",
            )
        self.claimed = True
        try:
            self.result = await self._complete(params.get("code", ""), params.get("error"))
        except LoginError as exc:
            self.error = exc
            return _page(400, "Sign-in failed", str(exc), "Details are in the terminal.")
        finally:
            self.done.set()
        who = self.result.display_name or self.result.user_id
        return _page(
            200,
            "Signed in to Spotify",
            f"spotify-mcp can now use the Spotify account of {who}.",
            "You can close this tab and return to the terminal.",
        )

    async def _complete(self, code: str, error: str | None) -> LoginResult:
        if error is not None:
            if error == "access_denied":
                raise LoginError("the sign-in was declined at Spotify; nothing was stored")
            raise LoginError(f"Spotify reported an error ({error[:100]}); nothing was stored")
        if not code or len(code) > _MAX_CODE:
            raise LoginError("Spotify's redirect carries no authorization code; nothing was stored")
        services = self.services
        try:
            tokens = await services.accounts.exchange_code(
                code=code, redirect_uri=self.redirect, code_verifier=self.verifier
            )
            profile = await services.spotify.me_with_token(tokens.access_token)
        except SpotifyAuthError as exc:
            raise LoginError(self._exchange_advice(exc)) from None
        except SpotifyAPIError as exc:
            if exc.status == 403:
                raise LoginError(
                    "Spotify refused access to this account: the Spotify app is in development mode and the account "
                    "is not on its list of users. Add it in the Spotify Developer Dashboard (your app → Settings → "
                    "User Management), then run `spotify-mcp login` again."
                ) from None
            raise LoginError(f"Spotify did not return the profile (HTTP {exc.status}); nothing was stored") from None
        except SpotifyUnavailable as exc:
            raise LoginError(f"{exc}; nothing was stored") from None
        user_id = str(profile["id"])
        name = profile.get("display_name")
        display_name = name if isinstance(name, str) and name else None
        try:
            previous = read_profile(self.data_dir)
        except ConfigError:
            previous = None
        await services.credentials.save_login(user_id=user_id, display_name=display_name, tokens=tokens)
        if previous is not None and previous.user_id != user_id:
            await services.store.delete_user(previous.user_id)  # one local user: forget the one before
        write_profile(
            self.data_dir,
            LocalProfile(
                user_id=user_id,
                display_name=display_name,
                client_id=self.client_id,
                client_secret_sealed=self.keys.seal(self.secret, CLIENT_SECRET_CONTEXT) if self.secret else None,
                scopes=tokens.scopes,
                logged_in_at=services.clock.now(),
            ),
        )
        return LoginResult(user_id, display_name, tokens.scopes, self.redirect, self.data_dir)

    def _exchange_advice(self, exc: SpotifyAuthError) -> str:
        if exc.error == "invalid_client":
            names = "SPOTIFY_CLIENT_ID and SPOTIFY_CLIENT_SECRET" if self.secret else "SPOTIFY_CLIENT_ID"
            return f"Spotify refused the app's credentials (invalid_client): check {names}; nothing was stored"
        detail = f": {exc.description}" if exc.description else ""
        return f"Spotify refused the sign-in ({exc.error}{detail}); run `spotify-mcp login` again"


def _page(status: int, title: str, message: str, hint: str | None = None) -> Response:
    return html_page(error_page(title, message, hint), status=status, https=False)


def _duration(seconds: float) -> str:
    return f"{seconds / 60:g} minutes" if seconds >= 60 else f"{seconds:g} seconds"


def _say(out: TextIO, text: str) -> None:
    out.write(text)
    out.flush()


def _start_text(redirect_uri: str, url: str, *, client_secret: bool, wait_seconds: float) -> str:
    kind = "with the app's client secret" if client_secret else "as a public PKCE client (no client secret)"
    return (
        f"Signing in to Spotify {kind}.\n"
        f"The Spotify app must list this exact redirect URI (Dashboard → your app → Settings → Redirect URIs):\n"
        f"  {redirect_uri}\n\n"
        f"Open this URL to sign in (waiting up to {_duration(wait_seconds)}):\n"
        f"  {url}\n\n"
    )


def stdio_command() -> list[str]:
    """The absolute command line that starts the stdio server, for MCP clients' configuration."""
    launched = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    names = ("spotify-mcp", "spotify-mcp.exe")
    if launched is not None and launched.name in names and launched.is_file():
        return [os.path.abspath(launched), "stdio"]
    beside = Path(sys.executable).parent / names[os.name == "nt"]
    if beside.is_file():
        return [str(beside), "stdio"]
    return [os.path.abspath(sys.executable), "-m", "spotify_mcp.cli", "stdio"]


def client_env(settings: LocalSettings) -> dict[str, str]:
    """The environment the stdio server needs beyond the defaults (never a secret)."""
    env: dict[str, str] = {}
    if settings.local_dir != Path(os.path.abspath(default_data_dir())):
        env["SPOTIFY_MCP_DATA_DIR"] = str(settings.local_dir)
    defaults = Settings.model_fields
    for name, field in (("SPOTIFY_ACCOUNTS_URL", "spotify_accounts_url"), ("SPOTIFY_API_URL", "spotify_api_url")):
        value = getattr(settings, field)
        if value != defaults[field].default:
            env[name] = value
    return env


def client_configs(command: list[str], env: dict[str, str], *, needs_secret_key: bool) -> str:
    """Ready-to-paste configuration for Claude Desktop, Claude Code and Cursor."""
    entry: dict[str, object] = {"command": command[0], "args": command[1:]}
    if env:
        entry["env"] = env
    servers = json.dumps({"mcpServers": {"spotify": entry}}, indent=2)
    env_options = "".join(f" -e {shlex.quote(f'{k}={v}')}" for k, v in env.items())
    claude_code = f"claude mcp add spotify{env_options} -- {shlex.join(command)}"
    text = (
        "Use it from an MCP client (the server runs as `spotify-mcp stdio`, acting as this Spotify user):\n\n"
        "Claude Desktop: Settings → Developer → Edit Config, and add to claude_desktop_config.json:\n"
        f"{servers}\n\n"
        "Claude Code (add --scope user to have it in every project):\n"
        f"  {claude_code}\n\n"
        'Cursor: add the same "mcpServers" entry to ~/.cursor/mcp.json (or .cursor/mcp.json in a project).\n'
    )
    if needs_secret_key:
        text += (
            "\nThe tokens are sealed with SPOTIFY_MCP_SECRET_KEY: the client must start `spotify-mcp stdio` with "
            'that variable set too (add it to "env"; it is not printed here).\n'
        )
    return text


def success_text(result: LoginResult, settings: LocalSettings) -> str:
    """What ``login`` prints once the sign-in is stored."""
    who = f"{result.display_name} ({result.user_id})" if result.display_name else result.user_id
    return (
        f"Signed in to Spotify as {who}.\n"
        f"The tokens are stored sealed in {settings.local_dir}; this is now the local user.\n\n"
        + client_configs(stdio_command(), client_env(settings), needs_secret_key=settings.secret_key is not None)
    )
