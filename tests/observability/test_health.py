"""/healthz says the process is alive; /readyz says whether the store answers at this release's schema."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any, cast

import anyio
import httpx2
import pytest

from spotify_mcp.app import create_app
from spotify_mcp.crypto import KeyRing
from spotify_mcp.observability.health import readiness_problems
from spotify_mcp.store import StoreError
from spotify_mcp.store.base import Store
from spotify_mcp.store.sqlite_schema import CURRENT_VERSION
from tests.support import PUBLIC, Harness, make_settings

pytestmark = pytest.mark.anyio


def _set_schema_version(path: Path, version: int) -> None:
    with sqlite3.connect(path) as db:
        db.execute("DELETE FROM schema_migrations WHERE version > ?", (version,))
        if version > 0:
            db.execute("INSERT OR IGNORE INTO schema_migrations VALUES (?, ?)", (version, time.time()))
    db.close()


async def set_schema_version(h: Harness, version: int) -> None:
    """Rewrite the applied schema version of the harness's SQLite store behind its back."""
    path = Path(h.settings.effective_store_url.removeprefix("sqlite:///"))
    await anyio.to_thread.run_sync(_set_schema_version, path, version)


async def test_healthz_answers_ok_and_is_never_cached(h: Harness) -> None:
    response = await h.http.get(f"{PUBLIC}/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response.headers["cache-control"] == "no-store"


async def test_readyz_is_200_when_the_store_answers_at_the_current_schema(h: Harness) -> None:
    response = await h.http.get(f"{PUBLIC}/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "schema_version": CURRENT_VERSION}
    assert response.headers["cache-control"] == "no-store"
    assert "access-control-allow-origin" not in response.headers


async def test_readyz_is_503_when_the_store_is_closed(h: Harness) -> None:
    await h.app.state.runtime.services.store.close()
    response = await h.http.get(f"{PUBLIC}/readyz")
    assert response.status_code == 503
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["status"] == "not ready"
    assert body["problems"] == ["the store did not answer (StoreError)"]
    assert str(h.settings.data_dir) not in response.text
    assert (await h.http.get(f"{PUBLIC}/healthz")).status_code == 200


async def test_readyz_is_503_when_the_schema_is_newer_than_this_release(h: Harness) -> None:
    await set_schema_version(h, CURRENT_VERSION + 1)
    response = await h.http.get(f"{PUBLIC}/readyz")
    assert response.status_code == 503
    [problem] = response.json()["problems"]
    assert f"schema version {CURRENT_VERSION + 1} is newer than this release's ({CURRENT_VERSION})" in problem
    assert "upgrade spotify-mcp" in problem


async def test_readyz_is_503_when_the_schema_is_older_than_this_release(h: Harness) -> None:
    await set_schema_version(h, CURRENT_VERSION - 1)
    response = await h.http.get(f"{PUBLIC}/readyz")
    assert response.status_code == 503
    assert "older than this release's" in response.json()["problems"][0]


class FailingStore:
    """A store whose ping fails with a message naming a URL with a password."""

    async def ping(self) -> None:
        raise StoreError("could not reach postgresql://spotify:hunter2-password@db.internal:5432/mcp")

    async def schema_version(self) -> int:
        return CURRENT_VERSION


class SilentStore:
    """A store whose ping never answers."""

    async def ping(self) -> None:
        await anyio.Event().wait()

    async def schema_version(self) -> int:
        return CURRENT_VERSION


async def test_a_store_error_is_named_by_kind_never_by_its_message() -> None:
    problems = await readiness_problems(cast(Store, FailingStore()))
    assert problems == ["the store did not answer (StoreError)"]
    assert "hunter2" not in " ".join(problems)


async def test_a_store_that_does_not_answer_in_time_is_not_ready() -> None:
    problems = await readiness_problems(cast(Store, SilentStore()), within=0)
    assert problems == ["the store did not answer within 0 seconds"]


async def test_readyz_before_the_lifespan_says_the_application_is_not_running(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path), keys=KeyRing.ephemeral())
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url=PUBLIC) as http:
        response = await http.get("/readyz")
    assert response.status_code == 503
    body: dict[str, Any] = response.json()
    assert body["problems"] == ["the application is not running"]
