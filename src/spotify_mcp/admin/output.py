"""How admin commands print: aligned tables for people, JSON for scripts, and text made safe for a terminal."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime

_MAX_CELL = 60


def clean(text: str, *, limit: int = _MAX_CELL) -> str:
    """Make text safe to print: control characters (terminal escapes) become '?', long text is cut with '…'."""
    safe = "".join(ch if ch.isprintable() else "?" for ch in text)
    return safe if len(safe) <= limit else safe[: limit - 1] + "…"


def when(timestamp: float | None) -> str:
    """A Unix time as ``YYYY-MM-DD HH:MM UTC`` for people, or ``never``."""
    if timestamp is None:
        return "never"
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M UTC")


def iso(timestamp: float | None) -> str | None:
    """A Unix time in ISO 8601 (UTC, seconds), or None, for JSON output."""
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """``1 grant``, ``2 grants``."""
    return f"{count} {noun if count == 1 else (nouns or noun + 's')}"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned columns separated by two spaces, headed by ``headers``."""
    widths = [max(len(cell) for cell in column) for column in zip(headers, *rows, strict=True)]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in (headers, *rows)
    )


def say(text: str = "") -> None:
    """Print to stdout (what the command reports)."""
    print(text, flush=True)


def warn(text: str) -> None:
    """Print to stderr, prefixed with the program name (why the command did not do what was asked)."""
    print(f"spotify-mcp: {text}", file=sys.stderr, flush=True)


def emit_json(value: object) -> None:
    """Print one JSON document (control characters escaped, as JSON requires)."""
    print(json.dumps(value, indent=2, ensure_ascii=False), flush=True)
