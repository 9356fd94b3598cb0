"""The checks of ``config check`` that need only the settings: Spotify app, public URL, redirect URI, key ring."""

from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

from spotify_mcp.admin.output import plural
from spotify_mcp.crypto import KeyRing
from spotify_mcp.settings import Settings

SPOTIFY_ACCOUNTS = "https://accounts.spotify.com"
SPOTIFY_API = "https://api.spotify.com/v1"
_SPOTIFY_CLIENT_ID = re.compile(r"[0-9a-f]{32}")
_UNSPECIFIED_HOSTS = {"0.0.0.0", "::"}  # noqa: S104 - named to be refused, not bound


class Level(StrEnum):
    """How bad a finding is: an error makes ``config check`` exit 1."""

    OK = "ok"
    WARNING = "warning"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class Check:
    """One finding: its level, what it is about, and what it says (never a secret)."""

    level: Level
    topic: str
    message: str


def spotify_redirect_problem(uri: str) -> str | None:
    """Why Spotify would refuse ``uri`` as a redirect URI, or None: https, or http on 127.0.0.1 or [::1] only."""
    parts = urlsplit(uri)
    if parts.scheme == "https":
        return None
    if parts.scheme != "http":
        return "Spotify accepts only https redirect URIs (or http on a loopback IP literal)"
    if parts.hostname in ("127.0.0.1", "::1"):
        return None
    if parts.hostname == "localhost":
        port = f":{parts.port}" if parts.port else ""
        return (
            f"Spotify refuses `localhost` in redirect URIs: set SPOTIFY_MCP_PUBLIC_URL to http://127.0.0.1{port} "
            "(the loopback IP literal) instead"
        )
    return "Spotify accepts http redirect URIs only on a loopback IP literal (127.0.0.1 or [::1]); use https"


def check_spotify_app(settings: Settings) -> list[Check]:
    """The Spotify app's client id (shown: it is public) and that its secret is set (never shown)."""
    checks = [Check(Level.OK, "Spotify app", f"client id {settings.spotify_client_id}; client secret set")]
    if settings.spotify_accounts_url == SPOTIFY_ACCOUNTS and not _SPOTIFY_CLIENT_ID.fullmatch(
        settings.spotify_client_id
    ):
        checks.append(
            Check(Level.WARNING, "Spotify app", "the client id is not 32 hex digits, as Spotify's client ids are")
        )
    return checks


def check_public_url(settings: Settings) -> list[Check]:
    """The public URL is one clients can reach, and agrees with the listening port when it is loopback http."""
    parts = urlsplit(settings.public_url)
    if parts.hostname in _UNSPECIFIED_HOSTS:
        return [Check(Level.ERROR, "public URL", f"{settings.public_url} names no host clients can reach")]
    checks = [Check(Level.OK, "public URL", f"{settings.public_url}; MCP endpoint {settings.mcp_url}")]
    if not settings.is_https:
        checks.append(
            Check(
                Level.WARNING,
                "public URL",
                "http on a loopback address: only this machine can connect; serve others over https "
                "behind a TLS proxy (docs/deployment.md)",
            )
        )
        port = parts.port or 80
        if port != settings.port:
            checks.append(
                Check(
                    Level.WARNING,
                    "public URL",
                    f"it names port {port} but the server listens on PORT={settings.port}; without a proxy in "
                    "between they must be the same",
                )
            )
    return checks


def check_redirect_uri(settings: Settings) -> list[Check]:
    """The redirect URI the Spotify app must list, and whether Spotify accepts it at all."""
    uri = settings.callback_url
    problem = spotify_redirect_problem(uri)
    if problem is not None:
        return [Check(Level.ERROR, "redirect URI", f"{uri}: {problem}")]
    return [
        Check(
            Level.OK,
            "redirect URI",
            f"register exactly {uri} under Redirect URIs in the Spotify app (developer.spotify.com/dashboard)",
        )
    ]


def check_key_ring(settings: Settings) -> tuple[KeyRing | None, list[Check]]:
    """The key ring is set (its values were validated with the settings); named by key ids, never by keys."""
    if settings.secret_key is None:
        return None, [
            Check(
                Level.ERROR,
                "key ring",
                "SPOTIFY_MCP_SECRET_KEY is not set; serve needs it (`spotify-mcp admin keys generate` makes one)",
            )
        ]
    keys = settings.key_ring()
    checks = [
        Check(Level.OK, "key ring", f"{plural(len(keys.kids), 'key')}; current {keys.current_kid}, seals new values")
    ]
    twice = sorted(kid for kid, n in Counter(keys.kids).items() if n > 1)
    if twice:
        checks.append(Check(Level.WARNING, "key ring", f"key {', '.join(twice)} appears more than once"))
    return keys, checks


def check_server(settings: Settings) -> list[Check]:
    """Settings that would stop serve at start, or that are meant for development only."""
    checks: list[Check] = []
    if settings.log_level.upper() not in logging.getLevelNamesMapping():
        checks.append(
            Check(
                Level.ERROR,
                "logging",
                f"SPOTIFY_MCP_LOG_LEVEL={settings.log_level} is not DEBUG, INFO, WARNING or ERROR",
            )
        )
    if settings.metrics_port == settings.port:
        checks.append(
            Check(
                Level.ERROR, "metrics", f"SPOTIFY_MCP_METRICS is the main port {settings.port}; use on, or another port"
            )
        )
    for name, value, real in (
        ("SPOTIFY_ACCOUNTS_URL", settings.spotify_accounts_url, SPOTIFY_ACCOUNTS),
        ("SPOTIFY_API_URL", settings.spotify_api_url, SPOTIFY_API),
    ):
        if value != real:
            checks.append(Check(Level.WARNING, "Spotify", f"{name} is {value}, not Spotify's {real} (an emulator?)"))
    if settings.cimd_allow_private_addresses or settings.cimd_allow_http_loopback:
        checks.append(
            Check(
                Level.WARNING,
                "client metadata",
                "SPOTIFY_MCP_CIMD_ALLOW_PRIVATE_ADDRESSES or _ALLOW_HTTP_LOOPBACK is on: for development only",
            )
        )
    if settings.rate_limits.lower() == "off":
        checks.append(Check(Level.WARNING, "rate limits", "SPOTIFY_MCP_RATE_LIMITS=off: no endpoint is rate-limited"))
    return checks
