"""Fixed-window rate limits: per client address on the OAuth endpoints, per signed-in user on ``/mcp`` posts.

Each endpoint group counts requests in the store (``Store.hit``), so every replica sees the same counts.
Going over a limit answers 429 with ``Retry-After`` (whole seconds to the window's end, at least 1) and
``Cache-Control: no-store``: a JSON ``{"error": "rate_limited", ...}`` body on the API endpoints
(``/register``, ``/token``, ``/revoke``, ``/mcp``, ``/messages/``) and an HTML error page on the browser
ones (``/authorize``, ``/consent``, ``/callback``). CORS preflights are never counted.

Defaults, as requests per window, sized for a deployment whose Spotify app serves a modest number of
people, some of them through hosted clients that call ``/register`` and ``/token`` from a few shared
server addresses:

* ``register=20/3600`` per address: a client registers once per installation or reconnection; 20 an hour
  covers a developer reconnecting over and over, and caps a registration flood (catalogue B16) at 480 a day.
* ``authorize=60/60``, ``consent=30/60``, ``callback=30/60`` per address: one sign-in is one
  ``/authorize``, a consent page and its form post, and one ``/callback``; these allow a dozen sign-ins a
  minute from one address (a household or office behind NAT) and still stop a script hammering the flow.
* ``token=120/60`` per address: a code exchange per sign-in plus a refresh per user per access-token
  lifetime (an hour by default), so a hosted client refreshing for thousands of users an hour fits, while
  guessing codes or refresh tokens (catalogue M7; they carry 256 bits anyway) is held to 2 tries a second.
* ``revoke=60/60`` per address: revocation is rare and retry-safe.
* ``tools=300/60`` per user, counting every ``POST`` to ``/mcp`` and ``/messages/`` (initialize, listings,
  tool calls, notifications): five a second sustained is well above what a model produces, even a busy
  agent, and keeps one user's runaway loop from spending the Spotify app's shared API quota.

Windows are fixed (aligned to multiples of their length, the same for every client), so a burst straddling
a window boundary can get up to twice a limit through; the limits bound abuse, they do not meter it.
IPv6 clients are counted per /64 network (what one subscriber is usually given). The client address comes
from ``web/client_address.py`` (``X-Forwarded-For`` only behind ``SPOTIFY_MCP_TRUSTED_PROXIES``).

A store failure fails open: when the count cannot be taken the request goes through and a warning is
logged (at most one a minute, saying how many were let through meanwhile), so an unavailable store never
takes an endpoint down on the limiter's account. There is no exception to this.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING

from starlette.types import ASGIApp, Receive, Scope, Send

from spotify_mcp.store.base import RATE_KEY_MAX_LENGTH, StoreError, rate_window
from spotify_mcp.web.client_address import ClientAddresses
from spotify_mcp.web.pages import error_page
from spotify_mcp.web.responses import html_page, json_response

if TYPE_CHECKING:
    from spotify_mcp.services import Runtime
    from spotify_mcp.settings import Settings

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Limit:
    """At most ``count`` requests per fixed window of ``seconds``."""

    count: int
    seconds: int

    def __str__(self) -> str:
        """The limit as written in ``SPOTIFY_MCP_RATE_LIMITS``."""
        return f"{self.count}/{self.seconds}"


DEFAULT_LIMITS: Mapping[str, Limit] = MappingProxyType(
    {
        "register": Limit(20, 3600),
        "authorize": Limit(60, 60),
        "consent": Limit(30, 60),
        "callback": Limit(30, 60),
        "token": Limit(120, 60),
        "revoke": Limit(60, 60),
        "tools": Limit(300, 60),
    }
)
"""Every endpoint group and its default limit (see the module docstring for why)."""

BROWSER_GROUPS = frozenset({"authorize", "consent", "callback"})
"""Groups whose endpoints browsers navigate to: refused with an HTML page rather than JSON."""

MAX_COUNT = 1_000_000
MAX_SECONDS = 86_400
_OFF = "off"
_SPEC_HELP = (
    "write SPOTIFY_MCP_RATE_LIMITS as comma-separated name=count/seconds (e.g. register=20/3600,tools=300/60), "
    "name=off to lift one limit, or off to disable rate limiting"
)


@dataclass(frozen=True, slots=True)
class RateLimits:
    """The limit of every endpoint group; a group that is absent is not limited."""

    limits: Mapping[str, Limit]

    @property
    def enabled(self) -> bool:
        """Whether any group is limited."""
        return bool(self.limits)

    def get(self, group: str) -> Limit | None:
        """The limit of a group, or None when it is not limited."""
        if group not in DEFAULT_LIMITS:
            raise KeyError(f"unknown rate-limit group {group!r}")
        return self.limits.get(group)


def parse_rate_limits(spec: str) -> RateLimits:
    """Read ``SPOTIFY_MCP_RATE_LIMITS``: overrides of the defaults, or ``off``; ValueError says what is wrong."""
    text = spec.strip()
    if text.lower() == _OFF:
        return RateLimits(MappingProxyType({}))
    limits = dict(DEFAULT_LIMITS)
    seen: set[str] = set()
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        name, equals, value = (piece.strip() for piece in item.partition("="))
        name = name.lower()
        if not equals:
            raise ValueError(f"{item!r} has no '='; {_SPEC_HELP}")
        if name not in DEFAULT_LIMITS:
            raise ValueError(f"unknown rate-limit name {name!r}; the names are {', '.join(DEFAULT_LIMITS)}")
        if name in seen:
            raise ValueError(f"the rate limit {name!r} is given twice")
        seen.add(name)
        if value.lower() == _OFF:
            del limits[name]
            continue
        limits[name] = _parse_limit(name, value)
    return RateLimits(MappingProxyType(limits))


def _parse_limit(name: str, value: str) -> Limit:
    count_text, slash, seconds_text = (piece.strip() for piece in value.partition("/"))
    if not slash or not count_text.isdigit() or not seconds_text.isdigit():
        raise ValueError(f"the rate limit {name}={value!r} is not count/seconds in whole numbers; {_SPEC_HELP}")
    count, seconds = int(count_text), int(seconds_text)
    if not 1 <= count <= MAX_COUNT:
        raise ValueError(f"the rate limit {name}={value} allows {count} requests; give 1 to {MAX_COUNT} (or off)")
    if not 1 <= seconds <= MAX_SECONDS:
        raise ValueError(f"the rate limit {name}={value} has a window of {seconds} s; give 1 to {MAX_SECONDS}")
    return Limit(count, seconds)


def address_subject(address: str) -> str:
    """What an address is counted as: an IPv6 address by its /64 network, anything else as itself."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((parsed, 64), strict=False))
    return str(parsed)


def rate_key(group: str, subject: str) -> str:
    """The store key of a subject in a group; a subject too long for the store is hashed."""
    key = f"{group}:{subject}"
    if len(key) <= RATE_KEY_MAX_LENGTH:
        return key
    return f"{group}:sha256:{hashlib.sha256(subject.encode()).hexdigest()}"


Subject = Callable[[Scope], str | None]
"""Who a request is counted against; None lets it through uncounted."""


class RateLimiter:
    """Counts requests per group in the store and wraps endpoints so they answer 429 once over the limit."""

    def __init__(self, runtime: Runtime, limits: RateLimits, addresses: ClientAddresses) -> None:
        self._runtime = runtime
        self._limits = limits
        self._addresses = addresses
        self._last_warning = -math.inf
        self._unwarned = 0

    @classmethod
    def from_settings(cls, runtime: Runtime, settings: Settings) -> RateLimiter:
        """The limiter ``SPOTIFY_MCP_RATE_LIMITS`` and ``SPOTIFY_MCP_TRUSTED_PROXIES`` describe."""
        return cls(runtime, parse_rate_limits(settings.rate_limits), ClientAddresses(settings.trusted_proxies))

    @property
    def limits(self) -> RateLimits:
        """The limits in force."""
        return self._limits

    def per_address(self, group: str, app: ASGIApp) -> ASGIApp:
        """Limit every request to ``app`` (but CORS preflights) per client address; ``app`` itself if unlimited."""
        limit = self._limits.get(group)
        if limit is None:
            return app
        return RateLimited(app, self, group, limit, lambda scope: address_subject(self._addresses.of(scope)))

    def per_user(self, group: str, app: ASGIApp) -> ASGIApp:
        """Limit POSTs to ``app`` per authenticated user (put it behind the bearer check); others pass."""
        limit = self._limits.get(group)
        if limit is None:
            return app
        return RateLimited(app, self, group, limit, _user_subject, methods=frozenset({"POST"}))

    async def retry_after(self, group: str, limit: Limit, subject: str) -> int | None:
        """Count a request; None if it is within the limit (or the store failed), else seconds to wait."""
        services = self._runtime.services
        key = rate_key(group, subject)
        now = services.clock.now()
        try:
            count = await services.store.hit(key, limit.seconds, now)
        except StoreError as exc:
            self._warn(group, exc)
            return None
        if count <= limit.count:
            return None
        _, end = rate_window(key, limit.seconds, now)
        return max(1, math.ceil(end - now))

    def _warn(self, group: str, exc: StoreError) -> None:
        """Log a store failure at most once a minute, counting the requests let through meanwhile."""
        self._unwarned += 1
        now = time.monotonic()
        if now - self._last_warning < 60:
            return
        logger.warning(
            "rate limiting is failing open: could not count a %s request (%d let through uncounted since the "
            "last warning): %s",
            group,
            self._unwarned,
            exc,
        )
        self._last_warning, self._unwarned = now, 0

    @property
    def https(self) -> bool:
        """Whether the deployment is https (HSTS on refusal pages)."""
        return self._runtime.services.settings.is_https


def _user_subject(scope: Scope) -> str | None:
    """The Spotify user id the bearer wrapper attached to the request."""
    access = getattr(scope.get("user"), "access_token", None)
    subject = getattr(access, "subject", None)
    return subject if isinstance(subject, str) and subject else None


class RateLimited:
    """ASGI wrapper that counts each request against its subject and refuses it with 429 past the limit."""

    def __init__(
        self,
        app: ASGIApp,
        limiter: RateLimiter,
        group: str,
        limit: Limit,
        subject: Subject,
        *,
        methods: frozenset[str] | None = None,
    ) -> None:
        self._app = app
        self._limiter = limiter
        self._group = group
        self._limit = limit
        self._subject = subject
        self._methods = methods

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, or answer 429 when its subject is over the limit."""
        method = scope.get("method", "")
        counted = method != "OPTIONS" and (self._methods is None or method in self._methods)
        if scope["type"] != "http" or not counted:
            await self._app(scope, receive, send)
            return
        subject = self._subject(scope)
        wait = None if subject is None else await self._limiter.retry_after(self._group, self._limit, subject)
        if wait is None:
            await self._app(scope, receive, send)
            return
        await self._refuse(wait)(scope, receive, send)

    def _refuse(self, wait: int) -> ASGIApp:
        headers = {"Retry-After": str(wait)}
        if self._group in BROWSER_GROUPS:
            page = html_page(
                error_page(
                    "Too many requests",
                    f"This server received too many sign-in requests from your network. Try again in {wait} s.",
                ),
                status=429,
                https=self._limiter.https,
            )
            page.headers.update(headers)
            return page
        description = f"too many requests; retry after {wait} seconds"
        return json_response({"error": "rate_limited", "error_description": description}, 429, headers)
