"""Where the Redis backend connects (URL, db, key prefix) and a typed adapter over ``redis.asyncio``.

The URL may carry a password: it goes to redis-py and nowhere else. Messages name ``host:port/db`` only.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from redis.asyncio import BlockingConnectionPool, ConnectionPool, Redis
from redis.commands.core import AsyncScript
from redis.exceptions import RedisError

from spotify_mcp.store.base import StoreError

DEFAULT_PREFIX = "spotify-mcp:"
DEFAULT_PORT = 6379
_PREFIX = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
_PASSED_TO_REDIS = frozenset(
    {
        "db",
        "socket_timeout",
        "socket_connect_timeout",
        "max_connections",
        "health_check_interval",
        "client_name",
        "ssl_cert_reqs",
        "ssl_ca_certs",
        "ssl_certfile",
        "ssl_keyfile",
        "ssl_check_hostname",
    }
)
"""URL query options handed on to redis-py; anything else is refused rather than failing at connect."""


@dataclass(frozen=True, slots=True)
class RedisTarget:
    """A parsed Redis store URL."""

    url: str = field(repr=False)
    """The URL for redis-py, without our ``prefix`` option; it may hold a password."""
    host: str
    port: int
    db: int
    prefix: str
    """Every key of this store starts with it; it always ends with a colon."""
    password: str | None = field(default=None, repr=False)

    @property
    def where(self) -> str:
        """Name the server without credentials, for messages."""
        return f"{self.host}:{self.port}/{self.db}"


def parse_prefix(value: str) -> str:
    """Validate a key prefix and make it end with a colon."""
    if not _PREFIX.fullmatch(value):
        raise ValueError(
            "the Redis key prefix must be 1-64 characters of letters, digits and . _ : - "
            "starting with a letter or digit, e.g. ?prefix=spotify-mcp"
        )
    return value if value.endswith(":") else value + ":"


def parse_redis_url(url: str) -> RedisTarget:
    """Split ``redis[s]://[:password@]host[:port][/db][?prefix=NAME]`` into what the store needs."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("redis", "rediss"):
        raise ValueError("a Redis store URL starts with redis:// or rediss://")
    try:
        port = parts.port or DEFAULT_PORT
    except ValueError:
        raise ValueError("the Redis store URL has an invalid port") from None
    db_text = parts.path.strip("/")
    query = parse_qsl(parts.query, keep_blank_values=True)
    names = [name for name, _ in query]
    unknown = sorted(set(names) - _PASSED_TO_REDIS - {"prefix"})
    if unknown:
        raise ValueError(f"unsupported Redis store URL option(s): {', '.join(unknown)}")
    if any(names.count(name) > 1 for name in names):
        raise ValueError("a Redis store URL option is given twice")
    options = dict(query)
    prefix = parse_prefix(options.pop("prefix")) if "prefix" in options else DEFAULT_PREFIX
    if "db" in options:
        db_text = options["db"]
    if db_text and not db_text.isdigit():
        raise ValueError("the Redis database must be a number, e.g. redis://localhost:6379/0")
    return RedisTarget(
        url=urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(options), "")),
        host=parts.hostname or "localhost",
        port=port,
        db=int(db_text or 0),
        prefix=prefix,
        password=unquote(parts.password) if parts.password else None,
    )


@contextmanager
def translate_errors(target: RedisTarget, what: str) -> Iterator[None]:
    """Turn a Redis or socket failure into a StoreError naming the server but never its password."""
    try:
        yield
    except (RedisError, OSError) as exc:
        detail = f"{type(exc).__name__}: {exc}"
        if target.password:
            detail = detail.replace(target.password, "***")
        raise StoreError(f"Redis store at {target.where} could not {what}: {detail}") from exc


def as_list(reply: object) -> list[object]:
    """Check that a script replied with an array."""
    if not isinstance(reply, list):
        raise StoreError(f"unexpected reply from a Redis store script: {type(reply).__name__}")
    return reply


def as_int(reply: object) -> int:
    """Check that a script replied with an integer."""
    if not isinstance(reply, int):
        raise StoreError(f"unexpected reply from a Redis store script: {type(reply).__name__}")
    return reply


def as_text(reply: object) -> str:
    """Check that a script replied with a string."""
    if not isinstance(reply, str):
        raise StoreError(f"unexpected reply from a Redis store script: {type(reply).__name__}")
    return reply


def as_hash(flat: list[object]) -> dict[str, str]:
    """Turn an HGETALL reply made inside a script (name, value, name, value...) into a dict."""
    texts = [as_text(item) for item in flat]
    return dict(zip(texts[::2], texts[1::2], strict=True))


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class RedisConnection:
    """A connection pool and the few commands the store needs, typed; scripts are run via EVALSHA."""

    def __init__(self, target: RedisTarget, *, connect_timeout: float, timeout: float, max_connections: int) -> None:
        # Defaults first: options in the URL's query win over them. A blocking pool makes a burst wait for a free
        # connection (up to the command timeout) instead of failing at once when all are in use.
        self._pool: ConnectionPool = BlockingConnectionPool.from_url(
            target.url,
            decode_responses=True,
            protocol=2,
            socket_connect_timeout=connect_timeout,
            socket_timeout=timeout,
            max_connections=max_connections,
            timeout=timeout,
        )
        self._client = Redis(connection_pool=self._pool)
        self._scripts: dict[str, AsyncScript] = {}

    async def run(self, script: str, args: Sequence[str | int]) -> object:
        """Run a Lua script (loading it on first use or after a server restart) and return its reply."""
        loaded = self._scripts.get(script)
        if loaded is None:
            loaded = self._scripts[script] = self._client.register_script(script)
        reply: object = await loaded(keys=[], args=list(args))
        return reply

    async def get(self, key: str) -> str | None:
        """Return a string value, or None."""
        value = await self._client.get(key)
        return None if value is None else _text(value)

    async def hgetall(self, key: str) -> dict[str, str]:
        """Return a hash, empty when the key is absent."""
        return {_text(name): _text(value) for name, value in (await self._client.hgetall(key)).items()}

    async def hgetall_many(self, keys: Sequence[str]) -> list[dict[str, str]]:
        """Return several hashes in one round trip."""
        pipeline = self._client.pipeline(transaction=False)
        for key in keys:
            pipeline.hgetall(key)
        replies = await pipeline.execute()
        return [{_text(name): _text(value) for name, value in reply.items()} for reply in replies]

    async def zmembers(self, key: str) -> list[str]:
        """Return a sorted set's members by ascending score."""
        return [_text(member) for member in await self._client.zrange(key, 0, -1) if isinstance(member, str | bytes)]

    async def scan_hashes(self, pattern: str, *, batch: int = 1000) -> list[str]:
        """Return the names of every hash matching a glob pattern, by SCAN (never blocks the server like KEYS)."""
        return [_text(key) async for key in self._client.scan_iter(match=pattern, count=batch, _type="HASH")]

    async def ping(self) -> None:
        """Round-trip a PING."""
        await self._client.ping()

    async def close(self) -> None:
        """Disconnect every pooled connection."""
        try:
            await self._client.aclose()
        finally:
            await self._pool.aclose()
