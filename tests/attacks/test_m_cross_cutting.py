"""Catalogue group M: cross-cutting headers, leakage, storage, comparisons, entropy and abuse.

Covered elsewhere:

* M3 (no token, code, verifier or secret in the logs of a whole flow): the observability suite,
  ``tests/observability/test_logs.py::test_no_token_code_or_secret_of_a_whole_flow_reaches_the_logs``.
* M5 (a copy of the database holds no usable token, code or secret):
  ``tests/flow/test_tokens.py::test_a_database_copy_contains_no_plaintext_token``.
* M7 (guessing codes or refresh tokens is cut off): per-address rate limits on every OAuth endpoint,
  ``tests/ratelimit/test_endpoints.py``. Policy: the limit counts every request of the group, not only
  failures (``token=120/60`` by default); the secrets carry 256 bits (M8), so the limit guards the store's
  capacity more than the secrets.
* M10 (every authorization response carries ``iss``, and the metadata says so): ``test_a_discovery.py`` (A5),
  ``test_c_authorize.py`` (C12) and ``tests/flow/test_authorization_flow.py``.

Policies:

* M1: HTML pages send ``Referrer-Policy: same-origin`` (which sends nothing to any other origin) rather than
  ``no-referrer``, because ``no-referrer`` makes browsers send ``Origin: null`` on our own form posts and the
  consent endpoint's same-origin check would refuse them (``web/responses.py``). Redirects and JSON say
  ``no-referrer``.
* M2: an unexpected exception is Starlette's generic ``500 Internal Server Error`` (plain text, debug off);
  a store failure is not unexpected: it is 503 (R4 in ``test_r_faults.py``).
* M6: a static rule over ``src/`` (the Spotify emulator excluded: it is the fake Spotify of the tests and the
  demo, holding only fixed test credentials) rather than a timing measurement.
"""

from __future__ import annotations

import ast
import base64
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest

import spotify_mcp
from spotify_mcp.clock import ManualClock
from spotify_mcp.crypto import new_pkce_verifier, new_secret
from spotify_mcp.oauth.registration import CLIENT_SECRET_PREFIX
from spotify_mcp.oauth.tokens import ACCESS_PREFIX, CODE_PREFIX, REFRESH_PREFIX, TokenService
from spotify_mcp.store.records import GrantRecord
from tests.attacks.support_gm import MCP, MCP_HEADERS, REVOKE, RPC, TOKEN, StoreFaults, serve, tokens_for
from tests.support import CLIENT_REDIRECT, PUBLIC, Harness, pkce

pytestmark = pytest.mark.anyio

SRC = Path(spotify_mcp.__file__).parent
SECRET_NAME = re.compile(
    r"hash|secret|verifier|csrf|token|mac|signature|digest|binding|password|challenge|nonce|tag|cookie", re.I
)


@pytest.fixture
def clock() -> ManualClock:
    """A clock the test moves by hand."""
    return ManualClock()


@pytest.fixture
async def h(tmp_path: Path, clock: ManualClock) -> AsyncIterator[Harness]:
    """A running server wired to the emulator."""
    async with serve(tmp_path, clock=clock) as running:
        yield running


def authorize_url(client_id: str, **extra: str) -> str:
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": CLIENT_REDIRECT,
        "code_challenge": pkce()[1],
        "code_challenge_method": "S256",
        "state": "s",
        **extra,
    }
    return str(httpx2.URL(f"{PUBLIC}/authorize", params=params))


# -- M1 ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("public_url", [PUBLIC, "https://mcp.example"])
async def test_m01_every_html_page_is_unframeable_unsniffable_and_uncached(
    tmp_path: Path, clock: ManualClock, public_url: str
) -> None:
    async with serve(tmp_path, clock=clock, public_url=public_url) as h:
        client = await h.register()
        consent = await h.http.get(authorize_url(client["client_id"]))
        assert consent.status_code == 302
        pages = {
            "home": await h.http.get(f"{PUBLIC}/"),
            "authorize error": await h.http.get(authorize_url("smcp_client_unknown")),
            "consent": await h.http.get(PUBLIC + "/consent?" + urlsplit(consent.headers["location"]).query),
            "consent error": await h.http.get(f"{PUBLIC}/consent?request=unknown"),
            "callback error": await h.http.get(f"{PUBLIC}/callback?state=forged&code=x"),
        }
        for name, page in pages.items():
            assert page.headers["content-type"].startswith("text/html"), name
            assert page.headers["x-frame-options"] == "DENY", name
            assert "frame-ancestors 'none'" in page.headers["content-security-policy"], name
            assert page.headers["x-content-type-options"] == "nosniff", name
            assert page.headers["referrer-policy"] in ("no-referrer", "same-origin"), name
            assert page.headers["cache-control"] == "no-store", name
            hsts = page.headers.get("strict-transport-security")
            assert (hsts is not None and "max-age=" in hsts) is public_url.startswith("https://"), name
        assert pages["consent"].status_code == 200


# -- M2 ----------------------------------------------------------------------------------------------------
async def test_m02_an_internal_exception_is_a_generic_500_that_reveals_nothing(
    tmp_path: Path, clock: ManualClock
) -> None:
    faults = StoreFaults()
    async with serve(tmp_path, clock=clock, faults=faults, raise_app_exceptions=False) as h:
        client_id, tokens = await tokens_for(h)
        boom = RuntimeError(
            'no such column: token_hash in "SELECT * FROM tokens WHERE token_hash = ?" at /var/lib/spotify-mcp/x.db'
        )
        requests = {
            "get_token": [
                lambda: h.http.post(
                    TOKEN,
                    data={
                        "grant_type": "refresh_token",
                        "refresh_token": tokens["refresh_token"],
                        "client_id": client_id,
                    },
                ),
                lambda: h.http.post(REVOKE, data={"token": tokens["access_token"], "client_id": client_id}),
                lambda: h.http.post(
                    MCP, json=RPC, headers={**MCP_HEADERS, "Authorization": f"Bearer {tokens['access_token']}"}
                ),
            ],
            "add_client": [
                lambda: h.http.post(
                    f"{PUBLIC}/register",
                    json={"redirect_uris": [CLIENT_REDIRECT], "token_endpoint_auth_method": "none"},
                )
            ],
            "get_client": [lambda: h.http.get(authorize_url(client_id))],
        }
        for operation, calls in requests.items():
            for call in calls:
                faults.fail(operation, error=boom)
                response = await call()
                assert response.status_code == 500, (operation, response.text)
                for leak in ("Traceback", "RuntimeError", "SELECT", "token_hash", "/var/lib", "x.db", 'File "'):
                    assert leak not in response.text, (operation, response.text)
                    assert all(leak not in value for value in response.headers.values())


# -- M4 ----------------------------------------------------------------------------------------------------
EVIL_STATE = '"><script>alert(1)</script>\r\nSet-Cookie: pwned=1 %0d%0a&iss=https://evil.example'


async def test_m04_a_hostile_state_only_ever_travels_url_encoded(h: Harness) -> None:
    client = await h.register()
    # An error redirect...
    refused = await h.http.get(authorize_url(client["client_id"], response_type="token", state=EVIL_STATE))
    # ...and a successful one, through every page of the flow.
    consent = await h.http.get(
        PUBLIC
        + "/consent?"
        + urlsplit((await h.http.get(authorize_url(client["client_id"], state=EVIL_STATE))).headers["location"]).query
    )
    assert "<script>alert" not in consent.text
    query, _ = await h.authorize(client["client_id"], state=EVIL_STATE)
    assert query["state"] == [EVIL_STATE]
    assert query["iss"] == [PUBLIC]
    location = refused.headers["location"]
    for raw in ("\r", "\n", " ", "<", '"'):
        assert raw not in location
    error_query = parse_qs(urlsplit(location).query)
    assert error_query["state"] == [EVIL_STATE]
    assert error_query["iss"] == [PUBLIC]
    assert "pwned" not in (refused.headers.get("set-cookie") or "")


# -- M6 ----------------------------------------------------------------------------------------------------
def _terminal_name(node: ast.expr) -> str | None:
    """The name a comparison operand is known by: ``x``, ``a.b.x``, ``f(...)`` → ``f``, ``d["x"]``, ``await x``."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Call):
        return _terminal_name(node.func)
    if isinstance(node, ast.Await):
        return _terminal_name(node.value)
    if isinstance(node, ast.Subscript):
        key = node.slice
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            return key.value
        return _terminal_name(node.value)
    return None


def _is_literal(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant):
        return True
    return isinstance(node, ast.Tuple | ast.List | ast.Set) and all(_is_literal(e) for e in node.elts)


def secret_comparisons(source: str) -> Iterator[tuple[int, str]]:
    """``==``/``!=`` between two runtime values where either is named like a secret (a literal is public)."""
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Compare):
            continue
        operands = [node.left, *node.comparators]
        for op, left, right in zip(node.ops, operands, operands[1:], strict=False):
            if not isinstance(op, ast.Eq | ast.NotEq) or _is_literal(left) or _is_literal(right):
                continue
            names = [n for n in (_terminal_name(left), _terminal_name(right)) if n]
            if any(SECRET_NAME.search(n) for n in names):
                yield node.lineno, ast.unparse(node)


def test_m06_the_static_rule_finds_what_it_should_and_nothing_else() -> None:
    flagged = [
        "ok = hash_secret(presented) == record.secret_hash",
        "if state != cookie_value: pass",
        "if body['code_verifier'] != expected: pass",
        "if await load_token(x) == given: pass",
        "if a.csrf == b: pass",
    ]
    ignored = [
        "if token_type.lower() != 'bearer': pass",
        "if record.kind is not TokenKind.REFRESH: pass",
        "if len(token) > 200: pass",
        "if record.client_id != client.client_id: pass",
        "if hmac.compare_digest(a.secret_hash, b): pass",
        "if tokens.refresh_token is None: pass",
        "if request.method == 'POST': pass",
    ]
    for source in flagged:
        assert list(secret_comparisons(source)), source
    for source in ignored:
        assert not list(secret_comparisons(source)), source


def test_m06_secrets_are_compared_in_constant_time_everywhere_in_src() -> None:
    findings = [
        f"{path.relative_to(SRC)}:{line}: {code}"
        for path in sorted(SRC.rglob("*.py"))
        if "emulator" not in path.relative_to(SRC).parts
        for line, code in secret_comparisons(path.read_text(encoding="utf-8"))
    ]
    assert not findings, "use hmac.compare_digest (crypto.secrets_equal) for these:\n" + "\n".join(findings)
    # The rule does see the emulator's plain comparisons, so it is not blind.
    emulator = [f for p in (SRC / "emulator").rglob("*.py") for f in secret_comparisons(p.read_text(encoding="utf-8"))]
    assert emulator


# -- M8 ----------------------------------------------------------------------------------------------------
def _random_bytes(secret: str, prefix: str) -> bytes:
    assert secret.startswith(prefix)
    body = secret.removeprefix(prefix)
    assert re.fullmatch(r"[A-Za-z0-9_-]+", body), secret
    return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))


def test_m08_ten_thousand_of_each_secret_are_unique_and_carry_at_least_128_bits() -> None:
    n = 10_000
    clock = ManualClock()
    service = TokenService(None, clock, resource=MCP, access_ttl=3600, refresh_ttl=86400)  # type: ignore[arg-type]
    grant = GrantRecord(
        grant_id="g", client_id="c", user_id="u", scopes=("user-read-private",), resource=MCP, created_at=clock.now()
    )
    pairs = [service.issue(grant) for _ in range(n)]
    kinds = {
        ACCESS_PREFIX: [p.access_token for p in pairs],
        REFRESH_PREFIX: [p.refresh_token for p in pairs],
        CODE_PREFIX: [new_secret(CODE_PREFIX) for _ in range(n)],
        CLIENT_SECRET_PREFIX: [new_secret(CLIENT_SECRET_PREFIX) for _ in range(n)],
        "": [new_pkce_verifier() for _ in range(n)],
    }
    everything: set[str] = set()
    ones = bits = 0
    for prefix, values in kinds.items():
        assert len(set(values)) == n, prefix
        everything.update(values)
        for value in values:
            raw = _random_bytes(value, prefix)
            assert len(raw) * 8 >= 128, value
            ones += sum(bin(b).count("1") for b in raw)
            bits += len(raw) * 8
    assert len(everything) == n * len(kinds)
    # A coarse sanity check that the bytes are not biased (millions of bits: a fair source is within ±0.2%).
    assert 0.49 < ones / bits < 0.51
    # And the stored form of a token is its SHA-256 hash, not the token.
    assert all(len(r.token_hash) == 64 for r in pairs[0].records)


# -- M9 ----------------------------------------------------------------------------------------------------
async def test_m09_oversized_bodies_and_urls_are_refused_never_a_500(h: Harness) -> None:
    client_id, tokens = await tokens_for(h)
    big = 70 * 1024
    form = {"Content-Type": "application/x-www-form-urlencoded"}

    async def chunked() -> AsyncIterator[bytes]:
        for _ in range(big // 1024):
            yield b"a" * 1024

    answers = {
        "token": await h.http.post(TOKEN, content=b"code=" + b"a" * big, headers=form),
        "token chunked": await h.http.post(TOKEN, content=chunked(), headers=form),
        "token declared": await h.http.post(TOKEN, content=b"x=1", headers={**form, "Content-Length": str(10**9)}),
        "revoke": await h.http.post(REVOKE, content=b"token=" + b"a" * big, headers=form),
        "register": await h.http.post(
            f"{PUBLIC}/register",
            content=b'{"client_name": "' + b"a" * big + b'"}',
            headers={"Content-Type": "application/json"},
        ),
        "register chunked": await h.http.post(
            f"{PUBLIC}/register", content=chunked(), headers={"Content-Type": "application/json"}
        ),
        "authorize query": await h.http.get(authorize_url(client_id, state="s" * 60_000)),
        "authorize form": await h.http.post(f"{PUBLIC}/authorize", content=b"state=" + b"a" * big, headers=form),
        "consent form": await h.http.post(
            f"{PUBLIC}/consent", content=b"request=" + b"a" * big, headers={**form, "Origin": PUBLIC}
        ),
        "callback query": await h.http.get(f"{PUBLIC}/callback", params={"state": "s" * 60_000, "code": "c"}),
        "mcp bearer": await h.http.post(MCP, json=RPC, headers={**MCP_HEADERS, "Authorization": "Bearer " + "a" * big}),
        "mcp body": await h.http.post(
            MCP,
            content=b'{"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {"x": "'
            + b"a" * 5 * 1024 * 1024
            + b'"}}',
            headers={**MCP_HEADERS, "Authorization": f"Bearer {tokens['access_token']}"},
        ),
    }
    for name, response in answers.items():
        assert response.status_code in (400, 401, 406, 413, 414), (name, response.status_code, response.text[:200])
    for name in ("token", "token chunked", "token declared", "revoke", "register", "register chunked"):
        assert answers[name].status_code == 413, name
    # The server is still fine afterwards.
    assert (
        await h.http.post(
            TOKEN,
            data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], "client_id": client_id},
        )
    ).status_code == 200
