"""The pinned npm MCP clients (``tests/clients/npm``): installed once with ``npm ci``, run with bounded waits.

The install is safe under pytest-xdist: every worker takes an exclusive file lock, and only the first one whose
``node_modules`` does not match ``package-lock.json`` (and the Node version) runs ``npm ci``; the others find the
stamp it wrote. Without Node and npm the tests skip with the reason, except in CI (``CI`` set), where they fail.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import parse_qs, urlsplit

import anyio
import pytest
from anyio.abc import Process
from anyio.streams.buffered import BufferedByteReceiveStream

NPM_DIR = Path(__file__).parent / "npm"
NODE_MODULES = NPM_DIR / "node_modules"
STAMP = NODE_MODULES / ".spotify-mcp-stamp"
LOCK_FILE = NPM_DIR / ".npm-ci.lock"
BROWSER_SCRIPT = Path(__file__).parent / "browser.py"
BINARIES = ("mcp-remote", "mcp-inspector")
INSTALL_TIMEOUT = 600.0
MAX_LINE = 4 * 1024 * 1024
MIN_NODE = 20


@dataclass(frozen=True)
class NpmClients:
    """Where the installed clients' executables are, and the Node.js version that runs them."""

    bin: Path
    node_version: str

    def command(self, name: str, *args: str) -> list[str]:
        """The command line that runs the client ``name`` (a ``node_modules/.bin`` entry) with ``args``."""
        return [str(self.bin / name), *args]


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI needs Node.js {MIN_NODE}+ and npm for tests/clients")
    pytest.skip(f"{reason}; the npm client tests need Node.js {MIN_NODE}+ and npm, skipped outside CI")


def require_node() -> tuple[str, str, str]:
    """Paths of ``node`` and ``npm`` and Node's version; skip without them, except in CI, where that fails."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not (node and npm):
        _unavailable(" and ".join(name for name, path in (("node", node), ("npm", npm)) if not path) + " not on PATH")
    version = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30, check=True).stdout.strip()
    if int(version.lstrip("v").split(".")[0]) < MIN_NODE:  # Debian 12's own nodejs is 18: too old for undici 7
        _unavailable(f"node is {version}")
    return node, npm, version


def install_clients() -> NpmClients:
    """Run ``npm ci`` in tests/clients/npm unless its node_modules already matches the lock file."""
    _, npm, version = require_node()
    wanted = hashlib.sha256((NPM_DIR / "package-lock.json").read_bytes() + version.encode()).hexdigest()
    bin_dir = NODE_MODULES / ".bin"
    with LOCK_FILE.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes; the holder's npm ci is itself bounded
        current = STAMP.is_file() and STAMP.read_text() == wanted
        if current and all((bin_dir / name).exists() for name in BINARIES):
            return NpmClients(bin_dir, version)
        try:
            done = subprocess.run(
                [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"],
                cwd=NPM_DIR,
                capture_output=True,
                text=True,
                timeout=INSTALL_TIMEOUT,
            )
        except subprocess.TimeoutExpired:
            pytest.fail(f"npm ci in {NPM_DIR} did not finish within {INSTALL_TIMEOUT:g} s")
        if done.returncode != 0:
            pytest.fail(f"npm ci in {NPM_DIR} failed ({done.returncode}):\n{done.stderr[-4000:]}")
        STAMP.write_text(wanted)
        return NpmClients(bin_dir, version)


def free_port() -> int:
    """A loopback port that was free a moment ago, for a client's OAuth callback listener."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def client_env(home: Path, **extra: str) -> dict[str, str]:
    """A small environment for a client process: PATH, a private HOME, no proxies, no desktop, plus ``extra``."""
    home.mkdir(parents=True, exist_ok=True)
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "LANG": "C.UTF-8", **extra}


@dataclass
class BrowserShim:
    """The ``$BROWSER`` script given to a client, and the hops it logged."""

    path: Path
    log: Path

    def env(self) -> dict[str, str]:
        """The variables that make a client open its authorization URL with this shim."""
        return {"BROWSER": str(self.path), "BROWSER_SHIM_LOG": str(self.log)}

    def hops(self) -> list[dict[str, Any]]:
        """Every logged hop, in order (empty when the shim never ran)."""
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines() if line.strip()]

    def authorization(self) -> tuple[str, str]:
        """The redirect_uri the client sent to /authorize, and the URL of the last request the shim made."""
        requests = [hop for hop in self.hops() if "url" in hop]
        assert requests, f"the browser shim was never opened (log {self.log})"
        redirect_uri = parse_qs(urlsplit(requests[0]["url"]).query)["redirect_uri"][0]
        return redirect_uri, requests[-1]["url"]


def make_browser_shim(directory: Path, name: str = "browser") -> BrowserShim:
    """Write an executable ``$BROWSER`` script that runs tests/clients/browser.py with this interpreter."""
    directory.mkdir(parents=True, exist_ok=True)
    script = directory / f"{name}.sh"
    script.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} {shlex.quote(str(BROWSER_SCRIPT))} "$@"\n')
    script.chmod(0o755)
    return BrowserShim(script, directory / f"{name}.log")


@dataclass
class Finished:
    """A client run that ended: its exit code and output."""

    returncode: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        """stdout as one JSON document."""
        return json.loads(self.stdout)


async def run_client(command: Sequence[str], env: dict[str, str], *, seconds: float = 60.0) -> Finished:
    """Run a client to completion with stdin closed; fail the test when it takes longer than ``seconds``."""
    try:
        with anyio.fail_after(seconds):
            done = await anyio.run_process(command, env=env, stdin=subprocess.DEVNULL, check=False)
    except TimeoutError:
        pytest.fail(f"{shlex.join(command)} did not finish within {seconds:g} s")
    return Finished(done.returncode, done.stdout.decode(), done.stderr.decode())


@dataclass
class StdioPeer:
    """JSON-RPC over a child process's stdin and stdout (one message per line); its stderr is collected."""

    process: Process
    stdout: BufferedByteReceiveStream
    stderr: list[str] = field(default_factory=list)
    next_id: int = 1

    async def send(self, message: dict[str, Any]) -> None:
        """Write one message."""
        assert self.process.stdin is not None
        try:
            await self.process.stdin.send((json.dumps(message) + "\n").encode())
        except (anyio.BrokenResourceError, anyio.ClosedResourceError):
            pytest.fail(f"the process no longer reads stdin; stderr:\n{self.stderr_text()[-4000:]}")

    async def notify(self, method: str, params: dict[str, Any] | None = None) -> None:
        """Send a notification."""
        await self.send({"jsonrpc": "2.0", "method": method, **({"params": params} if params is not None else {})})

    async def request(self, method: str, params: dict[str, Any] | None = None, *, seconds: float = 60.0) -> Any:
        """Send a request and return its response, skipping other messages; fail after ``seconds``."""
        ident, self.next_id = self.next_id, self.next_id + 1
        await self.send({"jsonrpc": "2.0", "id": ident, "method": method, "params": params or {}})
        try:
            with anyio.fail_after(seconds):
                while True:
                    message = json.loads(await self.stdout.receive_until(b"\n", MAX_LINE))
                    if message.get("id") == ident and ("result" in message or "error" in message):
                        return message
        except TimeoutError:
            pytest.fail(f"no answer to {method} within {seconds:g} s; stderr:\n{self.stderr_text()[-4000:]}")
        except (anyio.EndOfStream, anyio.IncompleteRead):
            pytest.fail(f"the process closed stdout before answering {method}; stderr:\n{self.stderr_text()[-4000:]}")

    def stderr_text(self) -> str:
        """What the process wrote to stderr so far."""
        return "".join(self.stderr)


@asynccontextmanager
async def stdio_peer(
    command: Sequence[str], env: dict[str, str], *, exit_timeout: float = 30.0
) -> AsyncIterator[StdioPeer]:
    """Start ``command`` with piped stdio; at the end close its stdin and wait (bounded) for it to exit."""
    async with await anyio.open_process(command, env=env, start_new_session=True) as process:
        assert process.stdout is not None
        assert process.stderr is not None
        peer = StdioPeer(process, BufferedByteReceiveStream(process.stdout))

        async def drain(stream: Any) -> None:
            with suppress(anyio.EndOfStream, anyio.ClosedResourceError, anyio.BrokenResourceError):
                async for chunk in stream:
                    peer.stderr.append(chunk.decode(errors="replace"))

        async with anyio.create_task_group() as group:
            group.start_soon(drain, process.stderr)
            try:
                yield peer
            finally:
                with anyio.CancelScope(shield=True):
                    assert process.stdin is not None
                    await process.stdin.aclose()
                    with anyio.move_on_after(exit_timeout):
                        await process.wait()
                    if process.returncode is None:
                        with suppress(ProcessLookupError):
                            os.killpg(process.pid, signal.SIGKILL)
                        await process.wait()


@dataclass
class Running:
    """A long-running client process whose stdout and stderr are collected as they come."""

    process: Process
    output: list[str] = field(default_factory=list)
    changed: anyio.Event = field(default_factory=anyio.Event)

    def text(self) -> str:
        """Everything the process printed so far (stdout and stderr interleaved by arrival)."""
        return "".join(self.output)

    async def wait_for(self, pattern: str, *, seconds: float = 60.0) -> re.Match[str]:
        """The first match of ``pattern`` in the output; fail the test when none appears within ``seconds``."""
        try:
            with anyio.fail_after(seconds):
                while (found := re.search(pattern, self.text())) is None:
                    if self.process.returncode is not None:
                        pytest.fail(f"the process exited ({self.process.returncode}):\n{self.text()[-4000:]}")
                    await self.changed.wait()
                    self.changed = anyio.Event()
        except TimeoutError:
            pytest.fail(f"{pattern!r} did not appear within {seconds:g} s; output:\n{self.text()[-4000:]}")
        return found


@asynccontextmanager
async def running(command: Sequence[str], env: dict[str, str], *, stop_timeout: float = 15.0) -> AsyncIterator[Running]:
    """Start a server-like client; at the end stop its process group (SIGTERM, then SIGKILL after a bound)."""
    async with await anyio.open_process(command, env=env, stdin=subprocess.DEVNULL, start_new_session=True) as process:
        watched = Running(process)

        async def collect(stream: Any) -> None:
            with suppress(anyio.EndOfStream, anyio.ClosedResourceError, anyio.BrokenResourceError):
                async for chunk in stream:
                    watched.output.append(chunk.decode(errors="replace"))
                    watched.changed.set()
            watched.changed.set()

        async with anyio.create_task_group() as group:
            group.start_soon(collect, process.stdout)
            group.start_soon(collect, process.stderr)
            try:
                yield watched
            finally:
                with anyio.CancelScope(shield=True):
                    for sig in (signal.SIGTERM, signal.SIGKILL):
                        if process.returncode is not None:
                            break
                        with suppress(ProcessLookupError):
                            os.killpg(process.pid, sig)
                        with anyio.move_on_after(stop_timeout):
                            await process.wait()
