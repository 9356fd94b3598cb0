"""Reading a ``postgresql://`` store URL: what to connect to, which schema, and how to name it safely."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import SplitResult, parse_qsl, unquote, urlencode, urlsplit, urlunsplit

import asyncpg

SCHEMES = ("postgresql", "postgres")

_BOUND_VALUE = re.compile(r"(query argument \$\d+[^:]*): .*", re.DOTALL)
_SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_DEFAULT_PORT = 5432


def _host_and_port(parts: SplitResult, params: dict[str, str]) -> str:
    """``host:port`` as the URL gives them, or the raw host list of a multi-host URL (``h1:5432,h2:5432``)."""
    host = params.get("host") or parts.hostname or "localhost"
    try:
        port = params.get("port") or str(parts.port or _DEFAULT_PORT)
    except ValueError:
        return parts.netloc.rpartition("@")[2]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


@dataclass(frozen=True, slots=True)
class PostgresTarget:
    """A parsed store URL: the DSN asyncpg gets, the schema, and a password-free name for messages."""

    dsn: str
    """The URL without its ``schema`` parameter (asyncpg would send unknown parameters to the server)."""
    schema: str
    where: str
    """``host:port/database``, for error messages; never the user's password."""
    secrets: tuple[str, ...]

    @classmethod
    def parse(cls, url: str) -> PostgresTarget:
        """Parse and validate a ``postgresql://`` (or ``postgres://``) URL with an optional ``?schema=``."""
        try:
            parts = urlsplit(url)
            query = parse_qsl(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
        except ValueError:
            # urllib's messages quote the offending part, which may be the password.
            raise ValueError(
                "the PostgreSQL store URL is malformed; expected postgresql://user:password@host:port/database"
                "?schema=name"
            ) from None
        if parts.scheme.lower() not in SCHEMES:
            raise ValueError("a PostgreSQL store URL starts with postgresql:// or postgres://")
        params = dict(query)
        schemas = [value for key, value in query if key == "schema"]
        if len(schemas) > 1:
            raise ValueError("the PostgreSQL store URL names more than one ?schema=")
        schema = schemas[0] if schemas else "public"
        if not _SCHEMA_NAME.fullmatch(schema) or schema.startswith("pg_"):
            raise ValueError(
                f"the PostgreSQL store URL's ?schema={schema!r} is not a plain identifier: use up to 63 lowercase "
                "letters, digits and underscores, not starting with a digit or pg_"
            )
        database = params.get("dbname") or params.get("database") or unquote(parts.path.lstrip("/")) or "(default)"
        found = {parts.password, unquote(parts.password or ""), params.get("password")}
        secrets = tuple(sorted((secret for secret in found if secret), key=len, reverse=True))
        rest = [(key, value) for key, value in query if key != "schema"]
        dsn = urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(rest), parts.fragment))
        return cls(dsn=dsn, schema=schema, where=f"{_host_and_port(parts, params)}/{database}", secrets=secrets)

    def scrub(self, text: str) -> str:
        """Blank out the URL's password wherever it appears in ``text``."""
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text

    def describe(self, exc: BaseException) -> str:
        """Name a driver error by its class and primary message, without the URL's password or bound values."""
        if isinstance(exc, asyncpg.PostgresError | asyncpg.InterfaceError) and exc.args:
            # str() of these appends the server's DETAIL, which quotes the offending row's values.
            message = str(exc.args[0])
        else:
            message = str(exc)
        message = _BOUND_VALUE.sub(r"\1", message)
        return self.scrub(f"{type(exc).__name__}: {message}" if message else type(exc).__name__)
