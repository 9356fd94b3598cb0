"""Several ``spotify-mcp serve`` processes sharing one store, behind a load balancer that the client plays.

- The replicas are real subprocesses (the ``spotify-mcp serve`` console script), configured only through the
  environment, each on its own loopback port, all with one public URL, one store and one secret key.
- The public URL names a loopback port that is reserved (bound, never listening): nothing answers there.
  :class:`Router`, an ``httpx2`` transport, plays the load balancer: a request to the public origin is sent
  to the replica its policy picks, with the Host header left as the public ``host:port`` (as a proxy
  forwards it). Requests to any other origin (the emulator) go out unchanged.
- The Spotify emulator runs wherever the caller wants it: in the test's event loop (so tests can read and
  disturb its ``World``) or in a process of its own (the benchmark, see ``emulator_process.py``).

Host/Origin checks: with a loopback public URL the MCP transports accept ``127.0.0.1:*`` (see
``server/transports.py``), so a request addressed to a replica's own ``host:port`` passes without
``SPOTIFY_MCP_ALLOWED_HOSTS``; only a non-loopback public URL reached by its replicas' own addresses needs it.
"""

from __future__ import annotations

import atexit
import base64
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

import anyio
import anyio.lowlevel
import httpx2

from spotify_mcp.emulator import EmulatorConfig, World, create_emulator_app
from tests.e2e.live import bound_socket, serve
from tests.support import CLIENT_REDIRECT, SPOTIFY_CLIENT_ID, SPOTIFY_CLIENT_SECRET, code_form, pkce, walk

REPO = Path(__file__).resolve().parents[2]
PROTOCOL = "2026-07-28"
START_TIMEOUT = 90.0
"""Seconds for a replica to answer ``/healthz``: several processes importing at once on two cores take a while."""
POLL = 0.05
T = TypeVar("T")
ONE_ADDRESS_RATE_LIMITS = (
    "register=1000/3600,authorize=1000/60,consent=1000/60,callback=1000/60,token=1000/60,revoke=1000/60,"
    "tools=1000000/60"
)
"""SPOTIFY_MCP_RATE_LIMITS for the tests and the benchmark: every request comes from 127.0.0.1 (as if all users
sat behind one address) and one user makes every tool call, so the per-address and per-user defaults would
throttle them. The limiter stays on (each replica still counts every request in the shared store)."""


# -- ports and keys ----------------------------------------------------------------------------------------
def free_port() -> int:
    """A loopback port nothing listens on right now (for a subprocess to bind)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def reserved_port() -> socket.socket:
    """A bound, non-listening loopback socket: its port is ours (connections to it are refused)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    return sock


def new_secret_key() -> str:
    """A fresh SPOTIFY_MCP_SECRET_KEY (32 random bytes, URL-safe base64)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


# -- replicas ----------------------------------------------------------------------------------------------
class ReplicaFailed(RuntimeError):
    """A replica exited or never became ready; the message holds the end of its log."""


def serve_command() -> list[str]:
    """The production command: the venv's ``spotify-mcp serve`` (``python -m spotify_mcp.cli`` as a fallback)."""
    script = Path(sys.executable).with_name("spotify-mcp")
    return [str(script), "serve"] if script.exists() else [sys.executable, "-m", "spotify_mcp.cli", "serve"]


@dataclass
class Replica:
    """A server subprocess (a ``spotify-mcp serve`` replica, or the emulator); stdout and stderr go to ``log``."""

    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def origin(self) -> str:
        """The replica's own address (not the public one)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def alive(self) -> bool:
        """Whether the process is still running."""
        return self.process.poll() is None

    def log_tail(self, lines: int = 60) -> str:
        """The last lines the process wrote."""
        try:
            text = self.log.read_text(errors="replace")
        except OSError as exc:
            return f"(no log: {exc})"
        return "\n".join(text.splitlines()[-lines:])

    def describe(self) -> str:
        """Name, state and the end of the log, for failure messages."""
        state = "running" if self.alive else f"exited with {self.process.returncode}"
        return f"--- {self.name} on port {self.port} ({state}) ---\n{self.log_tail()}"

    def kill(self) -> None:
        """SIGKILL: the process dies at once, without its lifespan's shutdown."""
        if self.alive:
            self.process.send_signal(signal.SIGKILL)

    async def wait_exit(self, within: float) -> bool:
        """Poll until the process has exited (and is reaped), at most ``within`` seconds."""
        for _ in range(max(1, int(within / POLL))):
            if not self.alive:
                return True
            await anyio.sleep(POLL)
        return not self.alive

    async def stop(self, grace: float = 10.0) -> None:
        """SIGTERM (uvicorn shuts down gracefully, closing the store); SIGKILL if that takes over ``grace``."""
        if self.alive:
            self.process.send_signal(signal.SIGTERM)
        if not await self.wait_exit(grace):
            self.kill()
            if not await self.wait_exit(10.0):
                raise ReplicaFailed(f"replica {self.name} (pid {self.process.pid}) survived SIGKILL")


def bytecode_cache() -> Path:
    """Where replicas keep compiled bytecode: a per-user cache outside the repository and the venv.

    Each replica is a fresh interpreter importing the whole stack; without cached bytecode (a venv installed
    without it, ``PYTHONDONTWRITEBYTECODE`` set) each one compiles it all again: ~4.5 s of CPU instead of ~1.7 s.
    """
    if os.environ.get("PYTHONPYCACHEPREFIX"):
        return Path(os.environ["PYTHONPYCACHEPREFIX"])
    cache_home = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache_home) / "spotify-mcp" / "replica-pycache"


def replica_env(
    *,
    public_url: str,
    store_url: str,
    secret_key: str,
    spotify: str,
    data_dir: Path,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment of a replica: this process's, minus any SPOTIFY_*/PORT of the caller, plus ours.

    Bytecode is written to (and read from) ``bytecode_cache()``, whatever PYTHONDONTWRITEBYTECODE says.
    """
    dropped = ("PORT", "PYTHONDONTWRITEBYTECODE")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPOTIFY_") and k not in dropped}
    env.update(
        {
            "SPOTIFY_CLIENT_ID": SPOTIFY_CLIENT_ID,
            "SPOTIFY_CLIENT_SECRET": SPOTIFY_CLIENT_SECRET,
            "SPOTIFY_MCP_PUBLIC_URL": public_url,
            "SPOTIFY_MCP_SECRET_KEY": secret_key,
            "SPOTIFY_MCP_STORE_URL": store_url,
            "SPOTIFY_MCP_DATA_DIR": str(data_dir),
            "SPOTIFY_ACCOUNTS_URL": spotify,
            "SPOTIFY_API_URL": f"{spotify}/v1",
            "PYTHONUNBUFFERED": "1",
            "PYTHONPYCACHEPREFIX": str(bytecode_cache()),
            **(extra or {}),
        }
    )
    return env


def spawn(name: str, argv: Sequence[str], env: Mapping[str, str], workdir: Path, port: int) -> Replica:
    """Start a server process whose output goes to ``workdir/<name>.log`` (not yet ready: see ``wait_ready``).

    The log is appended to, so a process started again under the same name keeps its predecessor's log.
    """
    log = workdir / f"{name}.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            list(argv), env=dict(env), cwd=workdir, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT
        )
    _children.append(process)
    return Replica(name, port, process, log)


_children: list[subprocess.Popen[bytes]] = []


@atexit.register
def _kill_orphans() -> None:
    """A safety net: no server process outlives this interpreter, even when a teardown never ran."""
    for process in _children:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def spawn_replica(name: str, env: Mapping[str, str], workdir: Path, *, port: int | None = None) -> Replica:
    """Start ``spotify-mcp serve`` on a free loopback port (not yet ready: see ``wait_ready``).

    The working directory is ``workdir`` so that no ``.env`` of the repository is read.
    """
    port = port or free_port()
    return spawn(name, [*serve_command(), "--host", "127.0.0.1", "--port", str(port)], env, workdir, port)


def spawn_emulator(workdir: Path, redirect_uri: str) -> Replica:
    """Start the Spotify emulator in a process of its own (ready when ``/v1/me`` answers 401)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update({"PYTHONPATH": str(REPO), "PYTHONPYCACHEPREFIX": str(bytecode_cache())})
    argv = [
        sys.executable,
        "-m",
        "tests.replicas.emulator_process",
        "--port",
        str(port),
        "--redirect-uri",
        redirect_uri,
    ]
    return spawn("emulator", argv, env, workdir, port)


async def wait_ready(
    replicas: Iterable[Replica], within: float = START_TIMEOUT, *, path: str = "/healthz", status: int = 200
) -> None:
    """Poll every process's ``path`` until each answers ``status``; fail early when one exits."""
    pending = list(replicas)
    async with httpx2.AsyncClient(timeout=2) as http:
        for _ in range(int(within / POLL)):
            for replica in list(pending):
                if not replica.alive:
                    raise ReplicaFailed(f"{replica.name} exited before it was ready\n{replica.describe()}")
                try:
                    response = await http.get(f"{replica.origin}{path}")
                except httpx2.TransportError:
                    continue
                if response.status_code == status:
                    pending.remove(replica)
            if not pending:
                return
            await anyio.sleep(POLL)
    logs = "\n".join(r.describe() for r in pending)
    raise ReplicaFailed(f"not ready after {within:.0f} s: {[r.name for r in pending]}\n{logs}")


async def stop_all(replicas: Iterable[Replica]) -> None:
    """Stop every replica (SIGTERM to all first, so they shut down in parallel)."""
    replicas = list(replicas)
    for replica in replicas:
        if replica.alive:
            replica.process.send_signal(signal.SIGTERM)
    for replica in replicas:
        await replica.stop()


@asynccontextmanager
async def running_replicas(
    names: Iterable[str], env: Mapping[str, str], workdir: Path
) -> AsyncIterator[dict[str, Replica]]:
    """Start one replica per name (all at once), wait until all are ready, and always stop them afterwards.

    What is stopped is what the yielded dict holds at the end (``Cluster.revive`` replaces dead entries).
    """
    started: dict[str, Replica] = {}
    try:
        for name in names:
            started[name] = spawn_replica(name, env, workdir)
        await wait_ready(started.values())
        yield started
    finally:
        with anyio.CancelScope(shield=True):
            await stop_all(started.values())


# -- the load balancer -------------------------------------------------------------------------------------
Policy = Callable[[httpx2.Request], Replica]


def pinned(replica: Replica) -> Policy:
    """Every request to the replica given."""
    return lambda request: replica


def round_robin(replicas: Iterable[Replica]) -> Policy:
    """Each request to the next replica in turn."""
    ring = list(replicas)
    turn = count()
    return lambda request: ring[next(turn) % len(ring)]


@dataclass
class Switch:
    """A policy whose target can be changed mid-flow (a load balancer taking a dead replica out)."""

    replica: Replica

    def __call__(self, request: httpx2.Request) -> Replica:
        """Route to the current target."""
        return self.replica


class Router(httpx2.AsyncBaseTransport):
    """Sends requests for the public origin to the replica ``policy`` picks, keeping the public Host header."""

    def __init__(self, public: str, policy: Policy) -> None:
        public_url = httpx2.URL(public)
        self._public = (public_url.scheme, public_url.host, public_url.port)
        self._policy = policy
        self._inner = httpx2.AsyncHTTPTransport()
        self.routed: list[tuple[str, str, str]] = []
        """``(replica name, method, path)`` of every request routed."""

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        """Forward to a replica (public origin) or as is (anything else)."""
        url = request.url
        if (url.scheme, url.host, url.port) == self._public:
            replica = self._policy(request)
            self.routed.append((replica.name, request.method, url.path))
            request = httpx2.Request(
                request.method,
                url.copy_with(port=replica.port),
                headers=request.headers,
                stream=request.stream,
                extensions=request.extensions,
            )
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._inner.aclose()

    def paths(self, replica: str) -> set[str]:
        """The paths routed to one replica."""
        return {path for name, _, path in self.routed if name == replica}


# -- the cluster -------------------------------------------------------------------------------------------
@dataclass
class Cluster:
    """Replicas of one server behind one public URL, their Spotify (the emulator) and their shared store."""

    backend: str
    public: str
    spotify: str
    replicas: dict[str, Replica]
    world: World | None = field(default=None, repr=False)
    """The emulator's world when it runs in this process."""
    env: Mapping[str, str] = field(default_factory=dict, repr=False)
    """The replicas' environment (to start one again); kept out of ``repr``, which failure reports print."""
    workdir: Path | None = None
    routers: list[Router] = field(default_factory=list, repr=False)

    @property
    def mcp_url(self) -> str:
        """The public MCP endpoint (the resource of every token)."""
        return f"{self.public}/mcp"

    @property
    def hosts(self) -> tuple[str, str]:
        """The origins a browser walk may follow, ours and Spotify's (with the slash: a port is no prefix)."""
        return (f"{self.public}/", f"{self.spotify}/")

    def router(self, policy: Policy) -> Router:
        """A load balancer with this policy."""
        router = Router(self.public, policy)
        self.routers.append(router)
        return router

    def http(self, policy: Policy | Router, **kwargs: Any) -> httpx2.AsyncClient:
        """A client (cookie-keeping, so also a browser) whose requests to the public URL go through ``policy``."""
        router = policy if isinstance(policy, Router) else self.router(policy)
        return httpx2.AsyncClient(transport=router, timeout=30, **kwargs)

    def describe(self) -> str:
        """Every replica's state and log tail."""
        return "\n".join(r.describe() for r in self.replicas.values())

    async def revive(self) -> None:
        """Start again, on its port, every replica that died (a test killed it); wait until they are ready."""
        assert self.workdir is not None, "this cluster cannot start replicas"
        dead = [r for r in self.replicas.values() if not r.alive]
        if not dead:
            return
        for replica in dead:
            self.replicas[replica.name] = spawn_replica(replica.name, self.env, self.workdir, port=replica.port)
        await wait_ready(self.replicas[r.name] for r in dead)


@asynccontextmanager
async def emulator_in_this_loop(public: str) -> AsyncIterator[tuple[str, World]]:
    """The Spotify emulator on a real loopback socket, served from the caller's event loop."""
    sock = bound_socket()
    app = create_emulator_app(
        EmulatorConfig(
            client_id=SPOTIFY_CLIENT_ID, client_secret=SPOTIFY_CLIENT_SECRET, redirect_uris=[f"{public}/callback"]
        )
    )
    async with serve([(app, sock)]):
        yield f"http://127.0.0.1:{sock.getsockname()[1]}", app.state.world


@asynccontextmanager
async def cluster_with_emulator(
    backend: str, store_url: str, workdir: Path, names: Iterable[str]
) -> AsyncIterator[Cluster]:
    """Reserve the public port, start the emulator in this loop, then the replicas (one per name)."""
    with reserved_port() as public_sock:
        public = f"http://127.0.0.1:{public_sock.getsockname()[1]}"
        async with emulator_in_this_loop(public) as (spotify, world):
            env = replica_env(
                public_url=public,
                store_url=store_url,
                secret_key=new_secret_key(),
                spotify=spotify,
                data_dir=workdir,
                extra={"SPOTIFY_MCP_RATE_LIMITS": ONE_ADDRESS_RATE_LIMITS},
            )
            async with running_replicas(names, env, workdir) as replicas:
                cluster = Cluster(backend, public, spotify, replicas, world, env, workdir)
                try:
                    yield cluster
                finally:
                    for router in cluster.routers:
                        await router.aclose()


# -- the OAuth dance and MCP requests ----------------------------------------------------------------------
@dataclass(frozen=True)
class Tokens:
    """What a public client holds after the flow."""

    client_id: str
    access_token: str
    refresh_token: str


async def register(http: httpx2.AsyncClient, public: str, name: str = "replica test") -> str:
    """Register a public client; return its id."""
    response = await http.post(
        f"{public}/register",
        json={
            "client_name": name,
            "redirect_uris": [CLIENT_REDIRECT],
            "token_endpoint_auth_method": "none",
            "grant_types": ["authorization_code", "refresh_token"],
        },
    )
    assert response.status_code == 201, response.text
    return str(response.json()["client_id"])


def authorize_url(public: str, client_id: str, challenge: str) -> str:
    """The client's /authorize URL (PKCE S256, RFC 8707 resource)."""
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": CLIENT_REDIRECT,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "state": "replica-state",
        "resource": f"{public}/mcp",
    }
    return str(httpx2.URL(f"{public}/authorize", params=params))


def code_from(response: httpx2.Response) -> str:
    """The code of the final redirect to the client."""
    assert response.status_code == 302, f"{response.status_code} {response.text[:500]}"
    location = response.headers["location"]
    assert location.startswith(CLIENT_REDIRECT), location
    return parse_qs(urlsplit(location).query)["code"][0]


async def authorize(browser: httpx2.AsyncClient, cluster: Cluster, client_id: str) -> tuple[str, str]:
    """Walk /authorize → consent (approve) → Spotify sign-in → /callback; return (code, PKCE verifier)."""
    verifier, challenge = pkce()
    final = await walk(browser, authorize_url(cluster.public, client_id, challenge), cluster.hosts)
    return code_from(final), verifier


async def redeem(http: httpx2.AsyncClient, public: str, client_id: str, code: str, verifier: str) -> httpx2.Response:
    """POST /token with the authorization_code grant."""
    return await http.post(f"{public}/token", data=code_form(code, verifier, client_id, resource=f"{public}/mcp"))


async def refresh(http: httpx2.AsyncClient, public: str, client_id: str, refresh_token: str) -> httpx2.Response:
    """POST /token with the refresh_token grant."""
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client_id}
    return await http.post(f"{public}/token", data=form)


def tokens_from(client_id: str, response: httpx2.Response) -> Tokens:
    """The tokens of a 200 token response."""
    assert response.status_code == 200, response.text
    body = response.json()
    return Tokens(client_id, body["access_token"], body["refresh_token"])


async def sign_in(http: httpx2.AsyncClient, cluster: Cluster, name: str = "replica test") -> Tokens:
    """Register, authorize (as premium-user, the emulator's preselected user) and redeem, all through ``http``."""
    client_id = await register(http, cluster.public, name)
    code, verifier = await authorize(http, cluster, client_id)
    return tokens_from(client_id, await redeem(http, cluster.public, client_id, code, verifier))


def tool_call(bearer: str, name: str, arguments: Mapping[str, Any] | None = None) -> tuple[dict[str, str], bytes]:
    """Headers and body of a stateless 2026-07-28 ``tools/call`` POST."""
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {
            "name": name,
            "arguments": dict(arguments or {}),
            "_meta": {
                "io.modelcontextprotocol/protocolVersion": PROTOCOL,
                "io.modelcontextprotocol/clientInfo": {"name": "replicas", "version": "1"},
                "io.modelcontextprotocol/clientCapabilities": {},
            },
        },
    }
    headers = {
        "Authorization": f"Bearer {bearer}",
        "Content-Type": "application/json",
        "Accept": "application/json, text/event-stream",
        "Mcp-Protocol-Version": PROTOCOL,
        "Mcp-Method": "tools/call",
        "Mcp-Name": name,
    }
    return headers, json.dumps(body).encode()


def tool_result(response: httpx2.Response) -> dict[str, Any]:
    """The ``result`` of a JSON (or single-event SSE) tools/call response that succeeded."""
    assert response.status_code == 200, f"{response.status_code} {response.text[:500]}"
    text = response.text
    if response.headers.get("content-type", "").startswith("text/event-stream"):
        text = next(line[5:] for line in text.splitlines() if line.startswith("data:"))
    message = json.loads(text)
    assert "result" in message, message
    result: dict[str, Any] = message["result"]
    assert not result.get("isError"), result
    return result


async def race(*calls: Callable[[], Awaitable[T]]) -> list[T]:
    """Start every call at the same instant (behind one gate) and return their results in order."""
    results: dict[int, T] = {}
    gate = anyio.Event()

    async def run(index: int, call: Callable[[], Awaitable[T]]) -> None:
        await gate.wait()
        results[index] = await call()

    async with anyio.create_task_group() as group:
        for index, call in enumerate(calls):
            group.start_soon(run, index, call)
        await anyio.lowlevel.checkpoint()
        gate.set()
    return [results[i] for i in range(len(calls))]
