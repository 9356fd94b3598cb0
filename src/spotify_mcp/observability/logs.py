"""Logging: text or JSON lines, the request id on every record, and secrets scrubbed before output.

``configure_logging`` installs one handler on the root logger (uvicorn's loggers propagate to it when it
is started with ``log_config=None``); its filters stamp the request id and redact our tokens, codes,
client secrets, bearer/basic credentials, OAuth parameters in URLs and forms, cookie values, URL
passwords and anything shaped like a Spotify token, in messages, their arguments, extra fields and tracebacks.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import IO, Any

from spotify_mcp.observability.request_id import current_request_id

REDACTED = "[REDACTED]"
LOG_FORMATS = ("text", "json")
_TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"

_SECRET_PARAMS = (
    "code|state|code_verifier|client_secret|refresh_token|access_token|id_token|csrf|password|token|binding"
)
_SUBSTITUTIONS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Our own opaque tokens, codes and client secrets: keep the prefix, drop the secret.
    (re.compile(r"\b(smcp_(?:at|rt|ac|cs|pat)_)[A-Za-z0-9_-]+"), rf"\1{REDACTED}"),
    # Credentials in Authorization headers.
    (re.compile(r"(?i)\b(bearer|basic)(\s+)[A-Za-z0-9._~+/=-]+"), rf"\1\2{REDACTED}"),
    # name=value in URLs, forms and cookies.
    (re.compile(rf"(?i)(?<![A-Za-z0-9_])({_SECRET_PARAMS})=[^&\s\"';,]+"), rf"\1={REDACTED}"),
    (re.compile(r"\b(smcp_(?:csrf|browser|account|account_csrf|bind_[0-9a-f]+))=[^;\s&\"',]+"), rf"\1={REDACTED}"),
    # "name": "value" and 'name': 'value' in JSON and reprs.
    (
        re.compile(rf"(?i)([\"'])({_SECRET_PARAMS})\1(\s*:\s*)([\"'])[^\"']*\4"),
        rf"\1\2\1\3\4{REDACTED}\4",
    ),
    # user:password@ in URLs.
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^/\s:@]*):[^@\s/]+@"), rf"\1:{REDACTED}@"),
    # JWTs.
    (re.compile(r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), REDACTED),
)
# Long random-looking runs (Spotify's BQ…/AQ… tokens and codes, URL-safe secrets and handles of 192 bits and more).
_LONG_RUN = re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{32,}(?![A-Za-z0-9_-])")
_PUBLIC_PREFIXES = ("smcp_client_", "smcp_patc_")  # client ids (registered, or a token's) are public identifiers
_STANDARD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "request_id",
    "color_message",
}


# A text that none of the patterns above can match lacks all of these (each is part of every match of one
# pattern), and most log lines, access lines among them, lack them all: one scan instead of eight.
_MAYBE_SECRET = re.compile(r"(?i)smcp_|bearer|basic|=|[\"']\s*:|://|eyJ|[A-Za-z0-9_-]{32}")


def redact(text: str) -> str:
    """Scrub every secret this module recognises from ``text``."""
    return text if _MAYBE_SECRET.search(text) is None else scrub(text)


def scrub(text: str) -> str:
    """Apply every redaction pattern to ``text`` (``redact`` skips this when no pattern can match)."""
    for pattern, replacement in _SUBSTITUTIONS:
        text = pattern.sub(replacement, text)
    return _LONG_RUN.sub(_redact_random, text)


def _redact_random(match: re.Match[str]) -> str:
    run = match.group(0)
    if run.startswith(_PUBLIC_PREFIXES):
        return run
    looks_random = any(c.isdigit() for c in run) and any(c.isupper() for c in run) and any(c.islower() for c in run)
    return REDACTED if looks_random else run


class RedactionFilter(logging.Filter):
    """Formats each record's message with its arguments, then scrubs it, its extra fields and its traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact the record in place; never drops it."""
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = f"{record.msg} {record.args!r}"
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        for name, value in list(vars(record).items()):
            if name not in _STANDARD_ATTRIBUTES and isinstance(value, str):
                setattr(record, name, redact(value))
        if isinstance(getattr(record, "color_message", None), str):
            record.color_message = record.msg
        return True


class RequestIdFilter(logging.Filter):
    """Stamps each record with the id of the request being served (None outside requests)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Add ``request_id`` unless the record already has one."""
        if getattr(record, "request_id", None) is None:
            record.request_id = current_request_id()
        return True


def _request_id(record: logging.LogRecord) -> str | None:
    value = getattr(record, "request_id", None)
    return value if isinstance(value, str) else current_request_id()


class TextFormatter(logging.Formatter):
    """``time LEVEL logger [request id]: message``, with ``-`` outside requests."""

    def __init__(self) -> None:
        super().__init__(_TEXT_FORMAT)

    def formatMessage(self, record: logging.LogRecord) -> str:
        """Fill the format with the record's fields and its request id."""
        return _TEXT_FORMAT % {**vars(record), "request_id": _request_id(record) or "-"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, extra fields, exception."""

    def format(self, record: logging.LogRecord) -> str:
        """Render the record as a single line of JSON."""
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": _request_id(record),
        }
        for name, value in vars(record).items():
            if name not in _STANDARD_ATTRIBUTES and name not in entry:
                entry[name] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, default=str)


class _Handler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler ``configure_logging`` installs (so a second call replaces it)."""


QUIET_LIBRARIES = ("httpx2", "httpcore2")
"""Loggers held at WARNING unless the level is DEBUG."""


def configure_logging(
    level: str = "INFO", log_format: str = "text", *, stream: IO[str] | None = None
) -> logging.Handler:
    """Send every log record to ``stream`` (stderr) as text or JSON lines, with request ids, secrets redacted."""
    if log_format not in LOG_FORMATS:
        raise ValueError(f"log format must be one of {', '.join(LOG_FORMATS)}, not {log_format!r}")
    root = logging.getLogger()
    # Every other root handler goes too: the MCP SDK's MCPServer calls logging.basicConfig with a plain stderr
    # handler that would print records unredacted beside ours.
    for existing in list(root.handlers):
        root.removeHandler(existing)
    handler = _Handler(stream if stream is not None else sys.stderr)
    handler.addFilter(RequestIdFilter())
    handler.addFilter(RedactionFilter())
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    root.addHandler(handler)
    root.setLevel(level.upper())
    # Below DEBUG, the HTTP client's line per request only repeats our own "Spotify GET … ->" record, with the
    # full URL (search terms included), and costs a formatted, redacted record on every tool call.
    quiet = logging.NOTSET if root.level <= logging.DEBUG else logging.WARNING
    for library in QUIET_LIBRARIES:
        logging.getLogger(library).setLevel(quiet)
    return handler
