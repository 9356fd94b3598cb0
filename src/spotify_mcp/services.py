"""The resources the lifespan opens, gathered for the endpoints and tools that use them."""

from __future__ import annotations

from dataclasses import dataclass

import httpx2

from spotify_mcp.clock import Clock
from spotify_mcp.crypto import KeyRing
from spotify_mcp.oauth.cimd import CIMDFetcher
from spotify_mcp.oauth.clients import ClientRegistry
from spotify_mcp.oauth.tokens import TokenService
from spotify_mcp.observability.observers import SpotifyObserver
from spotify_mcp.settings import Settings
from spotify_mcp.spotify.accounts import SpotifyAccounts
from spotify_mcp.spotify.api import SpotifyAPI
from spotify_mcp.spotify.credentials import CredentialsManager
from spotify_mcp.store.base import Store


@dataclass(frozen=True, slots=True)
class Services:
    """Everything a request may need; built once per process by the app's lifespan."""

    settings: Settings
    clock: Clock
    keys: KeyRing
    store: Store
    clients: ClientRegistry
    tokens: TokenService
    accounts: SpotifyAccounts
    credentials: CredentialsManager
    spotify: SpotifyAPI
    spotify_http: httpx2.AsyncClient


def assemble_services(
    settings: Settings,
    clock: Clock,
    keys: KeyRing,
    store: Store,
    *,
    spotify_http: httpx2.AsyncClient,
    cimd: CIMDFetcher,
    accounts: SpotifyAccounts,
    credentials: CredentialsManager,
    spotify_metrics: SpotifyObserver | None = None,
) -> Services:
    """The Services around what a lifespan opened: the client registry, the token service, the Web API client."""
    return Services(
        settings=settings,
        clock=clock,
        keys=keys,
        store=store,
        clients=ClientRegistry(store, cimd),
        tokens=TokenService(
            store,
            clock,
            resource=settings.mcp_url,
            access_ttl=settings.access_token_ttl,
            refresh_ttl=settings.refresh_token_ttl,
        ),
        accounts=accounts,
        credentials=credentials,
        spotify=SpotifyAPI(
            spotify_http,
            api_url=settings.spotify_api_url,
            credentials=credentials,
            clock=clock,
            metrics=spotify_metrics,
        ),
        spotify_http=spotify_http,
    )


class Runtime:
    """Holds the Services while the app is running; endpoints are built before the lifespan starts."""

    def __init__(self) -> None:
        self._services: Services | None = None

    @property
    def services(self) -> Services:
        """The running services; an error outside the lifespan."""
        if self._services is None:
            raise RuntimeError("the application is not running (its lifespan has not started)")
        return self._services

    def start(self, services: Services) -> None:
        """Install the services (lifespan start)."""
        self._services = services

    def stop(self) -> None:
        """Forget the services (lifespan end)."""
        self._services = None
