"""Local mode's configuration and files: settings without a required secret, the data directory, the profile.

Files in the data directory (created 0700): ``local.db`` (the SQLite store: the user's Spotify tokens, sealed),
``local.key`` (the sealing key when ``SPOTIFY_MCP_SECRET_KEY`` is not set, 0600, see ``keyfile``) and
``local.json`` (the local profile: who signed in, with which Spotify app; 0600).
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, Field, SecretStr, ValidationError

from spotify_mcp.settings import ConfigError, Settings

STORE_FILE = "local.db"
PROFILE_FILE = "local.json"
PROFILE_VERSION = 1
CLIENT_SECRET_CONTEXT = "spotify-mcp/local/client-secret"


class LocalSettings(Settings):
    """``Settings`` where the Spotify app's client id and secret are optional.

    The secret is optional for good: without one, local mode is a public PKCE client of Spotify. The client id
    is required by ``login`` only; ``stdio`` uses the one the login was made with.
    """

    spotify_client_id: str | None = Field(  # type: ignore[assignment]
        default=None, validation_alias=AliasChoices("SPOTIFY_CLIENT_ID", "spotify_client_id")
    )
    spotify_client_secret: SecretStr | None = Field(  # type: ignore[assignment]
        default=None, validation_alias=AliasChoices("SPOTIFY_CLIENT_SECRET", "spotify_client_secret")
    )

    @property
    def local_dir(self) -> Path:
        """The data directory, absolute (the client configs printed by ``login`` name it)."""
        return Path(os.path.abspath(self.data_dir.expanduser()))

    @property
    def local_store_url(self) -> str:
        """Local mode's own SQLite store, separate from a server's ``spotify-mcp.db`` in the same directory."""
        return f"sqlite:///{self.local_dir / STORE_FILE}"


def load_local_settings(**overrides: object) -> LocalSettings:
    """Read local settings from the environment (and ``.env``), turning validation errors into advice."""
    try:
        return LocalSettings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            field = str(err["loc"][0]) if err["loc"] else "?"
            info = LocalSettings.model_fields.get(field)
            alias = info.validation_alias if info is not None else None
            name = str(alias.choices[0]) if isinstance(alias, AliasChoices) and alias.choices else field
            lines.append(f"{name}: {err['msg'].removeprefix('Value error, ')}")
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(lines)) from None


def prepare_data_dir(path: Path) -> Path:
    """Create the data directory private to the user (0700); tighten an existing one that others can enter."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if os.name == "posix":
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            with contextlib.suppress(OSError):  # not ours to change: the key file's own check still protects
                path.chmod(0o700)
    return path


@dataclass(frozen=True, slots=True)
class LocalProfile:
    """Who the local user is: the Spotify account ``login`` signed in, and the Spotify app it used.

    The refresh token is bound to that app, so ``stdio`` refreshes with the same ``client_id`` (and the same
    secret, kept sealed here when the login used one).
    """

    user_id: str
    display_name: str | None
    client_id: str
    client_secret_sealed: str | None
    scopes: tuple[str, ...]
    logged_in_at: float


def profile_path(data_dir: Path) -> Path:
    """Where the local profile lives."""
    return data_dir / PROFILE_FILE


def read_profile(data_dir: Path) -> LocalProfile | None:
    """The local profile, or None when nobody has signed in here (or the file is unreadable)."""
    try:
        raw: Any = json.loads(profile_path(data_dir).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"the local profile {profile_path(data_dir)} cannot be read ({type(exc).__name__}); "
            "run `spotify-mcp login` again"
        ) from None
    try:
        if raw.get("version") != PROFILE_VERSION:
            raise ValueError("unknown version")
        secret = raw.get("client_secret_sealed")
        return LocalProfile(
            user_id=_text(raw["user_id"]),
            display_name=raw.get("display_name") if isinstance(raw.get("display_name"), str) else None,
            client_id=_text(raw["client_id"]),
            client_secret_sealed=_text(secret) if secret is not None else None,
            scopes=tuple(_text(s) for s in raw["scopes"]),
            logged_in_at=float(raw["logged_in_at"]),
        )
    except (AttributeError, KeyError, TypeError, ValueError):
        raise ConfigError(
            f"the local profile {profile_path(data_dir)} is malformed; run `spotify-mcp login` again"
        ) from None


def write_profile(data_dir: Path, profile: LocalProfile) -> None:
    """Replace the local profile atomically (0600)."""
    target = profile_path(data_dir)
    partial = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    body = json.dumps({"version": PROFILE_VERSION, **asdict(profile)}, indent=2) + "\n"
    with contextlib.suppress(FileNotFoundError):
        partial.unlink()
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(body)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
        raise


def _text(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError("expected a non-empty string")
    return value
