"""Personal access tokens need no schema of their own: their whole life works on SQLite, PostgreSQL and Redis alike
(skipped locally when a server is absent, required in CI, as the store contract suite does)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from spotify_mcp.clock import ManualClock
from spotify_mcp.oauth.clients import is_pat_client_id
from spotify_mcp.store.sweeper import sweep_once
from tests.account.conftest import ACCOUNT, create_token, form, mcp_status, post, services, sign_in
from tests.store.pg import schema_url, scratch_schema
from tests.store.redis_support import delete_prefix, require_redis, store_url, unique_prefix
from tests.support import Harness, harness

pytestmark = pytest.mark.anyio

TOKEN = re.compile(r"<pre id=token>(smcp_pat_[A-Za-z0-9_-]{43})</pre>")


@asynccontextmanager
async def running(backend: str, tmp_path: Path, clock: ManualClock) -> AsyncIterator[Harness]:
    """The server on a fresh store of ``backend``, removed afterwards."""
    if backend == "sqlite":
        async with harness(tmp_path, clock=clock) as h:
            yield h
    elif backend == "postgres":
        async with scratch_schema() as schema, harness(tmp_path, clock=clock, store_url=schema_url(schema)) as h:
            yield h
    else:
        await require_redis()
        prefix = unique_prefix()
        try:
            async with harness(tmp_path, clock=clock, store_url=store_url(prefix)) as h:
                yield h
        finally:
            await delete_prefix(prefix)


async def issue(h: Harness, days: str) -> str:
    """Create a token on the account page; return it."""
    response = await create_token(h.http, (await h.http.get(ACCOUNT)).text, f"token {days}", ["user-top-read"], days)
    found = TOKEN.search(response.text)
    assert found is not None, response.text
    return found.group(1)


async def token_clients(h: Harness) -> list[str]:
    """The ids of the personal access tokens' clients still stored."""
    return [c.client_id for c in await services(h).store.list_clients() if is_pat_client_id(c.client_id)]


@pytest.mark.parametrize("backend", ["sqlite", "postgres", "redis"])
async def test_a_token_lives_and_ends_on_every_store(backend: str, tmp_path: Path, clock: ManualClock) -> None:
    async with running(backend, tmp_path, clock) as h:
        await h.tokens((await h.register(client_name="Claude"))["client_id"])
        await sign_in(h)
        revoked, expiring, kept = await issue(h, "30"), await issue(h, "7"), await issue(h, "365")
        for token in (revoked, expiring, kept):
            assert await mcp_status(h, token) == 200
        page = (await h.http.get(ACCOUNT)).text
        assert (await post(h.http, "revoke", form(page, "revoke", "Revoke token 30").fields)).status_code == 303
        assert await mcp_status(h, revoked) == 401
        clock.advance(7 * 86400)
        assert await mcp_status(h, expiring) == 401
        assert await mcp_status(h, kept) == 200
        await sweep_once(services(h).store, clock, unused_client_ttl=86400)
        assert len(await token_clients(h)) == 1
        assert await mcp_status(h, kept) == 200
        await sign_in(h)
        page = (await h.http.get(ACCOUNT)).text
        assert (await post(h.http, "delete", {**form(page, "delete").fields, "confirm": "yes"})).status_code == 200
        assert await mcp_status(h, kept) == 401
        assert await token_clients(h) == []
