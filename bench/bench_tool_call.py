"""Benchmark: an authenticated ``tools/call getCurrentUserProfile`` through the whole stack vs. the emulator direct.

The topology is production's: the server runs as ``spotify-mcp serve`` in a process of its own (its own event
loop and core), while this process plays both the MCP client (the load generator) and Spotify (the emulator,
under uvicorn on a loopback socket). In one run, at fixed concurrency:

- direct: ``GET /v1/me`` on the emulator with a Spotify access token (load generator → emulator);
- full stack: ``POST /mcp`` (a stateless 2026-07-28 ``tools/call``) with our bearer → token lookup and per-user
  rate-limit count in SQLite → unsealed Spotify token → pooled upstream ``GET /v1/me`` → compact result;
- frameworks' floor: the same ``POST`` to ``bench/passthrough.py`` in a process of its own, a bare Starlette +
  ``httpx2`` pass-through on ``serve``'s uvicorn settings with nothing of ours, to show what the stack we build on
  costs by itself.

Each pair of runs is repeated per ``--spotify-latency-ms``: 0 makes the emulator answer at once (a CPU-bound
comparison of our whole server with a stub), a few tens of milliseconds stand for the real Spotify's round trip.
Besides rates and p50/p99 latencies it reports CPU milliseconds per call of the server process and of this
process (from /proc and ``time.process_time``), and counts upstream calls per tool call (target: exactly one).
Run: ``make bench`` (or ``.venv/bin/python -m bench.bench_tool_call --seconds 5 --concurrency 4``).
"""

from __future__ import annotations

import argparse
import datetime
import json
import logging
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
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
    reserved_port,
    sign_in,
    spawn,
    spawn_replica,
    stop_all,
    tool_call,
    wait_ready,
)

from bench.bench_replicas import process_cpu
from bench.topology import BenchSpotify, bench_spotify, passthrough_command, server_env

WARMUP_SECONDS = 0.5


async def measure(
    call: Callable[[], Awaitable[None]], seconds: float, concurrency: int, server_pid: int
) -> dict[str, float]:
    """Run ``call`` from ``concurrency`` workers for ``seconds``; return rate, latencies and CPU per call."""
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            await call()
            latencies.append(time.perf_counter() - start)

    server_before, own_before = process_cpu(server_pid), time.process_time()
    began = time.perf_counter()
    with anyio.fail_after(seconds + 60):
        async with anyio.create_task_group() as group:
            for _ in range(concurrency):
                group.start_soon(worker)
    elapsed = time.perf_counter() - began
    server_cpu, own_cpu = process_cpu(server_pid) - server_before, time.process_time() - own_before
    latencies.sort()
    calls = len(latencies)
    return {
        "requests": calls,
        "rate_per_s": round(calls / elapsed, 1),
        "p50_ms": round(1000 * statistics.median(latencies), 2),
        "p99_ms": round(1000 * latencies[min(calls - 1, int(0.99 * calls))], 2),
        "cpu_ms_per_call_server": round(1000 * server_cpu / calls, 3),
        "cpu_ms_per_call_client_and_emulator": round(1000 * own_cpu / calls, 3),
    }


async def main(seconds: float, concurrency: int, latencies_ms: list[float]) -> list[dict[str, Any]]:
    """Start the emulator here and the server as a subprocess, then run both measurements per Spotify latency."""
    with tempfile.TemporaryDirectory(prefix="bench-tool-call-") as tmp, reserved_port() as public_sock:
        workdir = Path(tmp)
        port = public_sock.getsockname()[1]
        public = f"http://127.0.0.1:{port}"
        spotify = bench_spotify(public)
        world = spotify.world
        env = server_env(public, f"sqlite:///{workdir / 'bench.db'}", spotify, workdir)
        public_sock.close()
        async with serve([(spotify.app, spotify.sock)]):
            server = spawn_replica("server", env, workdir, port=port)
            stopped = [server]
            try:
                await wait_ready([server])
                cluster = Cluster("sqlite", public, spotify.origin, {"server": server})
                async with cluster.http(pinned(server)) as browser:
                    bearer = (await sign_in(browser, cluster, "bench")).access_token
                floor = spawn_passthrough(workdir, spotify)
                stopped.append(floor)
                await wait_ready([floor])
                reports = []
                for latency_ms in latencies_ms:
                    world.api_latency = latency_ms / 1000
                    report = await _run(world, (server, floor), public, spotify.origin, bearer, seconds, concurrency)
                    reports.append({"spotify_latency_ms": latency_ms, **report})
                return reports
            finally:
                with anyio.CancelScope(shield=True):
                    await stop_all(stopped)


def spawn_passthrough(workdir: Path, spotify: BenchSpotify) -> Replica:
    """Start ``bench/passthrough.py`` (the frameworks' floor) on a free port, forwarding to the emulator."""
    port = free_port()
    argv, env = passthrough_command(port, spotify)
    return spawn("passthrough", argv, env, workdir, port)


async def _run(
    world: Any,
    servers: tuple[Replica, Replica],
    public: str,
    emulator: str,
    bearer: str,
    seconds: float,
    concurrency: int,
) -> dict[str, Any]:
    server, floor = servers
    server_pid, floor_url = server.process.pid, f"http://127.0.0.1:{floor.port}/mcp"
    spotify_token = next(iter(world.access_tokens))
    headers, body = tool_call(bearer, "getCurrentUserProfile")
    limits = httpx2.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx2.AsyncClient(timeout=30, limits=limits) as http:

        async def full_stack() -> None:
            response = await http.post(f"{public}/mcp", headers=headers, content=body)
            if response.status_code != 200 or '"isError":true' in response.text:
                raise RuntimeError(f"tool call failed: {response.status_code} {response.text[:200]}")

        async def pass_through() -> None:
            response = await http.post(floor_url, headers=headers, content=body)
            if response.status_code != 200:
                raise RuntimeError(f"pass-through call failed: {response.status_code}")

        async def direct() -> None:
            response = await http.get(f"{emulator}/v1/me", headers={"Authorization": f"Bearer {spotify_token}"})
            if response.status_code != 200:
                raise RuntimeError(f"direct call failed: {response.status_code}")

        await full_stack()
        world.api_calls.clear()
        await full_stack()
        upstream_per_call = len(world.api_calls)
        await measure(direct, WARMUP_SECONDS, concurrency, server_pid)
        direct_figures = await measure(direct, seconds, concurrency, server_pid)
        await measure(pass_through, WARMUP_SECONDS, concurrency, floor.process.pid)
        floor_figures = await measure(pass_through, seconds, concurrency, floor.process.pid)
        await measure(full_stack, WARMUP_SECONDS, concurrency, server_pid)
        world.api_calls.clear()
        stack_figures = await measure(full_stack, seconds, concurrency, server_pid)
        upstream_total = len([c for c in world.api_calls if c[1] == "/v1/me"])
    return {
        "when": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{os.cpu_count()} CPUs, {platform.python_implementation()} {platform.python_version()}",
        "load_average_1m": round(os.getloadavg()[0], 2),
        "concurrency": concurrency,
        "seconds_each": seconds,
        "direct_emulator_GET_me": direct_figures,
        "full_stack_tools_call": stack_figures,
        "frameworks_floor_passthrough": floor_figures,
        "ratio_full_to_direct": round(stack_figures["rate_per_s"] / direct_figures["rate_per_s"], 2),
        "ratio_floor_to_direct": round(floor_figures["rate_per_s"] / direct_figures["rate_per_s"], 2),
        "ratio_full_to_floor": round(stack_figures["rate_per_s"] / floor_figures["rate_per_s"], 2),
        "upstream_calls_per_tool_call": upstream_per_call,
        "tool_calls_measured": stack_figures["requests"],
        "upstream_calls_during_full_stack_run": upstream_total,
    }


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument(
        "--spotify-latency-ms",
        default="0,20",
        help="comma-separated delays the emulator adds to every Web API response, one run each (default 0,20)",
    )
    args = parser.parse_args()
    latencies = [float(v) for v in args.spotify_latency_ms.split(",")]
    print(json.dumps(anyio.run(main, args.seconds, args.concurrency, latencies), indent=2))
