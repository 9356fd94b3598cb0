"""The sealing key of local mode: ``SPOTIFY_MCP_SECRET_KEY`` if set, else ``<data dir>/local.key``.

The key file is generated once (32 random bytes, URL-safe base64, the same format as the environment
variable, so it may hold a comma-separated key ring too), created 0600 and refused when any other user
may read or write it, or when it belongs to someone else.
"""

from __future__ import annotations

import base64
import contextlib
import os
import secrets
import stat
from pathlib import Path

from spotify_mcp.crypto import KeyRing, KeyRingError
from spotify_mcp.settings import ConfigError

KEY_FILE = "local.key"
_MAX_KEY_FILE = 4096


class KeyFileError(ConfigError):
    """The key file is missing, unsafe or malformed; the message says what to do."""


def key_file_path(data_dir: Path) -> Path:
    """Where the generated key lives."""
    return data_dir / KEY_FILE


def local_key_ring(secret_key: str | None, data_dir: Path, *, create: bool) -> KeyRing:
    """The key ring local mode seals with: the configured one, else the key file (made if ``create``)."""
    if secret_key is not None:
        return KeyRing.parse(secret_key)
    path = key_file_path(data_dir)
    if create:
        _create(path)
    return read_key_file(path)


def read_key_file(path: Path) -> KeyRing:
    """Read a key file, refusing one that other users could read or change."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        raise KeyFileError(
            f"the key file {path} is missing, so the stored Spotify login cannot be opened; "
            "run `spotify-mcp login` again"
        ) from None
    except OSError as exc:
        raise KeyFileError(f"the key file {path} cannot be opened ({exc.strerror or exc})") from None
    with os.fdopen(fd, "rb") as handle:
        _check_private(path, os.fstat(handle.fileno()))
        raw = handle.read(_MAX_KEY_FILE + 1)
    if len(raw) > _MAX_KEY_FILE:
        raise KeyFileError(f"the key file {path} is too large to be a key file")
    try:
        return KeyRing.parse(raw.decode("ascii").strip())
    except (UnicodeDecodeError, KeyRingError):
        raise KeyFileError(
            f"the key file {path} does not hold a valid key; delete it and run `spotify-mcp login` again"
        ) from None


def _check_private(path: Path, info: os.stat_result) -> None:
    if not stat.S_ISREG(info.st_mode):
        raise KeyFileError(f"the key file {path} is not a regular file")
    if os.name != "posix":
        return
    if info.st_uid != os.getuid():
        raise KeyFileError(f"the key file {path} belongs to another user; it must be yours alone")
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o077:
        raise KeyFileError(
            f"the key file {path} is accessible to other users (mode {mode:04o}), so it is not used; "
            f"make it private with: chmod 600 {path}"
        )


def _create(path: Path) -> None:
    """Write a fresh key unless the file exists (a concurrent login may have just made it)."""
    key = base64.urlsafe_b64encode(secrets.token_bytes(32))
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except FileExistsError:
        return
    try:
        with os.fdopen(fd, "wb") as handle:
            if os.name == "posix":
                os.fchmod(handle.fileno(), 0o600)
            handle.write(key + b"\n")
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        raise
