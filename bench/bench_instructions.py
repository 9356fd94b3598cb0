"""Benchmark: CPU instructions per authenticated ``tools/call``, counted by valgrind's callgrind (repeatable).

Rates on a shared 2-core machine move by ±10 % from run to run; instruction counts do not (the same binary,
inputs and hash seed give the same count within a fraction of a percent), so this is the benchmark to compare
two versions of the server with. It runs ``spotify-mcp serve`` under ``valgrind --tool=callgrind`` with
counting switched off, signs in, warms up, switches counting on for ``--calls`` stateless 2026-07-28
``tools/call getCurrentUserProfile`` requests sent one after another, and reads the count. The frameworks'
floor (``bench/passthrough.py``: bare Starlette + ``httpx2``, nothing of ours) is counted the same way.
The emulator runs in this process, uncounted. Needs ``valgrind`` (Debian package) on the PATH.

Run: ``.venv/bin/python -m bench.bench_instructions --calls 300`` (``--setting NAME=VALUE`` passes a setting to
the server, e.g. ``--setting SPOTIFY_MCP_LOG_LEVEL=warning`` to count without the access log; ``--backend
postgres`` or ``redis`` uses a fresh schema or key prefix on the local server, whose own instructions are not
counted).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import anyio
import httpx2
from tests.e2e.live import serve
from tests.replicas.cluster import (
    Cluster,
    Replica,
    free_port,
    pinned,
    sign_in,
    spawn,
    stop_all,
    tool_call,
    wait_ready,
)

from bench.bench_replicas import BACKENDS, store_for
from bench.topology import bench_spotify, passthrough_command, server_env

WARMUP_CALLS = 30
START_UNDER_VALGRIND = 600.0


def callgrind(name: str, argv: list[str], env: dict[str, str], workdir: Path, port: int) -> Replica:
    """Start ``argv`` under callgrind with counting off (``PYTHONHASHSEED=0`` for a repeatable count)."""
    out = workdir / f"{name}.callgrind"
    wrapped = ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}", *argv]
    return spawn(name, wrapped, {**env, "PYTHONHASHSEED": "0"}, workdir, port)


def control(replica: Replica, *options: str) -> None:
    """Run ``callgrind_control`` on a process (``-i on``, ``-i off``, ``-d``)."""
    subprocess.run(["callgrind_control", *options, str(replica.process.pid)], check=True, capture_output=True)


def counted_instructions(workdir: Path, name: str) -> int:
    """The instruction count (``Ir``) of the newest dump of ``name``."""
    dumps = sorted(workdir.glob(f"{name}.callgrind*"), key=lambda p: p.stat().st_mtime)
    for line in reversed(dumps[-1].read_text(errors="replace").splitlines()):
        if line.startswith(("summary:", "totals:")):
            return int(line.split()[1])
    raise RuntimeError(f"no instruction total in {dumps[-1]}")


async def count(replica: Replica, workdir: Path, url: str, headers: dict[str, str], body: bytes, calls: int) -> int:
    """Instructions ``replica`` spends on ``calls`` POSTs of ``body`` to ``url``, one at a time, after a warm-up."""
    async with httpx2.AsyncClient(timeout=120) as http:

        async def one() -> None:
            response = await http.post(url, headers=headers, content=body)
            if response.status_code != 200 or '"isError":true' in response.text:
                raise RuntimeError(f"call failed: {response.status_code} {response.text[:200]}")

        for _ in range(WARMUP_CALLS):
            await one()
        control(replica, "-z")
        control(replica, "-i", "on")
        for _ in range(calls):
            await one()
        control(replica, "-i", "off")
        control(replica, "-d")
    return counted_instructions(workdir, replica.name)


async def main(calls: int, settings: dict[str, str], backend: str) -> dict[str, Any]:
    """Count our server's and the floor's instructions per tool call against the in-process emulator."""
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        raise SystemExit("valgrind is not installed (apt-get install valgrind)")
    with tempfile.TemporaryDirectory(prefix="bench-instructions-") as tmp:
        workdir = Path(tmp)
        async with store_for(backend, workdir) as store_url:
            return await _count_both(workdir, store_url, calls, settings) | {"backend": backend}


async def _count_both(workdir: Path, store_url: str, calls: int, settings: dict[str, str]) -> dict[str, Any]:
    port, floor_port = free_port(), free_port()
    public = f"http://127.0.0.1:{port}"
    spotify = bench_spotify(public)
    env = server_env(public, store_url, spotify, workdir, settings)
    async with serve([(spotify.app, spotify.sock)]):
        serve_argv = [sys.executable, "-m", "spotify_mcp.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
        server = callgrind("server", serve_argv, env, workdir, port)
        started = [server]
        try:
            await wait_ready([server], within=START_UNDER_VALGRIND)
            cluster = Cluster("sqlite", public, spotify.origin, {"server": server})
            async with cluster.http(pinned(server)) as browser:
                bearer = (await sign_in(browser, cluster, "bench")).access_token
            headers, body = tool_call(bearer, "getCurrentUserProfile")
            ours = await count(server, workdir, f"{public}/mcp", headers, body, calls)
            floor_argv, floor_env = passthrough_command(floor_port, spotify)
            floor = callgrind("passthrough", floor_argv, floor_env, workdir, floor_port)
            started.append(floor)
            await wait_ready([floor], within=START_UNDER_VALGRIND)
            floor_count = await count(floor, workdir, f"{floor.origin}/mcp", headers, body, calls)
        finally:
            with anyio.CancelScope(shield=True):
                await stop_all(started)
    return {
        "settings": settings,
        "calls_counted": calls,
        "instructions_per_call_server": round(ours / calls),
        "instructions_per_call_frameworks_floor": round(floor_count / calls),
        "server_over_floor": round(ours / floor_count, 2),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--setting", action="append", default=[], metavar="NAME=VALUE", help="a server setting")
    parser.add_argument("--backend", choices=BACKENDS, default="sqlite")
    args = parser.parse_args()
    settings = dict(item.split("=", 1) for item in args.setting)
    print(json.dumps(anyio.run(main, args.calls, settings, args.backend), indent=2))
