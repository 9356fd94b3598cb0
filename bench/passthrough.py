"""The frameworks' floor: a bare Starlette pass-through that answers a ``tools/call`` with one upstream ``GET /v1/me``.

The benchmark runs it as a process of its own beside ``spotify-mcp serve`` to show what the stack we build on
costs by itself (uvicorn on uvloop + httptools with its access log, as ``serve`` runs it; Starlette; one pooled
``httpx2`` request), with nothing of ours: no bearer lookup, no rate limit, no MCP SDK, no sealed tokens, no
metrics. It is not a server anyone should run: it forwards one fixed Spotify token and trusts every caller.

``python -m bench.passthrough --port N --spotify http://127.0.0.1:P`` with the token in ``BENCH_SPOTIFY_TOKEN``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import anyio
import httpx2
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

from spotify_mcp.cli import EVENT_LOOP


def create_passthrough_app(spotify: str, token: str) -> Starlette:
    """The pass-through: ``POST /mcp`` (any JSON-RPC request) → ``GET {spotify}/v1/me`` → a tool result."""
    http = httpx2.AsyncClient(base_url=spotify, timeout=10)
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}

    async def call(request: Request) -> JSONResponse:
        message = json.loads(await request.body())
        upstream = await http.get("/v1/me", headers=headers)
        profile = upstream.json()
        result = {"content": [{"type": "text", "text": json.dumps(profile)}], "structuredContent": profile}
        return JSONResponse({"jsonrpc": "2.0", "id": message["id"], "result": {**result, "isError": False}})

    async def healthz(request: Request) -> PlainTextResponse:
        return PlainTextResponse("ok")

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with http:
            yield

    return Starlette(routes=[Route("/mcp", call, methods=["POST"]), Route("/healthz", healthz)], lifespan=lifespan)


def main(argv: Sequence[str] | None = None) -> int:
    """Serve the pass-through on 127.0.0.1 until SIGTERM/SIGINT."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--spotify", required=True, help="origin of the Spotify emulator")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    app = create_passthrough_app(args.spotify, os.environ["BENCH_SPOTIFY_TOKEN"])
    config = uvicorn.Config(app, host="127.0.0.1", port=args.port, log_level="info", log_config=None)
    anyio.run(uvicorn.Server(config).serve, backend_options=EVENT_LOOP)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
