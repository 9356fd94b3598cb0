"""Shared helpers of the attack modules G–M and R: requests, a harness with fault seams, a faulty store.

``serve`` is ``tests.support.harness`` with three more seams: the store the app opens can be wrapped
(``create_app(store_opener=...)``), the transport to the Spotify emulator can be wrapped, and an existing
emulator and key ring can be reused (a restart keeps Spotify's state and the sealed credentials readable).
"""

from __future__ import annotations

import base64
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast
from urllib.parse import parse_qs, urljoin, urlsplit

import anyio
import httpx2
from starlette.applications import Starlette

from spotify_mcp.app import create_app
from spotify_mcp.clock import ManualClock
from spotify_mcp.crypto import KeyRing
from spotify_mcp.emulator import EmulatorConfig, create_emulator_app
from spotify_mcp.store import open_store
from spotify_mcp.store.base import Store, StoreError
from spotify_mcp.store.records import TokenRecord
from tests.emulator.openapi_requests import ConformingTransport
from tests.support import (
    CLIENT_REDIRECT,
    EMULATOR,
    PUBLIC,
    SPOTIFY_CLIENT_ID,
    SPOTIFY_CLIENT_SECRET,
    Harness,
    make_settings,
    parse_form,
    pkce,
)

MCP = f"{PUBLIC}/mcp"
TOKEN = f"{PUBLIC}/token"
REVOKE = f"{PUBLIC}/revoke"
RPC = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
# RFC 6749 §5.2: error_description is limited to %x20-21 / %x23-5B / %x5D-7E (no '"' and no '\').
DESCRIPTION_CHARS = frozenset(chr(c) for c in range(0x20, 0x7F)) - {'"', "\\"}

UpstreamWrapper = Callable[[httpx2.AsyncBaseTransport], httpx2.AsyncBaseTransport]


# -- requests ----------------------------------------------------------------------------------------------
async def exchange(h: Harness, client_id: str, **overrides: str) -> tuple[httpx2.Response, dict[str, str]]:
    """Run the browser leg for a public client, then redeem the code; return the response and the form."""
    query, verifier = await h.authorize(client_id)
    form = {
        "grant_type": "authorization_code",
        "code": query["code"][0],
        "redirect_uri": CLIENT_REDIRECT,
        "code_verifier": verifier,
        "client_id": client_id,
        "resource": MCP,
    }
    form = {k: v for k, v in {**form, **overrides}.items() if v is not None}
    return await h.http.post(TOKEN, data=form), form


async def tokens_for(h: Harness, client_id: str | None = None) -> tuple[str, dict[str, Any]]:
    """Register a public client (unless given) and run the whole flow; return the client id and tokens."""
    client_id = client_id or (await h.register())["client_id"]
    response, _ = await exchange(h, client_id)
    assert response.status_code == 200, response.text
    return client_id, response.json()


async def refresh(h: Harness, client_id: str, token: str, **extra: str) -> httpx2.Response:
    """A refresh_token grant by a public client."""
    return await h.http.post(
        TOKEN, data={"grant_type": "refresh_token", "refresh_token": token, "client_id": client_id, **extra}
    )


async def revoke(h: Harness, client_id: str, token: str, **extra: str) -> httpx2.Response:
    """An RFC 7009 revocation by a public client."""
    return await h.http.post(REVOKE, data={"token": token, "client_id": client_id, **extra})


async def mcp_post(h: Harness, access_token: str, body: Any = RPC) -> httpx2.Response:
    """POST a JSON-RPC message to /mcp with a bearer."""
    headers = {**MCP_HEADERS, "Authorization": f"Bearer {access_token}"}
    return await h.http.post(MCP, json=body, headers=headers)


async def mcp_status(h: Harness, access_token: str) -> int:
    """The HTTP status /mcp answers a tools/list with this bearer (401 = not accepted)."""
    return (await mcp_post(h, access_token)).status_code


def basic(client_id: str, secret: str) -> dict[str, str]:
    """An ``Authorization: Basic`` header."""
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


async def sign_in_as(h: Harness, client_id: str, user: str) -> tuple[str, str]:
    """Run the browser leg in a browser of its own, signing in to Spotify as ``user``; return (code, verifier)."""
    verifier, challenge = pkce()
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": CLIENT_REDIRECT,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "state": f"state-{user}",
        "resource": MCP,
    }
    mounts = {PUBLIC: httpx2.ASGITransport(app=h.app), EMULATOR: httpx2.ASGITransport(app=h.emulator)}
    async with httpx2.AsyncClient(mounts=mounts) as browser:
        response = await browser.get(str(httpx2.URL(f"{PUBLIC}/authorize", params=params)))
        for _ in range(12):
            if response.status_code in (302, 303):
                location = urljoin(str(response.url), response.headers["location"])
                if not location.startswith((PUBLIC, EMULATOR)):
                    query = parse_qs(urlsplit(location).query)
                    assert query["state"] == [f"state-{user}"]
                    return query["code"][0], verifier
                response = await browser.get(location)
                continue
            assert response.status_code == 200, response.text
            assert "<form" in response.text, response.text
            form = parse_form(response.text)
            target = urljoin(str(response.url), form.action or "")
            fields = {**form.fields, "action": "approve"}
            if target.startswith(EMULATOR):
                fields["user"] = user
            parts = urlsplit(target)
            origin = {"Origin": f"{parts.scheme}://{parts.netloc}"}
            response = await browser.post(target, data=fields, headers=origin)
    raise AssertionError("the browser leg did not end at the client")


# -- a store that fails on demand ----------------------------------------------------------------------------
@dataclass
class _Fault:
    error: BaseException
    after: bool
    remaining: int


class StoreFaults:
    """What the FaultyStore should do; the test holds this and the app holds the FaultyStore.

    ``fail(op)`` makes the next call(s) of ``op`` raise (before the real operation runs, or ``after=True``:
    once it has run and committed, as when the answer is lost); ``poison(op)`` makes the next write of
    ``redeem_code``/``rotate_refresh_token`` fail inside its transaction (a duplicate token row);
    ``unreachable`` makes every operation raise StoreError. ``inner`` is the real store; ``calls`` counts the
    calls of each operation and ``last_args`` keeps the positional arguments of the latest one.
    """

    def __init__(self) -> None:
        self.inner: Store | None = None
        self.unreachable = False
        self.calls: Counter[str] = Counter()
        self.last_args: dict[str, tuple[Any, ...]] = {}
        self._called = anyio.Event()
        self._faults: dict[str, _Fault] = {}
        self._poisoned: set[str] = set()

    @property
    def store(self) -> Store:
        """The real store behind the faults (for checks after the fact)."""
        assert self.inner is not None, "the app has not opened its store yet"
        return self.inner

    def fail(self, operation: str, *, error: BaseException | None = None, after: bool = False, times: int = 1) -> None:
        """Make the next ``times`` calls of ``operation`` raise ``error`` (StoreError by default)."""
        self._faults[operation] = _Fault(error or StoreError(f"injected failure of {operation}"), after, times)

    def poison(self, operation: str) -> None:
        """Make the next ``redeem_code`` or ``rotate_refresh_token`` fail half-way through its transaction."""
        assert operation in ("redeem_code", "rotate_refresh_token")
        self._poisoned.add(operation)

    def heal(self) -> None:
        """Stop failing."""
        self.unreachable = False
        self._faults.clear()
        self._poisoned.clear()

    def count(self, operation: str, args: tuple[Any, ...]) -> None:
        """Record a call and wake ``until_called`` waiters."""
        self.calls[operation] += 1
        self.last_args[operation] = args
        self._called.set()
        self._called = anyio.Event()

    async def until_called(self, operation: str, times: int) -> None:
        """Wait until ``operation`` has been called ``times`` times in all."""
        while self.calls[operation] < times:
            await self._called.wait()

    def take(self, operation: str) -> _Fault | None:
        fault = self._faults.get(operation)
        if fault is None:
            return None
        fault.remaining -= 1
        if fault.remaining <= 0:
            del self._faults[operation]
        return fault

    def take_poison(self, operation: str) -> bool:
        if operation in self._poisoned:
            self._poisoned.discard(operation)
            return True
        return False

    async def open(self, url: str) -> Store:
        """The ``store_opener`` for ``create_app``: the real store, behind a FaultyStore."""
        self.inner = await open_store(url)
        return cast(Store, FaultyStore(self.inner, self))


class FaultyStore:
    """A proxy of the real store that raises where ``StoreFaults`` says."""

    def __init__(self, inner: Store, faults: StoreFaults) -> None:
        self._inner = inner
        self._faults = faults

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._inner, name)
        if name.startswith("_") or not callable(target):
            return target
        faults = self._faults

        async def call(*args: Any, **kwargs: Any) -> Any:
            faults.count(name, args)
            if faults.unreachable and name != "close":
                raise StoreError(f"the store is unreachable (injected; {name})")
            if faults.take_poison(name):
                args = tuple(_with_duplicate_token(a) for a in args)
            fault = faults.take(name)
            if fault is not None and not fault.after:
                raise fault.error
            result = await target(*args, **kwargs)
            if fault is not None:
                raise fault.error
            return result

        return call


def _with_duplicate_token(arg: Any) -> Any:
    """A token list with its first token repeated: the second insert violates the primary key mid-transaction."""
    if isinstance(arg, Sequence) and arg and all(isinstance(t, TokenRecord) for t in arg):
        return (*arg, arg[0])
    return arg


# -- a harness with seams --------------------------------------------------------------------------------------
def new_emulator(clock: ManualClock) -> Starlette:
    """A Spotify emulator that accepts the test server's callback."""
    return create_emulator_app(
        EmulatorConfig(
            client_id=SPOTIFY_CLIENT_ID,
            client_secret=SPOTIFY_CLIENT_SECRET,
            redirect_uris=[f"{PUBLIC}/callback"],
        ),
        clock=clock,
    )


@asynccontextmanager
async def serve(
    tmp_path: Path,
    *,
    clock: ManualClock,
    faults: StoreFaults | None = None,
    upstream: UpstreamWrapper | None = None,
    emulator: Starlette | None = None,
    keys: KeyRing | None = None,
    raise_app_exceptions: bool = True,
    **overrides: Any,
) -> AsyncIterator[Harness]:
    """Start the server (and an emulator unless given) in-process, with the given seams, and yield a Harness."""
    settings = make_settings(tmp_path, **overrides)
    keys = keys or KeyRing.ephemeral()
    emulator = emulator or new_emulator(clock)
    conforming = ConformingTransport(httpx2.ASGITransport(app=emulator))
    transport = upstream(conforming) if upstream is not None else conforming
    app = create_app(
        settings,
        clock=clock,
        keys=keys,
        spotify_transport=transport,
        store_opener=faults.open if faults is not None else None,
    )
    mounts = {
        PUBLIC: httpx2.ASGITransport(app=app, raise_app_exceptions=raise_app_exceptions),
        EMULATOR: httpx2.ASGITransport(app=emulator),
    }
    async with app.router.lifespan_context(app), httpx2.AsyncClient(mounts=mounts) as http:
        yield Harness(
            app=app,
            emulator=emulator,
            world=emulator.state.world,
            settings=settings,
            clock=clock,
            keys=keys,
            http=http,
            upstream=conforming,
        )
    conforming.assert_conforming()
