"""Fixtures for the observability tests: a running harness, an MCP client, and captured logs."""

from __future__ import annotations

import io
import json
import logging
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx2
import pytest
from mcp.client import Client
from mcp.client.streamable_http import streamable_http_client
from prometheus_client.parser import text_string_to_metric_families

from spotify_mcp.observability.logs import configure_logging
from tests.support import PUBLIC, Harness

# Loggers whose DEBUG output the tests capture (their levels are restored afterwards).
CAPTURED_LOGGERS = ("", "spotify_mcp", "httpx2", "httpcore", "uvicorn", "uvicorn.error", "uvicorn.access", "mcp")


@asynccontextmanager
async def connect(h: Harness, access_token: str, **client_options: Any) -> AsyncIterator[Client]:
    """An MCP client speaking to the in-process server with ``access_token``."""
    mounts = {PUBLIC: httpx2.ASGITransport(app=h.app)}
    headers = {"Authorization": f"Bearer {access_token}"}
    async with (
        httpx2.AsyncClient(mounts=mounts, headers=headers, **client_options) as http,
        Client(streamable_http_client(f"{PUBLIC}/mcp", http_client=http)) as client,
    ):
        yield client


def samples(exposition: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of a Prometheus exposition, by name and label set."""
    found: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def value(exposition: str, name: str, **labels: str) -> float:
    """One sample's value (0 when absent)."""
    return samples(exposition).get((name, frozenset(labels.items())), 0.0)


@dataclass
class Logs:
    """What the root logger emitted: ``output`` after our handler's filters, ``raw`` before them."""

    stream: io.StringIO
    raw: list[str] = field(default_factory=list)

    @property
    def output(self) -> str:
        """The text our handler wrote."""
        return self.stream.getvalue()

    def records(self) -> list[dict[str, Any]]:
        """The JSON records our handler wrote (JSON format only)."""
        return [json.loads(line) for line in self.output.splitlines()]


class _RawHandler(logging.Handler):
    """Keeps each record's message, arguments and traceback as they were before any filter."""

    def __init__(self, into: list[str]) -> None:
        super().__init__(logging.DEBUG)
        self._into = into

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info:
            text += "\n" + logging.Formatter().formatException(record.exc_info)
        self._into.append(text)


@pytest.fixture
def capture_logs() -> Iterator[Any]:
    """Install the CLI's logging setup at DEBUG on a string stream; restore the root logger afterwards."""
    root = logging.getLogger()
    loggers = [logging.getLogger(name) for name in CAPTURED_LOGGERS]
    # Other tests may have silenced some (uvicorn's access_log=False empties and detaches uvicorn.access).
    saved = [(logger, logger.level, logger.propagate, logger.disabled, list(logger.handlers)) for logger in loggers]

    def install(log_format: str = "json") -> Logs:
        logs = Logs(io.StringIO())
        for logger in loggers[1:]:
            logger.handlers.clear()
            logger.propagate, logger.disabled = True, False
        configure_logging("DEBUG", log_format, stream=logs.stream)
        root.handlers.insert(0, _RawHandler(logs.raw))
        for logger in loggers:
            logger.setLevel(logging.DEBUG)
        return logs

    yield install
    for logger, level, propagate, disabled, handlers in saved:
        logger.setLevel(level)
        logger.propagate, logger.disabled = propagate, disabled
        logger.handlers[:] = handlers


@pytest.fixture
def listeners() -> Iterator[list[socket.socket]]:
    """Two loopback sockets already listening, so clients queue until the servers accept (no polling)."""
    sockets = []
    for _ in range(2):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        sockets.append(sock)
    yield sockets
    for sock in sockets:
        sock.close()


def origin(sock: socket.socket) -> str:
    """The http origin of a listening socket."""
    return f"http://127.0.0.1:{sock.getsockname()[1]}"
