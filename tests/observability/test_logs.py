"""Logs: text or JSON lines, and no token, code or secret of a whole flow in any record that reaches output."""

from __future__ import annotations

import base64
import io
import json
import logging
import random
import socket
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import anyio
import httpx2
import pytest

from spotify_mcp.app import create_app
from spotify_mcp.cli import build_servers, run_servers
from spotify_mcp.crypto import KeyRing
from spotify_mcp.observability.logs import REDACTED, configure_logging, redact, scrub
from spotify_mcp.observability.request_id import bound_request_id
from tests.observability.conftest import CAPTURED_LOGGERS, Logs, connect, origin
from tests.support import CLIENT_REDIRECT, PUBLIC, SPOTIFY_CLIENT_SECRET, Harness, make_settings

pytestmark = pytest.mark.anyio
log = logging.getLogger("spotify_mcp.tests.careless")


def test_json_lines_carry_time_level_logger_message_request_id_and_extra_fields(capture_logs: Any) -> None:
    logs: Logs = capture_logs("json")
    with bound_request_id("req-42"):
        log.warning("hello %s", "world", extra={"user": "premium-user", "attempt": 2})
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        log.exception("failed\non two lines")
    lines = [line for line in logs.output.splitlines() if "tests.careless" in line]
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert first["time"].endswith("Z")
    assert first["time"][:4].isdigit()
    assert first["level"] == "WARNING"
    assert first["logger"] == "spotify_mcp.tests.careless"
    assert first["message"] == "hello world"
    assert first["request_id"] == "req-42"
    assert (first["user"], first["attempt"]) == ("premium-user", 2)
    assert second["message"] == "failed\non two lines"
    assert second["request_id"] is None
    assert "RuntimeError: boom" in second["exception"]


def test_text_lines_name_the_request_or_a_dash(capture_logs: Any) -> None:
    logs: Logs = capture_logs("text")
    with bound_request_id("req-42"):
        log.info("inside")
    log.info("outside")
    lines = [line for line in logs.output.splitlines() if "tests.careless" in line]
    assert lines[0].endswith(" INFO spotify_mcp.tests.careless [req-42]: inside")
    assert lines[1].endswith(" INFO spotify_mcp.tests.careless [-]: outside")


def test_configuring_twice_replaces_the_handler_and_unknown_formats_are_refused(capture_logs: Any) -> None:
    capture_logs("json")
    configure_logging("INFO", "text", stream=None)
    ours = [h for h in logging.getLogger().handlers if type(h).__name__ == "_Handler"]
    assert len(ours) == 1
    with pytest.raises(ValueError, match="text, json"):
        configure_logging("INFO", "xml")


def test_the_log_format_setting_is_text_or_json(tmp_path: Path) -> None:
    assert make_settings(tmp_path).log_format == "text"
    assert make_settings(tmp_path, log_format="JSON").log_format == "json"
    with pytest.raises(ValueError, match="log_format"):
        make_settings(tmp_path, log_format="xml")


SPOTIFY_TOKEN = "BQD" + "x7Yz1" * 30


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("issued smcp_at_Zm9vYmFyYmF6cXV4", "Zm9vYmFyYmF6cXV4"),
        ("issued smcp_rt_Zm9v-YmFy_YmF6", "Zm9v-YmFy_YmF6"),
        ("code smcp_ac_abc123", "abc123"),
        ("secret smcp_cs_s3cr3t", "s3cr3t"),
        ("personal token smcp_pat_p4t53cr3t", "p4t53cr3t"),
        ("Cookie: smcp_account=s3ss10n.sig; smcp_account_csrf=n0nc3", "s3ss10n"),
        ("Cookie: smcp_account=s3ss10n.sig; smcp_account_csrf=n0nc3", "n0nc3"),
        ("Cookie: smcp_browser=br0ws3r", "br0ws3r"),
        ("Authorization: Bearer abc.def-ghi", "abc.def-ghi"),
        ("authorization: basic dXNlcjpwYXNz", "dXNlcjpwYXNz"),
        ("GET /callback?code=AQ-short&state=xyz123 HTTP/1.1", "AQ-short"),
        ("GET /callback?code=AQ-short&state=xyz123 HTTP/1.1", "xyz123"),
        ("grant_type=authorization_code&code_verifier=v3r1f13r&client_id=c", "v3r1f13r"),
        ("client_secret=hunter2&refresh_token=rt1", "hunter2"),
        ("client_secret=hunter2&refresh_token=rt1", "rt1"),
        ("#access_token=at1&token_type=Bearer", "at1"),
        ('{"access_token": "at2", "token_type": "Bearer"}', "at2"),
        ("{'refresh_token': 'rt2', 'scope': 's'}", "rt2"),
        ("Cookie: smcp_csrf=n0nc3; smcp_bind_0a1b2c=b1nd", "n0nc3"),
        ("Cookie: smcp_csrf=n0nc3; smcp_bind_0a1b2c=b1nd", "b1nd"),
        ("could not reach postgresql://spotify:hunter2-pw@db:5432/mcp", "hunter2-pw"),
        (f"Spotify token {SPOTIFY_TOKEN} expired", SPOTIFY_TOKEN),
        ("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl", "eyJzdWIiOiIxIn0"),
    ],
)
def test_secrets_are_scrubbed_from_text(text: str, secret: str) -> None:
    scrubbed = redact(text)
    assert secret not in scrubbed
    assert REDACTED in scrubbed


@pytest.mark.parametrize(
    "text",
    [
        "Spotify GET /playlists/3cEYpjA9oz9GiPac4AsH4n/items -> 200 in 0.012s",
        "authorization completed for client smcp_client_L9Arn5i5URNCXsPcIj5e8sID",
        "personal access token client smcp_patc_L9Arn5i5URNCXsPcIj5e8sIDxyzw revoked",
        'HTTP Request: GET http://127.0.0.1:9000/v1/me "HTTP/1.1 200 OK"',
        "test_a_very_long_but_harmless_identifier_made_of_words_only",
    ],
)
def test_ordinary_messages_are_left_alone(text: str) -> None:
    assert redact(text) == text


FRAGMENTS = (
    "smcp_at_",
    "smcp_pat_",
    "smcp_csrf",
    "smcp_bind_0a",
    "Bearer ",
    "BASIC ",
    "bearer",
    "code",
    "state",
    "token",
    "=",
    "&",
    "?",
    ":",
    "://",
    "@",
    '"',
    "'",
    " ",
    "/",
    ".",
    "-",
    "_",
    "eyJ",
    "eyJhbGciOiJIUzI1NiJ9.",
    "BQD",
    "x7Yz1" * 7,
    "abcdefgh" * 4,
    "AbC9-" * 7,
    "postgresql",
    "http",
    "GET /mcp HTTP/1.1",
    "200",
    "127.0.0.1:5432",
)


def test_the_quick_check_never_skips_a_text_the_patterns_would_change() -> None:
    # The pre-check in ``redact`` may only skip texts that ``scrub`` leaves as they are. Seeded, so repeatable.
    generator = random.Random(20261126)
    texts = ["".join(generator.choice(FRAGMENTS) for _ in range(generator.randint(1, 12))) for _ in range(20_000)]
    changed = [text for text in texts if scrub(text) != text]
    assert len(changed) > 5_000  # the corpus exercises the patterns, not only harmless text
    assert [text for text in texts if redact(text) != scrub(text)] == []


def test_access_lines_are_left_alone_unless_they_carry_a_secret() -> None:
    line = '127.0.0.1:54321 - "POST /mcp HTTP/1.1" 200'
    assert redact(line) == line
    assert redact('127.0.0.1:54321 - "GET /callback?code=AQ-x HTTP/1.1" 400') == (
        '127.0.0.1:54321 - "GET /callback?code=[REDACTED] HTTP/1.1" 400'
    )


def test_arguments_extra_fields_and_tracebacks_are_scrubbed(capture_logs: Any) -> None:
    logs: Logs = capture_logs("json")
    log.info("token %s", {"access_token": "smcp_at_leak1"}, extra={"header": "Bearer leak2"})
    try:
        raise ValueError("refresh_token=leak3 was refused")
    except ValueError:
        log.exception("refresh failed for smcp_rt_leak4")
    assert all(leak in " ".join(logs.raw) for leak in ("smcp_at_leak1", "leak3", "smcp_rt_leak4"))
    assert not any(leak in logs.output for leak in ("leak1", "leak2", "leak3", "leak4"))


def _values(url: str) -> list[str]:
    return [v for k, v in parse_qsl(urlsplit(url).query) if k in ("code", "state", "code_verifier", "request")]


async def test_no_token_code_or_secret_of_a_whole_flow_reaches_the_logs(h: Harness, capture_logs: Any) -> None:
    logs: Logs = capture_logs("json")
    seen: list[str] = []

    async def note(response: httpx2.Response) -> None:
        # Every code, state and cookie value that crossed the browser during the flow.
        seen.extend(_values(str(response.request.url)))
        seen.extend(_values(response.headers.get("location", "")))
        seen.extend(cookie.split(";")[0].split("=", 1)[1] for cookie in response.headers.get_list("set-cookie"))
        if response.request.method == "POST" and response.request.content:
            seen.extend(v for k, v in parse_qsl(response.request.content.decode()) if k == "csrf")

    h.http.event_hooks["response"].append(note)
    client = await h.register(token_endpoint_auth_method="client_secret_post")
    secret_form = {"client_id": client["client_id"], "client_secret": client["client_secret"]}
    query, verifier = await h.authorize(client["client_id"])
    form = {
        "grant_type": "authorization_code",
        "code": query["code"][0],
        "redirect_uri": CLIENT_REDIRECT,
        "code_verifier": verifier,
        **secret_form,
    }
    issued = (await h.http.post(f"{PUBLIC}/token", data=form)).json()
    refresh = {"grant_type": "refresh_token", "refresh_token": issued["refresh_token"], **secret_form}
    refreshed = (await h.http.post(f"{PUBLIC}/token", data=refresh)).json()
    basic = base64.b64encode(f"{client['client_id']}:{client['client_secret']}".encode()).decode()
    async with connect(h, refreshed["access_token"]) as mcp:
        assert not (await mcp.call_tool("getCurrentUserProfile", {})).is_error
    # Careless lines a future change might add: the filter must catch them too.
    log.debug("token response %s for form %r", issued, form)
    log.debug("headers %s", {"Authorization": f"Bearer {refreshed['access_token']}", "X-Basic": f"Basic {basic}"})
    log.debug("spotify tokens %s", [*h.world.access_tokens, *h.world.refresh_tokens, *h.world.codes])

    secrets = {
        client["client_secret"],
        query["code"][0],
        verifier,
        issued["access_token"],
        issued["refresh_token"],
        refreshed["access_token"],
        refreshed["refresh_token"],
        basic,
        SPOTIFY_CLIENT_SECRET,
        *h.world.access_tokens,
        *h.world.refresh_tokens,
        *h.world.codes,
        # The client's own state is its value, not ours: it is scrubbed from URLs but may appear elsewhere.
        *(value for value in seen if len(value) >= 16 and value != "client-state-123"),
    }
    assert len(secrets) >= 15
    raw = "\n".join(logs.raw)
    leaked_before = {s for s in secrets if s in raw}
    # The test would prove nothing if nothing secret were ever logged: the browser's URLs and the lines above are.
    assert len(leaked_before) >= 10
    assert [s for s in secrets if s in logs.output] == []
    loggers = {record["logger"].split(".")[0] for record in logs.records()}
    assert {"spotify_mcp", "httpx2", "mcp"} <= loggers


async def test_uvicorn_access_logs_are_scrubbed_and_carry_the_request_id(
    tmp_path: Path, listeners: list[socket.socket], capture_logs: Any
) -> None:
    logs: Logs = capture_logs("json")
    settings = make_settings(tmp_path)
    [server] = build_servers(create_app(settings, keys=KeyRing.ephemeral()), settings, "127.0.0.1", 8000)
    main = origin(listeners[0])
    code, state, token = "AQ" + "Zq9" * 30, "St4te" * 8, "smcp_at_" + "Tk3n" * 10

    with anyio.fail_after(30):
        async with anyio.create_task_group() as group, httpx2.AsyncClient() as http:
            group.start_soon(run_servers, [server], [[listeners[0]]])
            callback = await http.get(f"{main}/callback", params={"code": code, "state": state})
            probe = await http.get(
                f"{main}/healthz", params={"access_token": token}, headers={"X-Request-Id": "probe-1"}
            )
            server.should_exit = True
    assert callback.status_code == 400
    assert probe.status_code == 200
    raw = "\n".join(logs.raw)
    assert code in raw
    assert state in raw
    assert token in raw
    assert code not in logs.output
    assert state not in logs.output
    assert token not in logs.output
    access = [r for r in logs.records() if r["logger"] == "uvicorn.access"]
    assert any("/callback?code=[REDACTED]&state=[REDACTED]" in r["message"] for r in access)
    [probe_line] = [r for r in access if "/healthz" in r["message"]]
    assert probe_line["request_id"] == "probe-1"
    assert "color_message" not in probe_line


def test_a_plain_handler_installed_before_ours_is_removed_so_nothing_prints_unredacted(capture_logs: Any) -> None:
    plain_stream = io.StringIO()
    plain = logging.StreamHandler(plain_stream)
    logging.getLogger().addHandler(plain)  # what the MCP SDK's MCPServer installs through logging.basicConfig
    logs: Logs = capture_logs("text")
    logging.getLogger("spotify_mcp.test").warning("token smcp_at_%s", "Zz9" * 12)
    assert plain not in logging.getLogger().handlers
    assert plain_stream.getvalue() == ""
    assert "Zz9" * 12 not in logs.output


async def test_serve_at_warning_level_writes_no_access_or_startup_lines(
    tmp_path: Path, listeners: list[socket.socket], capture_logs: Any
) -> None:
    logs: Logs = capture_logs("json")
    for name in CAPTURED_LOGGERS:  # as configure_logging("WARNING") leaves them: the root's level decides
        logging.getLogger(name).setLevel(logging.NOTSET)
    logging.getLogger().setLevel(logging.WARNING)
    settings = make_settings(tmp_path, log_level="WARNING")
    [server] = build_servers(create_app(settings, keys=KeyRing.ephemeral()), settings, "127.0.0.1", 8000)
    with anyio.fail_after(30):
        async with anyio.create_task_group() as group, httpx2.AsyncClient() as http:
            group.start_soon(run_servers, [server], [[listeners[0]]])
            probe = await http.get(f"{origin(listeners[0])}/healthz")
            logging.getLogger("spotify_mcp.test").warning("a warning still gets through")
            server.should_exit = True
    assert probe.status_code == 200
    assert [(r["logger"], r["level"]) for r in logs.records()] == [("spotify_mcp.test", "WARNING")]
