"""The Spotify Web API client: bearer from the credentials manager, bounded retries, typed errors."""

from __future__ import annotations

import json as jsonlib
import logging
import math
import random
import re
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import anyio
import httpx2

from spotify_mcp.clock import Clock
from spotify_mcp.observability.observers import NO_SPOTIFY, SpotifyObserver
from spotify_mcp.spotify.credentials import CredentialsManager
from spotify_mcp.spotify.errors import SpotifyAPIError, SpotifyUnavailable

logger = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]

QUOTA_EXCEEDED = "QUOTA_EXCEEDED"
_IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
_NOT_SENT = (httpx2.ConnectError, httpx2.ConnectTimeout, httpx2.PoolTimeout)
_BAD_PATH = re.compile(r"\.\.|%2e|[\\?#\s\x00-\x1f\x7f]|//", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class SpotifyResponse:
    """A successful Web API answer; ``data`` is None for 202/204 and empty bodies."""

    status: int
    data: Any
    headers: Mapping[str, str]


@dataclass(slots=True)
class _UserSlot:
    limiter: anyio.CapacityLimiter
    users: int = 0


class SpotifyAPI:
    """Calls the Web API on behalf of a user, at most ``max_in_flight_per_user`` calls at a time each.

    GET answers that carry an ``ETag`` are remembered per user (the last ``etag_entries``) and revalidated
    with ``If-None-Match``; a ``304`` is answered from memory as the 200 it stands for.
    """

    def __init__(
        self,
        http: httpx2.AsyncClient,
        *,
        api_url: str,
        credentials: CredentialsManager,
        clock: Clock,
        max_retry_after: float = 5.0,
        max_attempts: int = 3,
        max_in_flight_per_user: int = 4,
        backoff_base: float = 0.25,
        backoff_max: float = 2.0,
        sleep: Sleep | None = None,
        rng: random.Random | None = None,
        etag_entries: int = 256,
        metrics: SpotifyObserver | None = None,
    ) -> None:
        if max_attempts < 1 or max_in_flight_per_user < 1:
            raise ValueError("max_attempts and max_in_flight_per_user must be at least 1")
        self._http = http
        self._base = api_url.rstrip("/")
        self._credentials = credentials
        self._clock = clock
        self._max_retry_after = max_retry_after
        self._max_attempts = max_attempts
        self._per_user = max_in_flight_per_user
        self._backoff_base = backoff_base
        self._backoff_max = backoff_max
        self._sleep = sleep or clock.sleep
        self._rng = rng or random.Random()
        self._slots: dict[str, _UserSlot] = {}
        self._etag_entries = etag_entries
        self._etags: OrderedDict[tuple[str, str, tuple[tuple[str, str], ...]], tuple[str, Any]] = OrderedDict()
        self._metrics = metrics or NO_SPOTIFY

    async def me_with_token(self, access_token: str) -> dict[str, Any]:
        """Return ``GET /me`` for a raw access token (at login, before anything is stored)."""
        response = await self._call("GET", "/me", access_token, user_id=None, params=None, json=None, retry=True)
        data = response.data
        if not isinstance(data, dict) or not isinstance(data.get("id"), str) or not data["id"]:
            raise SpotifyAPIError(response.status, "Spotify returned a profile without a user id")
        return data

    async def request(
        self,
        user_id: str,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        json: Any = None,
        idempotent: bool | None = None,
    ) -> SpotifyResponse:
        """Send one Web API request as ``user_id``; ``path`` is relative to the API base, e.g. ``/me``."""
        check_path(path)
        method = method.upper()
        retry = idempotent if idempotent is not None else method in _IDEMPOTENT_METHODS
        token = await self._credentials.access_token(user_id)
        key = _cache_key(user_id, path, params) if method == "GET" and self._etag_entries else None
        cached = self._etags.get(key) if key is not None else None
        validators = {"If-None-Match": cached[0]} if cached is not None else {}
        response = await self._call(
            method, path, token, user_id=user_id, params=params, json=json, retry=retry, headers=validators
        )
        if key is None:
            return response
        if response.status == 304 and cached is not None:
            self._etags.move_to_end(key)
            return SpotifyResponse(status=200, data=cached[1], headers=response.headers)
        etag = response.headers.get("etag")
        if response.status == 200 and etag:
            self._etags[key] = (etag, response.data)
            self._etags.move_to_end(key)
            while len(self._etags) > self._etag_entries:
                self._etags.popitem(last=False)
        return response

    async def _call(
        self,
        method: str,
        path: str,
        token: str,
        *,
        user_id: str | None,
        params: Mapping[str, str | int] | None,
        json: Any,
        retry: bool,
        headers: Mapping[str, str] | None = None,
    ) -> SpotifyResponse:
        refreshed = False
        attempt = 1
        while True:
            started = time.perf_counter()
            try:
                async with self._slot(user_id):
                    started = time.perf_counter()  # time the call, not the wait for a slot
                    response = await self._http.request(
                        method,
                        self._base + path,
                        params=dict(params) if params else None,
                        json=json,
                        headers={"Authorization": f"Bearer {token}", "Accept": "application/json", **(headers or {})},
                    )
            except httpx2.RequestError as exc:
                self._observe(
                    method, path, "timeout" if isinstance(exc, httpx2.TimeoutException) else "connection", started
                )
                if attempt < self._max_attempts and (retry or isinstance(exc, _NOT_SENT)):
                    self._metrics.retry("connection")
                    await self._backoff(attempt, f"{type(exc).__name__} on {method} {path}")
                    attempt += 1
                    continue
                kind = "timed out" if isinstance(exc, httpx2.TimeoutException) else "could not be reached"
                raise SpotifyUnavailable(f"the Spotify Web API {kind} ({method} {path})") from None

            status = response.status_code
            self._observe(method, path, str(status), started)
            if status == 401 and user_id is not None and not refreshed:
                refreshed = True
                self._metrics.retry("401")
                token = await self._credentials.access_token(user_id, rejected=token)
                continue
            if status == 429:
                self._metrics.rate_limited()
                retry_after = parse_retry_after(response.headers.get("retry-after"), self._clock.now())
                error = api_error(response, retry_after)
                if (
                    error.reason != QUOTA_EXCEEDED
                    and retry_after is not None
                    and retry_after <= self._max_retry_after
                    and attempt < self._max_attempts
                ):
                    logger.info("Spotify rate limit on %s %s; retrying in %.1fs", method, path, retry_after)
                    self._metrics.retry("429")
                    await self._sleep(retry_after)
                    attempt += 1
                    continue
                raise error
            if status >= 500:
                if retry and attempt < self._max_attempts:
                    self._metrics.retry("5xx")
                    await self._backoff(attempt, f"HTTP {status} on {method} {path}")
                    attempt += 1
                    continue
                raise api_error(response)
            if status >= 400:
                raise api_error(response)
            if status == 304:
                return SpotifyResponse(status=304, data=None, headers=dict(response.headers))
            return SpotifyResponse(status=status, data=_data(response), headers=dict(response.headers))

    def _observe(self, method: str, path: str, status: str, started: float) -> None:
        seconds = time.perf_counter() - started
        self._metrics.request(method, path, status, seconds)
        logger.debug("Spotify %s %s -> %s in %.3fs", method, path, status, seconds)

    async def _backoff(self, attempt: int, why: str) -> None:
        ceiling = min(self._backoff_max, self._backoff_base * 2 ** (attempt - 1))
        delay = ceiling / 2 + self._rng.uniform(0, ceiling / 2)
        logger.info("%s; retrying in %.2fs", why, delay)
        await self._sleep(delay)

    @asynccontextmanager
    async def _slot(self, user_id: str | None) -> AsyncIterator[None]:
        if user_id is None:
            yield
            return
        slot = self._slots.get(user_id)
        if slot is None:
            slot = self._slots[user_id] = _UserSlot(anyio.CapacityLimiter(self._per_user))
        slot.users += 1
        try:
            async with slot.limiter:
                yield
        finally:
            slot.users -= 1
            if slot.users == 0:
                del self._slots[user_id]

    def in_flight(self, user_id: str) -> int:
        """Return how many upstream calls for ``user_id`` hold a slot right now."""
        slot = self._slots.get(user_id)
        return int(slot.limiter.borrowed_tokens) if slot is not None else 0


def _cache_key(
    user_id: str, path: str, params: Mapping[str, str | int] | None
) -> tuple[str, str, tuple[tuple[str, str], ...]]:
    return user_id, path, tuple(sorted((k, str(v)) for k, v in (params or {}).items()))


def check_path(path: str) -> None:
    """Refuse anything but a plain relative API path such as ``/me/player`` (ValueError)."""
    if not path.startswith("/") or _BAD_PATH.search(path):
        raise ValueError(f"refusing Spotify API path {path!r}: it must be a plain path starting with '/'")


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Return a ``Retry-After`` header (seconds or HTTP date) as seconds from ``now``, or None."""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - now
        except (TypeError, ValueError):
            return None
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


def api_error(response: httpx2.Response, retry_after: float | None = None) -> SpotifyAPIError:
    """Turn a Web API error response into a SpotifyAPIError, keeping Spotify's message and reason."""
    message: str | None = None
    reason: str | None = None
    body = _json(response)
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        message = error.get("message") if isinstance(error.get("message"), str) else None
        reason = error.get("reason") if isinstance(error.get("reason"), str) else None
    elif isinstance(error, str) and isinstance(body, dict):
        description = body.get("error_description")
        message = description if isinstance(description, str) else error
    if not message:
        message = response.reason_phrase or f"HTTP {response.status_code}"
    return SpotifyAPIError(response.status_code, message[:500], reason, retry_after)


def _json(response: httpx2.Response) -> Any:
    try:
        return jsonlib.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        return None


def _data(response: httpx2.Response) -> Any:
    if response.status_code in (202, 204) or not response.content.strip():
        return None
    try:
        return jsonlib.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        return response.text
