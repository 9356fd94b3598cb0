"""One cluster per backend and module: the emulator in the test loop, replicas ``a`` and ``b``.

The backends are the shared stores a multi-replica deployment can use: PostgreSQL (a fresh schema) and Redis
(a fresh key prefix), each dropped afterwards. As in ``tests/store``: a backend that cannot be reached skips
its tests, unless ``CI`` is set, where it fails them.

``SPOTIFY_MCP_TEST_REPLICAS_SQLITE=1`` adds SQLite (one file shared by the processes on this host, in WAL
mode): not a supported multi-replica deployment, but the experiment docs/benchmarks.md reports on.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Generator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from tests.replicas.cluster import Cluster, cluster_with_emulator
from tests.store import pg, redis_support

BACKENDS = ["postgres", "redis"] + (["sqlite"] if os.environ.get("SPOTIFY_MCP_TEST_REPLICAS_SQLITE") else [])
REPLICAS = ("a", "b")


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    """One event loop per module, so the module-scoped cluster (and its in-loop emulator) can live in it."""
    return "asyncio"


@asynccontextmanager
async def shared_store(backend: str, workdir: Path) -> AsyncIterator[str]:
    """A store URL on a fresh schema or prefix of the test server (or a new SQLite file), cleaned up afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{workdir / 'shared.db'}"
    elif backend == "postgres":
        await pg.require_postgres()
        schema = pg.fresh_schema()
        try:
            yield pg.schema_url(schema)
        finally:
            await pg.drop_schema(schema)
    else:
        await redis_support.require_redis()
        prefix = redis_support.unique_prefix()
        try:
            yield redis_support.store_url(prefix)
        finally:
            await redis_support.delete_prefix(prefix)


@pytest.fixture(scope="module", params=BACKENDS)
async def shared_cluster(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Cluster]:
    """Two replicas of ``spotify-mcp serve`` on one shared store, one public URL and one secret key."""
    backend: str = request.param
    workdir = tmp_path_factory.mktemp(f"replicas-{backend}")
    async with (
        shared_store(backend, workdir) as store_url,
        cluster_with_emulator(backend, store_url, workdir, REPLICAS) as running,
    ):
        yield running


@pytest.fixture
async def cluster(shared_cluster: Cluster) -> Cluster:
    """The module's cluster, with any replica an earlier test killed started again (on the same port)."""
    await shared_cluster.revive()
    return shared_cluster


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """On a failure, attach what every replica wrote (their logs are files, not captured output)."""
    report = yield
    cluster = getattr(item, "funcargs", {}).get("cluster")
    if report.failed and isinstance(cluster, Cluster):
        for replica in cluster.replicas.values():
            report.sections.append((f"replica {replica.name} ({cluster.backend}) log", replica.describe()))
    return report
