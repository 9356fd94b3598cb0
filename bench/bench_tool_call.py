"""Benchmark: an authenticated ``tools/call getCurrentUserProfile`` through the whole stack vs. the emulator direct.

Both run in one process run on this machine, over real loopback sockets (uvicorn), at fixed concurrency:
- direct: ``GET /v1/me`` on the Spotify emulator with a Spotify access token;
- full stack: ``POST /mcp`` (2026-07-28 stateless request) with our bearer → token lookup → Spotify call
  through the pooled client → compact result.
It also counts upstream calls per tool call (the target is exactly one: the tool's own).
Run: ``make bench`` (or ``.venv/bin/python bench/bench_tool_call.py --seconds 10 --concurrency 16``).
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import anyio
import httpx2
from tests.e2e.live import Live, live
from tests.support import CLIENT_REDIRECT, pkce, walk

PROTOCOL = "2026-07-28"


async def sign_in(server: Live, http: httpx2.AsyncClient) -> str:
    """Register, authorize and exchange; return our access token."""
    client = (
        await http.post(
            f"{server.base}/register",
            json={"client_name": "bench", "redirect_uris": [CLIENT_REDIRECT], "token_endpoint_auth_method": "none"},
        )
    ).json()
    verifier, challenge = pkce()
    params = {
        "response_type": "code",
        "client_id": client["client_id"],
        "redirect_uri": CLIENT_REDIRECT,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "state": "b",
    }
    final = await walk(http, str(httpx2.URL(f"{server.base}/authorize", params=params)), (server.base, server.emulator))
    code = parse_qs(urlsplit(final.headers["location"]).query)["code"][0]
    token = await http.post(
        f"{server.base}/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": CLIENT_REDIRECT,
            "code_verifier": verifier,
            "client_id": client["client_id"],
        },
    )
    return str(token.json()["access_token"])


def tool_call_request(server: Live, bearer: str) -> tuple[str, dict[str, str], bytes]:
    """A stateless 2026-07-28 tools/call request."""
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {
            "name": "getCurrentUserProfile",
            "arguments": {},
            "_meta": {
                "io.modelcontextprotocol/protocolVersion": PROTOCOL,
                "io.modelcontextprotocol/clientInfo": {"name": "bench", "version": "1"},
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
        "Mcp-Name": "getCurrentUserProfile",
    }
    return server.mcp_url, headers, json.dumps(body).encode()


async def measure(call: Callable[[], Awaitable[None]], seconds: float, concurrency: int) -> dict[str, float]:
    """Run ``call`` from ``concurrency`` workers for ``seconds``; return rate and latency percentiles."""
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            await call()
            latencies.append(time.perf_counter() - start)

    began = time.perf_counter()
    async with anyio.create_task_group() as group:
        for _ in range(concurrency):
            group.start_soon(worker)
    elapsed = time.perf_counter() - began
    latencies.sort()
    return {
        "requests": len(latencies),
        "rate_per_s": len(latencies) / elapsed,
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))],
    }


async def main(seconds: float, concurrency: int) -> dict[str, object]:
    """Run both measurements in one process and return the figures."""
    with tempfile.TemporaryDirectory() as tmp:
        # One user makes every call: lift the per-user limit out of reach, but keep the limiter counting.
        async with live(Path(tmp), rate_limits="tools=1000000/60") as server:
            limits = httpx2.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
            async with httpx2.AsyncClient(timeout=30, limits=limits) as http:
                bearer = await sign_in(server, http)
                spotify_token = next(iter(server.world.access_tokens))
                url, headers, body = tool_call_request(server, bearer)

                async def full_stack() -> None:
                    response = await http.post(url, headers=headers, content=body)
                    if response.status_code != 200 or '"isError":true' in response.text:
                        raise RuntimeError(f"tool call failed: {response.status_code} {response.text[:200]}")

                async def direct() -> None:
                    response = await http.get(
                        f"{server.emulator}/v1/me", headers={"Authorization": f"Bearer {spotify_token}"}
                    )
                    if response.status_code != 200:
                        raise RuntimeError(f"direct call failed: {response.status_code}")

                await full_stack()
                server.world.api_calls.clear()
                await full_stack()
                upstream_per_call = len(server.world.api_calls)
                direct_figures = await measure(direct, seconds, concurrency)
                server.world.api_calls.clear()
                stack_figures = await measure(full_stack, seconds, concurrency)
                upstream_total = len([c for c in server.world.api_calls if c[1] == "/v1/me"])
    return {
        "concurrency": concurrency,
        "seconds_each": seconds,
        "direct_emulator_GET_me": direct_figures,
        "full_stack_tools_call": stack_figures,
        "ratio_full_to_direct": stack_figures["rate_per_s"] / direct_figures["rate_per_s"],
        "upstream_calls_per_tool_call": upstream_per_call,
        "upstream_calls_during_full_stack_run": upstream_total,
    }


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    for noisy in ("httpx2", "httpcore2", "mcp", "uvicorn"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    print(json.dumps(anyio.run(main, args.seconds, args.concurrency), indent=2))
