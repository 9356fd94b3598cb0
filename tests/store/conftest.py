"""The ``store`` fixture: every contract test runs once per backend in ``STORE_FACTORIES``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from spotify_mcp.store.base import Store
from spotify_mcp.store.sqlite import SqliteStore

from .pg import postgres_store
from .redis_support import redis_store

StoreFactory = Callable[[Path], Awaitable[Store]]
"""Build an empty, unmigrated store for one test; ``tmp_path`` is that test's private directory."""


async def sqlite_store(tmp_path: Path) -> Store:
    """A SQLite store on a fresh file."""
    return SqliteStore(tmp_path / "store.db")


# To run the contract suite against another backend, append its factory here (with
# ``marks=pytest.mark.skipif(...)`` when it needs a server that may be absent).
STORE_FACTORIES = [
    pytest.param(sqlite_store, id="sqlite"),
    pytest.param(postgres_store, id="postgres"),
    pytest.param(redis_store, id="redis"),
]


@pytest.fixture(params=STORE_FACTORIES)
async def store(request: pytest.FixtureRequest, tmp_path: Path, anyio_backend: str) -> AsyncIterator[Store]:
    """Yield a migrated store of each backend, closing it afterwards."""
    factory: StoreFactory = request.param
    made = await factory(tmp_path)
    try:
        await made.migrate()
        yield made
    finally:
        await made.close()
