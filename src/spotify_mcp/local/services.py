"""The services local mode runs on: the same store, credentials manager and Web API client as the server."""

from __future__ import annotations

import os
import socket
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import anyio
import httpx2

from spotify_mcp.app import SPOTIFY_TIMEOUT
from spotify_mcp.clock import Clock, SystemClock
from spotify_mcp.crypto import KeyRing
from spotify_mcp.local.config import LocalSettings
from spotify_mcp.oauth.cimd import CIMDFetcher
from spotify_mcp.services import Runtime, assemble_services
from spotify_mcp.spotify.accounts import SpotifyAccounts
from spotify_mcp.spotify.credentials import CredentialsManager
from spotify_mcp.store import open_store


@asynccontextmanager
async def local_runtime(
    settings: LocalSettings,
    keys: KeyRing,
    *,
    client_id: str,
    client_secret: str | None,
    clock: Clock | None = None,
    transport: httpx2.AsyncBaseTransport | None = None,
) -> AsyncIterator[Runtime]:
    """Open local mode's store and Spotify clients, as the app's lifespan does, and close them on exit.

    ``client_secret`` None makes Spotify's client a public PKCE client. Only the store, the accounts client,
    the credentials manager and the Web API client are used locally; the OAuth server's client registry and
    token service are built (``Services`` holds them) but nothing calls them.
    """
    clock = clock or SystemClock()
    stack = AsyncExitStack()
    try:
        store = await open_store(settings.local_store_url)
        stack.push_async_callback(store.close)
        http = await stack.enter_async_context(
            httpx2.AsyncClient(transport=transport, timeout=SPOTIFY_TIMEOUT, follow_redirects=False)
        )
        accounts = SpotifyAccounts(
            http, accounts_url=settings.spotify_accounts_url, client_id=client_id, client_secret=client_secret
        )
        owner = f"local:{socket.gethostname()}:{os.getpid()}"
        credentials = CredentialsManager(store, keys, accounts, clock, owner=owner)
        runtime = Runtime()
        runtime.start(
            assemble_services(
                settings,
                clock,
                keys,
                store,
                spotify_http=http,
                cimd=CIMDFetcher(http, clock),
                accounts=accounts,
                credentials=credentials,
            )
        )
        stack.callback(runtime.stop)
        yield runtime
    finally:
        with anyio.CancelScope(shield=True):  # a cancelled login or session still closes the store cleanly
            await stack.aclose()
