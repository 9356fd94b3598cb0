"""Typed configuration, read once from the environment (and ``.env``) and passed explicitly.

The environment variable names are a public contract: keep them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from spotify_mcp.crypto import KEY_HELP, KeyRing, KeyRingError
from spotify_mcp.scopes import DEFAULT_SCOPES, SPOTIFY_SCOPES
from spotify_mcp.web.client_address import parse_proxy_networks
from spotify_mcp.web.ratelimit import parse_rate_limits

_LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


class ConfigError(ValueError):
    """The configuration is invalid; the message says what to change."""


def default_data_dir() -> Path:
    """Return the per-user data directory (XDG on Linux)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "spotify-mcp"


def _env(*names: str) -> AliasChoices:
    return AliasChoices(*names)


class Settings(BaseSettings):
    """Everything the server needs to know about its deployment."""

    model_config = SettingsConfigDict(
        env_file=".env", extra="ignore", populate_by_name=True, frozen=True, env_ignore_empty=True
    )

    spotify_client_id: str = Field(
        description="the Spotify app's client id (required)",
        validation_alias=_env("SPOTIFY_CLIENT_ID", "spotify_client_id"),
    )
    spotify_client_secret: SecretStr = Field(
        description=(
            "the Spotify app's client secret (required for serve; optional for login, "
            "which then signs in as a public PKCE client)"
        ),
        validation_alias=_env("SPOTIFY_CLIENT_SECRET", "spotify_client_secret"),
    )
    public_url: str = Field(
        description=(
            "the public base URL: the OAuth issuer, the MCP endpoint is BASE/mcp; "
            "never derived from request headers; https unless loopback"
        ),
        default="http://127.0.0.1:8000",
        validation_alias=_env("SPOTIFY_MCP_PUBLIC_URL", "public_url"),
    )
    data_dir: Path = Field(
        description="data directory (SQLite store, local-mode files); default ~/.local/share/spotify-mcp",
        default_factory=default_data_dir,
        validation_alias=_env("SPOTIFY_MCP_DATA_DIR", "data_dir"),
    )
    store_url: str | None = Field(
        description=(
            "where state lives: sqlite:///path.db, postgresql://user@host:5432/db?schema=name or "
            "redis://host:6379/0?prefix=name; default sqlite:/// under the data dir"
        ),
        default=None,
        validation_alias=_env("SPOTIFY_MCP_STORE_URL", "store_url"),
    )
    secret_key: SecretStr | None = Field(
        description=(
            "key ring, comma-separated, first one seals new values; each key is 32 random bytes in URL-safe base64 (44 "
            "characters); required for serve"
        ),
        default=None,
        validation_alias=_env("SPOTIFY_MCP_SECRET_KEY", "secret_key"),
    )
    spotify_accounts_url: str = Field(
        description="Spotify accounts service (token endpoint, sign-in)",
        default="https://accounts.spotify.com",
        validation_alias=_env("SPOTIFY_ACCOUNTS_URL", "spotify_accounts_url"),
    )
    spotify_api_url: str = Field(
        description="Spotify Web API base URL",
        default="https://api.spotify.com/v1",
        validation_alias=_env("SPOTIFY_API_URL", "spotify_api_url"),
    )
    allowed_hosts: Annotated[tuple[str, ...], NoDecode] = Field(
        description="extra Host/Origin values accepted on the MCP endpoints, comma-separated",
        default=(),
        validation_alias=_env("SPOTIFY_MCP_ALLOWED_HOSTS", "allowed_hosts"),
    )
    port: int = Field(description="listening port", default=8000, ge=1, le=65535, validation_alias=_env("PORT", "port"))
    scopes: Annotated[tuple[str, ...], NoDecode] = Field(
        description="Spotify scopes offered to clients by default, space- or comma-separated",
        default=DEFAULT_SCOPES,
        validation_alias=_env("SPOTIFY_MCP_SCOPES", "scopes"),
    )
    access_token_ttl: int = Field(
        description="lifetime of our access tokens, seconds",
        default=3600,
        ge=60,
        le=86400,
        validation_alias=_env("SPOTIFY_MCP_ACCESS_TOKEN_TTL", "access_token_ttl"),
    )
    refresh_token_ttl: int = Field(
        description="lifetime of our refresh tokens, seconds",
        default=30 * 86400,
        ge=3600,
        le=180 * 86400,
        validation_alias=_env("SPOTIFY_MCP_REFRESH_TOKEN_TTL", "refresh_token_ttl"),
    )
    cimd_allow_private_addresses: bool = Field(
        description="development only: fetch client metadata documents from private and loopback addresses",
        default=False,
        validation_alias=_env("SPOTIFY_MCP_CIMD_ALLOW_PRIVATE_ADDRESSES", "cimd_allow_private_addresses"),
    )
    cimd_allow_http_loopback: bool = Field(
        description="development only: accept http://127.0.0.1 client metadata documents",
        default=False,
        validation_alias=_env("SPOTIFY_MCP_CIMD_ALLOW_HTTP_LOOPBACK", "cimd_allow_http_loopback"),
    )
    cimd_ca_file: Path | None = Field(
        default=None,
        description="PEM file of extra certificate authorities to trust when fetching client metadata documents",
        validation_alias=_env("SPOTIFY_MCP_CIMD_CA_FILE", "cimd_ca_file"),
    )
    log_level: str = Field(
        description="log level (DEBUG, INFO, WARNING, ERROR)",
        default="INFO",
        validation_alias=_env("SPOTIFY_MCP_LOG_LEVEL", "log_level"),
    )
    stateless_http: bool = Field(
        default=False,
        description="serve 2025-era Streamable HTTP without sessions, so replicas need no sticky routing",
        validation_alias=_env("SPOTIFY_MCP_STATELESS_HTTP", "stateless_http"),
    )
    sweep_interval: float = Field(
        default=600.0,
        ge=0,
        le=86400,
        description="seconds between deletions of expired requests, codes and tokens; 0 turns the sweep off",
        validation_alias=_env("SPOTIFY_MCP_SWEEP_INTERVAL", "sweep_interval"),
    )
    rate_limits: str = Field(
        default="",
        description="overrides of the default rate limits as name=count/seconds,... (name=off lifts one); off: none",
        validation_alias=_env("SPOTIFY_MCP_RATE_LIMITS", "rate_limits"),
    )
    trusted_proxies: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(),
        description="reverse proxies (IPs or CIDR networks) whose X-Forwarded-For names the client address",
        validation_alias=_env("SPOTIFY_MCP_TRUSTED_PROXIES", "trusted_proxies"),
    )
    log_format: Literal["text", "json"] = Field(
        default="text",
        description="text: one readable line per record; json: one JSON object per line",
        validation_alias=_env("SPOTIFY_MCP_LOG_FORMAT", "log_format"),
    )
    metrics: str = Field(
        default="on",
        description="on: Prometheus /metrics on the main port; off; or a port number for a separate listener",
        validation_alias=_env("SPOTIFY_MCP_METRICS", "metrics"),
    )
    metrics_host: str = Field(
        default="127.0.0.1",
        description="the address the separate metrics listener binds (when SPOTIFY_MCP_METRICS is a port)",
        validation_alias=_env("SPOTIFY_MCP_METRICS_HOST", "metrics_host"),
    )
    unused_client_ttl: int = Field(
        default=30 * 86400,
        ge=0,
        description="seconds after which a registered client with no grants and no use is deleted; 0: never",
        validation_alias=_env("SPOTIFY_MCP_UNUSED_CLIENT_TTL", "unused_client_ttl"),
    )
    redirect_host_allowlist: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(),
        description="hosts (or *.suffix) client redirect URIs may use, checked at /register and /authorize; empty: any",
        validation_alias=_env("SPOTIFY_MCP_REDIRECT_HOST_ALLOWLIST", "redirect_host_allowlist"),
    )
    cimd_domain_allowlist: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(),
        description="hosts (or *.suffix) of client metadata document client_ids accepted at /authorize; empty: any",
        validation_alias=_env("SPOTIFY_MCP_CIMD_DOMAIN_ALLOWLIST", "cimd_domain_allowlist"),
    )
    remember_consent: bool = Field(
        default=True,
        description="offer the consent page's 'remember this app in this browser' checkbox (never ticked by default)",
        validation_alias=_env("SPOTIFY_MCP_REMEMBER_CONSENT", "remember_consent"),
    )
    remember_consent_ttl: int = Field(
        default=30 * 86400,
        ge=3600,
        le=400 * 86400,
        description="seconds a remembered consent lasts in a browser",
        validation_alias=_env("SPOTIFY_MCP_REMEMBER_CONSENT_TTL", "remember_consent_ttl"),
    )

    @field_validator("redirect_host_allowlist", "cimd_domain_allowlist", mode="before")
    @classmethod
    def _split_host_list(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.replace(" ", ",").split(",")
        if isinstance(value, list | tuple):
            return tuple(str(p).strip().lower().rstrip(".") for p in value if str(p).strip())
        return value

    @field_validator("cimd_ca_file")
    @classmethod
    def _check_ca_file(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"the CA file {value} does not exist; give a PEM file of certificate authorities")
        return value

    @field_validator("log_format", mode="before")
    @classmethod
    def _lower_log_format(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("metrics", mode="before")
    @classmethod
    def _check_metrics(cls, value: object) -> object:
        text = str(value).strip().lower() if isinstance(value, str | int) else value
        if text in ("on", "off"):
            return text
        if isinstance(text, str) and text.isdigit() and 1 <= int(text) <= 65535:
            return str(int(text))
        raise ValueError("must be on (serve /metrics on the main port), off, or a port number for a separate listener")

    @field_validator("rate_limits")
    @classmethod
    def _check_rate_limits(cls, value: str) -> str:
        parse_rate_limits(value)
        return value.strip()

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _check_trusted_proxies(cls, value: object) -> object:
        if isinstance(value, str):
            value = [part for part in value.replace(" ", ",").split(",") if part.strip()]
        if isinstance(value, list | tuple):
            return parse_proxy_networks(str(item) for item in value)
        return value

    @field_validator("public_url")
    @classmethod
    def _check_public_url(cls, value: str) -> str:
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("SPOTIFY_MCP_PUBLIC_URL must be an absolute http(s) URL such as https://mcp.example.com")
        if parts.query or parts.fragment:
            raise ValueError("SPOTIFY_MCP_PUBLIC_URL must not have a query or fragment")
        if parts.scheme == "http" and parts.hostname not in _LOOPBACK_HOSTS:
            raise ValueError(
                "SPOTIFY_MCP_PUBLIC_URL must use https unless it is a loopback address (127.0.0.1, [::1], localhost)"
            )
        return value.strip().rstrip("/")

    @field_validator("spotify_accounts_url", "spotify_api_url")
    @classmethod
    def _check_upstream_url(cls, value: str) -> str:
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an absolute http(s) URL")
        return value.strip().rstrip("/")

    @field_validator("allowed_hosts", "scopes", mode="before")
    @classmethod
    def _split_list(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(p for p in (s.strip() for s in value.replace(" ", ",").split(",")) if p)
        return value

    @field_validator("scopes")
    @classmethod
    def _check_scopes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(value) - set(SPOTIFY_SCOPES))
        if unknown:
            raise ValueError(f"unknown Spotify scopes {unknown}; known: {' '.join(SPOTIFY_SCOPES)}")
        return value

    @field_validator("secret_key")
    @classmethod
    def _check_secret_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            try:
                KeyRing.parse(value.get_secret_value())
            except KeyRingError as exc:
                raise ValueError(str(exc)) from None
        return value

    @property
    def issuer(self) -> str:
        """Our OAuth issuer identifier: the public base URL."""
        return self.public_url

    @property
    def mcp_url(self) -> str:
        """The canonical MCP endpoint, which is also the RFC 8707 resource of every token."""
        return f"{self.public_url}/mcp"

    @property
    def callback_url(self) -> str:
        """The redirect URI to register in the Spotify dashboard."""
        return f"{self.public_url}/callback"

    @property
    def is_https(self) -> bool:
        """Whether the public URL is https (secure cookies, HSTS)."""
        return self.public_url.startswith("https://")

    @property
    def metrics_port(self) -> int | None:
        """The port of the separate metrics listener, or None (metrics on the main port, or off)."""
        return int(self.metrics) if self.metrics.isdigit() else None

    @property
    def metrics_on_main_port(self) -> bool:
        """Whether /metrics is served on the main port."""
        return self.metrics == "on"

    @property
    def effective_store_url(self) -> str:
        """The store URL, defaulting to a SQLite file in the data directory."""
        return self.store_url or f"sqlite:///{self.data_dir / 'spotify-mcp.db'}"

    def key_ring(self) -> KeyRing:
        """Build the key ring; a missing key is a configuration error."""
        if self.secret_key is None:
            raise ConfigError(f"SPOTIFY_MCP_SECRET_KEY is not set; {KEY_HELP}")
        return KeyRing.parse(self.secret_key.get_secret_value())


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment and ``.env``, turning validation errors into advice."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            name = _env_name(err["loc"])
            if err["type"] == "missing":
                lines.append(f"{name} is required but not set")
            else:
                lines.append(f"{name}: {err['msg'].removeprefix('Value error, ')}")
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(lines)) from None


def _env_name(loc: tuple[int | str, ...]) -> str:
    field = str(loc[0]) if loc else "?"
    info = Settings.model_fields.get(field)
    alias = info.validation_alias if info else None
    if isinstance(alias, AliasChoices) and alias.choices:
        return str(alias.choices[0])
    return field
