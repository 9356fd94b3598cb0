"""``/healthz`` (the process is alive) and ``/readyz`` (the store answers and its schema is this release's)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import anyio
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from spotify_mcp.services import Runtime
from spotify_mcp.store import postgres_schema, sqlite_schema
from spotify_mcp.store.base import Store
from spotify_mcp.store.postgres import PostgresStore

READY_TIMEOUT = 3.0
_HEADERS = {"Cache-Control": "no-store"}
logger = logging.getLogger(__name__)


def expected_schema_version(store: Store) -> int:
    """The schema version this release writes for the store's backend (Redis records the SQLite one)."""
    if isinstance(store, PostgresStore):
        return postgres_schema.CURRENT_VERSION
    return sqlite_schema.CURRENT_VERSION


async def readiness_problems(store: Store, *, within: float = READY_TIMEOUT) -> list[str]:
    """What stops the store from serving requests; empty when ready. Never the store's URL or its errors' text."""
    expected = expected_schema_version(store)
    try:
        with anyio.fail_after(within):
            await store.ping()
            found = await store.schema_version()
    except TimeoutError:
        return [f"the store did not answer within {within:g} seconds"]
    except Exception as exc:
        # The details go to the (redacted) log only: a store error may name hosts or paths.
        logger.warning("readiness check: the store failed: %s", exc)
        return [f"the store did not answer ({type(exc).__name__})"]
    if found > expected:
        return [f"the store's schema version {found} is newer than this release's ({expected}); upgrade spotify-mcp"]
    if found < expected:
        return [f"the store's schema version {found} is older than this release's ({expected}); it was not migrated"]
    return []


async def healthz(request: Request) -> Response:
    """The process is alive and serving HTTP."""
    return JSONResponse({"status": "ok"}, headers=_HEADERS)


def readyz(runtime: Runtime) -> Callable[[Request], Awaitable[Response]]:
    """A handler answering 200 when the app can serve requests, else 503 naming what is wrong."""

    async def ready(request: Request) -> Response:
        try:
            store = runtime.services.store
        except RuntimeError:
            return _not_ready(["the application is not running"])
        problems = await readiness_problems(store)
        if problems:
            return _not_ready(problems)
        return JSONResponse({"status": "ready", "schema_version": expected_schema_version(store)}, headers=_HEADERS)

    return ready


def _not_ready(problems: list[str]) -> Response:
    return JSONResponse({"status": "not ready", "problems": problems}, status_code=503, headers=_HEADERS)
