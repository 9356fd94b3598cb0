"""Benchmark: tool-call throughput of one and two ``spotify-mcp serve`` replicas on each store backend, in one run.

Processes, all on 127.0.0.1: the Spotify emulator (a process of its own), the replicas (``spotify-mcp serve``
subprocesses sharing one store, one secret key and one public URL; the second one is started for the
two-replica cells), and the load generator (this process). The store servers (PostgreSQL, Redis) are the
local ones the tests use. Per backend, premium-user signs in once (through replica a) and the token is reused.
The rate limiter stays on, with limits no run reaches (``ONE_ADDRESS_RATE_LIMITS``): its counting is measured.

Per cell (backend × replica count × tool): ``--concurrency`` workers send stateless 2026-07-28 ``tools/call``
POSTs for ``--seconds``, round-robin across the replicas (addressed to each replica's own port, as a load
balancer would forward them), after a short warm-up. Tools: ``getCurrentUserProfile`` (a read: bearer lookup,
credentials, ``GET /v1/me``) and ``setVolume`` (a player command, ``PUT /v1/me/player/volume``, alternating 40
and 60). It reports requests/s, p50/p99 latency, errors, and CPU use per component (percent of one core, from
/proc) plus the whole machine's (of all cores), so it shows what the run was bound by.

SQLite runs with two replicas too, as an experiment: the same file from two processes on one host (WAL,
``BEGIN IMMEDIATE``, ``busy_timeout``); see docs/benchmarks.md for what that shows.

Run: ``.venv/bin/python -m bench.bench_replicas --seconds 5 --concurrency 8`` (``--backends sqlite,redis`` for
a subset; ``--json-only`` to print only the JSON).
"""

from __future__ import annotations

import argparse
import datetime
import json
import logging
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field
from itertools import count
from pathlib import Path
from typing import Any

import anyio
import asyncpg
import httpx2
from redis.exceptions import RedisError
from tests.replicas.cluster import (
    ONE_ADDRESS_RATE_LIMITS,
    Cluster,
    Replica,
    new_secret_key,
    pinned,
    replica_env,
    reserved_port,
    sign_in,
    spawn_emulator,
    spawn_replica,
    stop_all,
    tool_call,
    wait_ready,
)
from tests.store import pg, redis_support

BACKENDS = ("sqlite", "postgres", "redis")
TOOLS: dict[str, list[dict[str, Any]]] = {
    "getCurrentUserProfile": [{}],
    "setVolume": [{"volumePercent": 40}, {"volumePercent": 60}],
}
WARMUP_SECONDS = 0.5
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# -- CPU accounting (Linux /proc) ----------------------------------------------------------------------------
def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine, all cores, since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / CLOCK_TICKS, sum(values) / CLOCK_TICKS


STORE_SERVERS = {"postgres": "postgres", "redis": "redis-server"}
"""The process name of each backend's server (SQLite runs inside the replicas)."""


def processes_named(name: str) -> dict[int, float]:
    """CPU seconds so far of every process with this name (e.g. every PostgreSQL backend)."""
    found: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                comm = (entry / "comm").read_text().strip()
            except OSError:
                continue
            if comm == name:
                found[int(entry.name)] = process_cpu(int(entry.name))
    return found


@dataclass
class CpuMeter:
    """CPU used by each component between ``start()`` and ``stop()``, in percent of one core.

    ``store`` sums every process of the backend's server: other clients of that server count too.
    """

    replicas: list[Replica]
    emulator: Replica
    backend: str
    began: dict[str, float] = field(default_factory=dict)
    store_began: dict[int, float] = field(default_factory=dict)

    def _sample(self) -> dict[str, float]:
        busy, total = machine_cpu()
        return {
            "replicas": sum(process_cpu(r.process.pid) for r in self.replicas),
            "emulator": process_cpu(self.emulator.process.pid),
            "load_generator": time.process_time(),
            "machine_busy": busy,
            "machine_total": total,
            "wall": time.perf_counter(),
        }

    def _store(self) -> dict[int, float]:
        server = STORE_SERVERS.get(self.backend)
        return processes_named(server) if server else {}

    def start(self) -> None:
        """Take the first sample."""
        self.store_began = self._store()
        self.began = self._sample()

    def stop(self) -> dict[str, float]:
        """Percent of one core per component over the interval; ``machine`` is percent of all cores."""
        end = self._sample()
        store_end = self._store()
        wall = end["wall"] - self.began["wall"]
        used = {k: end[k] - self.began[k] for k in end}
        used["store"] = sum(cpu - self.store_began.get(pid, 0.0) for pid, cpu in store_end.items())
        figures = {k: round(100 * used[k] / wall, 1) for k in ("replicas", "emulator", "load_generator", "store")}
        figures["machine"] = round(100 * used["machine_busy"] / max(used["machine_total"], 1e-9), 1)
        return figures


# -- load --------------------------------------------------------------------------------------------------
@dataclass
class Cell:
    """One measurement."""

    backend: str
    replicas: int
    tool: str
    supported: bool
    requests: int
    errors: int
    rate_per_s: float
    p50_ms: float
    p99_ms: float
    cpu_percent: dict[str, float]
    cpu_ms_per_call: dict[str, float]
    """CPU milliseconds per successful call: in the replicas, and in everything measured (replicas, emulator,
    load generator, store server): a figure that holds up when other work shares the machine."""
    first_errors: list[str]


async def drive(
    http: httpx2.AsyncClient,
    targets: Sequence[str],
    requests: Sequence[tuple[dict[str, str], bytes]],
    seconds: float,
    concurrency: int,
) -> tuple[list[float], list[str], float]:
    """Send requests round-robin across ``targets`` from ``concurrency`` workers for ``seconds``.

    Returns the latencies of the successes, the errors, and the elapsed time.
    """
    latencies: list[float] = []
    errors: list[str] = []
    turn = count()
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        while time.perf_counter() < deadline:
            i = next(turn)
            headers, body = requests[(i // len(targets)) % len(requests)]
            start = time.perf_counter()
            try:
                response = await http.post(targets[i % len(targets)], headers=headers, content=body)
            except httpx2.TransportError as exc:
                errors.append(f"{type(exc).__name__}: {exc}")
                continue
            if response.status_code != 200 or '"isError":true' in response.text:
                errors.append(f"{response.status_code} {response.text[:160]}")
            else:
                latencies.append(time.perf_counter() - start)

    began = time.perf_counter()
    with anyio.fail_after(seconds + 60):
        async with anyio.create_task_group() as group:
            for _ in range(concurrency):
                group.start_soon(worker)
    return latencies, errors, time.perf_counter() - began


async def measure_cell(
    *,
    backend: str,
    replicas: list[Replica],
    emulator: Replica,
    bearer: str,
    tool: str,
    seconds: float,
    concurrency: int,
) -> Cell:
    """Warm up, then measure one tool on the running replicas."""
    targets = [f"{r.origin}/mcp" for r in replicas]
    requests = [tool_call(bearer, tool, arguments) for arguments in TOOLS[tool]]
    limits = httpx2.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx2.AsyncClient(timeout=30, limits=limits) as http:
        await drive(http, targets, requests, WARMUP_SECONDS, concurrency)
        meter = CpuMeter(replicas, emulator, backend)
        meter.start()
        latencies, errors, elapsed = await drive(http, targets, requests, seconds, concurrency)
        cpu = meter.stop()
    latencies.sort()
    return Cell(
        backend=backend,
        replicas=len(replicas),
        tool=tool,
        supported=not (backend == "sqlite" and len(replicas) > 1),
        requests=len(latencies),
        errors=len(errors),
        rate_per_s=round(len(latencies) / elapsed, 1),
        p50_ms=round(1000 * statistics.median(latencies), 1) if latencies else float("nan"),
        p99_ms=round(1000 * latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))], 1)
        if latencies
        else float("nan"),
        cpu_percent=cpu,
        cpu_ms_per_call=per_call(cpu, len(latencies) / elapsed),
        first_errors=sorted(set(errors))[:3],
    )


def per_call(cpu: dict[str, float], rate: float) -> dict[str, float]:
    """CPU ms per call from percent-of-a-core figures and a rate."""
    if rate <= 0:
        return {"replicas": float("nan"), "all": float("nan")}
    everything = sum(cpu[k] for k in ("replicas", "emulator", "load_generator", "store"))
    return {"replicas": round(10 * cpu["replicas"] / rate, 2), "all": round(10 * everything / rate, 2)}


# -- stores ------------------------------------------------------------------------------------------------
@asynccontextmanager
async def store_for(backend: str, workdir: Path) -> AsyncIterator[str]:
    """A fresh store of the backend (a new file, schema or key prefix), removed afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{workdir / 'bench-store.db'}"
    elif backend == "postgres":
        schema = f"bench_{pg.fresh_schema()}"
        try:
            yield pg.schema_url(schema)
        finally:
            await pg.drop_schema(schema)
    else:
        prefix = f"bench-{redis_support.unique_prefix()}"
        try:
            yield redis_support.store_url(prefix)
        finally:
            await redis_support.delete_prefix(prefix)


async def reachable(backend: str) -> str | None:
    """None when the backend's server answers, else why not."""
    try:
        if backend == "postgres":
            conn = await pg.connect()
            await conn.close()
        elif backend == "redis":
            client = redis_support.raw_client()
            try:
                await client.ping()
            finally:
                await client.aclose()
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError, RedisError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


# -- the run -----------------------------------------------------------------------------------------------
async def bench_backend(
    backend: str, *, public: str, emulator: Replica, workdir: Path, seconds: float, concurrency: int
) -> list[Cell]:
    """Sign in once, measure both tools on one replica, then start a second and measure again."""
    cells: list[Cell] = []
    async with store_for(backend, workdir) as store_url:
        env = replica_env(
            public_url=public,
            store_url=store_url,
            secret_key=new_secret_key(),
            spotify=emulator.origin,
            data_dir=workdir,
            extra={"SPOTIFY_MCP_RATE_LIMITS": ONE_ADDRESS_RATE_LIMITS},
        )
        running: list[Replica] = []
        try:
            running.append(spawn_replica(f"{backend}-a", env, workdir))
            await wait_ready(running)
            cluster = Cluster(backend, public, emulator.origin, {"a": running[0]})
            async with cluster.http(pinned(running[0])) as browser:
                tokens = await sign_in(browser, cluster, "bench")
            for replica_count in (1, 2):
                if replica_count == 2:
                    running.append(spawn_replica(f"{backend}-b", env, workdir))
                    await wait_ready(running[1:])
                for tool in TOOLS:
                    cell = await measure_cell(
                        backend=backend,
                        replicas=running,
                        emulator=emulator,
                        bearer=tokens.access_token,
                        tool=tool,
                        seconds=seconds,
                        concurrency=concurrency,
                    )
                    print(f"  {cell.backend} ×{cell.replicas} {cell.tool}: {cell.rate_per_s}/s", file=sys.stderr)
                    cells.append(cell)
        finally:
            with anyio.CancelScope(shield=True):
                await stop_all(running)
    return cells


async def run(backends: Sequence[str], seconds: float, concurrency: int) -> dict[str, Any]:
    """Every cell of every backend, with the emulator up for the whole run."""
    cells: list[Cell] = []
    skipped: dict[str, str] = {}
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-replicas-") as tmp, reserved_port() as public_sock:
        workdir = Path(tmp)
        public = f"http://127.0.0.1:{public_sock.getsockname()[1]}"
        emulator = spawn_emulator(workdir, f"{public}/callback")
        try:
            await wait_ready([emulator], path="/v1/me", status=401)
            for backend in backends:
                problem = await reachable(backend)
                if problem is not None:
                    skipped[backend] = problem
                    print(f"  {backend}: skipped ({problem})", file=sys.stderr)
                    continue
                cells += await bench_backend(
                    backend,
                    public=public,
                    emulator=emulator,
                    workdir=workdir,
                    seconds=seconds,
                    concurrency=concurrency,
                )
        finally:
            with anyio.CancelScope(shield=True):
                await emulator.stop()
    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "command": " ".join([".venv/bin/python -m bench.bench_replicas", *sys.argv[1:]]),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "loadavg_before": [round(x, 2) for x in load_before],
            "loadavg_after": [round(x, 2) for x in os.getloadavg()],
        },
        "concurrency": concurrency,
        "seconds_each": seconds,
        "skipped": skipped,
        "cells": [asdict(c) for c in cells],
    }


def markdown(report: dict[str, Any]) -> str:
    """The cells as a Markdown table."""
    lines = [
        "| backend | replicas | tool | req/s | p50 ms | p99 ms | errors "
        "| CPU % replicas / emulator / load gen / store server | machine CPU % | CPU ms per call: replicas / all |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for c in report["cells"]:
        cpu, ms = c["cpu_percent"], c["cpu_ms_per_call"]
        backend = c["backend"] if c["supported"] else f"{c['backend']} (experiment)"
        lines.append(
            f"| {backend} | {c['replicas']} | `{c['tool']}` | {c['rate_per_s']} | {c['p50_ms']} | {c['p99_ms']} "
            f"| {c['errors']} | {cpu['replicas']} / {cpu['emulator']} / {cpu['load_generator']} / {cpu['store']} "
            f"| {cpu['machine']} | {ms['replicas']} / {ms['all']} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the options, run, print JSON then Markdown."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5.0, help="duration of each cell (default 5)")
    parser.add_argument("--concurrency", type=int, default=8, help="concurrent requests (default 8)")
    parser.add_argument(
        "--backends", default=",".join(BACKENDS), help="comma-separated subset of " + ",".join(BACKENDS)
    )
    parser.add_argument("--json-only", action="store_true")
    args = parser.parse_args(argv)
    backends = [b for b in (s.strip() for s in args.backends.split(",")) if b]
    if unknown := set(backends) - set(BACKENDS):
        parser.error(f"unknown backends {sorted(unknown)}")
    if not 0 < args.seconds <= 600 or not 0 < args.concurrency <= 256:
        parser.error("--seconds must be in (0, 600] and --concurrency in (0, 256]")
    report = anyio.run(run, backends, args.seconds, args.concurrency)
    print(json.dumps(report, indent=2))
    if not args.json_only:
        print()
        print(markdown(report))
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    raise SystemExit(main())
