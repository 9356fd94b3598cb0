"""``spotify-mcp stdio``: the same toolset over stdio, every call made as the local user.

The local user is who ``spotify-mcp login`` signed in (``local.json``). For the whole session the SDK's auth
context holds an ``AuthenticatedUser`` whose subject is that Spotify user and whose scopes are the ones they
granted, so tools identify their caller exactly as they do behind the remote server's bearer check. Only
protocol messages go to stdout; logs go to stderr.
"""

from __future__ import annotations

import logging

import httpx2
from mcp.server.auth.middleware.auth_context import auth_context_var
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import AccessToken

from spotify_mcp.clock import Clock
from spotify_mcp.crypto import UnsealError
from spotify_mcp.local.config import CLIENT_SECRET_CONTEXT, LocalProfile, LocalSettings, read_profile
from spotify_mcp.local.keyfile import local_key_ring
from spotify_mcp.local.services import local_runtime
from spotify_mcp.server.mcp_server import build_mcp_server
from spotify_mcp.settings import ConfigError

LOCAL_CLIENT_ID = "spotify-mcp-local"
LOCAL_TOKEN = "local"
LOGIN_HINT = "Ask the user to run `spotify-mcp login` again in a terminal to sign in to Spotify, then retry."

logger = logging.getLogger(__name__)


class NotLoggedIn(ConfigError):
    """Nobody has signed in on this machine (or the login can no longer be opened)."""


def local_user(profile: LocalProfile, scopes: tuple[str, ...]) -> AuthenticatedUser:
    """The identity every tool call of the session carries: the local Spotify user with their scopes."""
    return AuthenticatedUser(
        AccessToken(token=LOCAL_TOKEN, client_id=LOCAL_CLIENT_ID, scopes=list(scopes), subject=profile.user_id)
    )


async def serve_stdio(
    settings: LocalSettings, *, clock: Clock | None = None, transport: httpx2.AsyncBaseTransport | None = None
) -> None:
    """Serve MCP over stdin/stdout as the local user until the client closes stdin."""
    data_dir = settings.local_dir
    profile = read_profile(data_dir)
    if profile is None:
        raise NotLoggedIn(
            f"nobody has signed in to Spotify here yet (no login in {data_dir}); run `spotify-mcp login` first"
        )
    configured_key = settings.secret_key.get_secret_value() if settings.secret_key else None
    keys = local_key_ring(configured_key, data_dir, create=False)
    if settings.spotify_client_id and settings.spotify_client_id != profile.client_id:
        logger.warning(
            "SPOTIFY_CLIENT_ID differs from the Spotify app the login was made with; using the login's app "
            "(run `spotify-mcp login` again to switch apps)"
        )
    secret: str | None = None
    if settings.spotify_client_secret is not None:
        secret = settings.spotify_client_secret.get_secret_value()
    elif profile.client_secret_sealed is not None:
        try:
            secret = keys.unseal(profile.client_secret_sealed, CLIENT_SECRET_CONTEXT)
        except UnsealError:
            raise NotLoggedIn(
                "the stored login cannot be opened with the current key; run `spotify-mcp login` again"
            ) from None
    async with local_runtime(
        settings, keys, client_id=profile.client_id, client_secret=secret, clock=clock, transport=transport
    ) as runtime:
        creds = await runtime.services.store.get_spotify_credentials(profile.user_id)
        if creds is None:
            logger.warning("the Spotify login of %s has ended; tools will ask for `spotify-mcp login`", profile.user_id)
        scopes = creds.scopes if creds is not None else profile.scopes
        server = build_mcp_server(runtime, reconnect_hint=LOGIN_HINT)
        logger.info("serving MCP over stdio as Spotify user %s", profile.user_id)
        reset = auth_context_var.set(local_user(profile, scopes))
        try:
            await server.run_stdio_async()
        finally:
            auth_context_var.reset(reset)
