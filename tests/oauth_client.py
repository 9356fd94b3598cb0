"""The parts of a headless user the official ``mcp`` client's OAuth provider needs: token storage and a browser."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import parse_qs, urlsplit

import httpx2
from mcp.shared.auth import AuthorizationCodeResult, OAuthClientInformationFull, OAuthToken

from tests.support import CLIENT_REDIRECT, walk


class MemoryStorage:
    """The client's token storage, in memory."""

    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client = client_info


class HeadlessBrowser:
    """Plays the user: follows the authorization URL, approves consent and signs in at the emulator."""

    def __init__(self, browser: httpx2.AsyncClient, hosts: Iterable[str]) -> None:
        self.browser = browser
        self.hosts = tuple(hosts)
        self.result: AuthorizationCodeResult | None = None
        self.visits = 0

    async def redirect_handler(self, url: str) -> None:
        """Walk ``url`` through our consent and the emulator's sign-in to the client's redirect; keep the code."""
        self.visits += 1
        final = await walk(self.browser, url, self.hosts)
        assert final.status_code == 302, f"{final.status_code} {final.text[:500]}"
        location = final.headers["location"]
        assert location.startswith(CLIENT_REDIRECT), location
        query = parse_qs(urlsplit(location).query)
        self.result = AuthorizationCodeResult(code=query["code"][0], state=query["state"][0], iss=query["iss"][0])

    async def callback_handler(self) -> AuthorizationCodeResult:
        """The code the last redirect brought back."""
        assert self.result is not None
        return self.result
