"""The key ring, sealing of stored secrets, token generation, hashing and PKCE.

Built on ``cryptography`` (AES-256-GCM, HKDF); what it adds is the key-ring format: every sealed value
names the key that sealed it, so keys can be rotated without logging anyone out.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import secrets
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_HELP = (
    'generate one with: python -c "import base64,secrets; '
    'print(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())"'
)
_SEAL_VERSION = "v1"
_PKCE_VERIFIER = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")


class KeyRingError(ValueError):
    """The configured secret key ring is malformed."""


class UnsealError(ValueError):
    """A sealed value could not be opened: unknown key, wrong context, or tampering."""


def _b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _derive(key: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"spotify-mcp/" + purpose).derive(key)


@dataclass(frozen=True, slots=True)
class _Key:
    kid: str
    aead: AESGCM
    mac_key: bytes


class KeyRing:
    """An ordered set of 32-byte keys: the first seals and signs, all of them open and verify."""

    def __init__(self, raw_keys: list[bytes]) -> None:
        if not raw_keys:
            raise KeyRingError(f"the key ring is empty; {KEY_HELP}")
        self._keys = [
            _Key(
                kid=hashlib.sha256(b"kid" + k).hexdigest()[:8],
                aead=AESGCM(_derive(k, b"seal")),
                mac_key=_derive(k, b"mac"),
            )
            for k in raw_keys
        ]
        self._by_kid = {k.kid: k for k in self._keys}

    @classmethod
    def parse(cls, value: str) -> KeyRing:
        """Parse a comma-separated list of URL-safe base64 keys (44 characters, 32 bytes each)."""
        raw: list[bytes] = []
        for position, part in enumerate((p.strip() for p in value.split(",")), start=1):
            if len(part) != 44:
                raise KeyRingError(
                    f"key {position} of SPOTIFY_MCP_SECRET_KEY is {len(part)} characters long, "
                    f"expected 44 (32 random bytes in URL-safe base64); {KEY_HELP}"
                )
            try:
                key = base64.b64decode(part, altchars=b"-_", validate=True)
            except binascii.Error:
                raise KeyRingError(
                    f"key {position} of SPOTIFY_MCP_SECRET_KEY is not URL-safe base64; {KEY_HELP}"
                ) from None
            if len(key) != 32:
                raise KeyRingError(f"key {position} of SPOTIFY_MCP_SECRET_KEY is not 32 bytes; {KEY_HELP}")
            raw.append(key)
        return cls(raw)

    @classmethod
    def ephemeral(cls) -> KeyRing:
        """Make a throwaway one-key ring (the demo uses it: nothing survives a restart)."""
        return cls([os.urandom(32)])

    @property
    def kids(self) -> tuple[str, ...]:
        """The ids of the ring's keys, in order: the current one first."""
        return tuple(k.kid for k in self._keys)

    @property
    def current_kid(self) -> str:
        """The id of the key that seals new values."""
        return self._keys[0].kid

    def seal(self, plaintext: str, context: str) -> str:
        """Encrypt and authenticate ``plaintext``, bound to ``context`` (e.g. the owning user id)."""
        key = self._keys[0]
        nonce = os.urandom(12)
        ciphertext = key.aead.encrypt(nonce, plaintext.encode(), context.encode())
        return f"{_SEAL_VERSION}.{key.kid}.{_b64e(nonce + ciphertext)}"

    def unseal(self, sealed: str, context: str) -> str:
        """Decrypt a value sealed by any key of the ring under the same ``context``."""
        try:
            version, kid, body = sealed.split(".", 2)
            key = self._by_kid[kid]
            blob = _b64d(body)
        except (ValueError, KeyError, binascii.Error):
            raise UnsealError("sealed value is malformed or was sealed by a key not in the ring") from None
        if version != _SEAL_VERSION or len(blob) < 28:
            raise UnsealError("sealed value has an unknown format")
        try:
            return key.aead.decrypt(blob[:12], blob[12:], context.encode()).decode()
        except InvalidTag:
            raise UnsealError("sealed value failed authentication") from None

    def is_current(self, sealed: str) -> bool:
        """Tell whether ``sealed`` was made with the current key (otherwise re-seal it)."""
        return sealed.split(".", 2)[1:2] == [self.current_kid]

    def sign(self, message: str) -> str:
        """Return an HMAC-SHA256 tag of ``message`` under the current key."""
        key = self._keys[0]
        tag = hmac.new(key.mac_key, message.encode(), hashlib.sha256).digest()
        return f"{key.kid}.{_b64e(tag)}"

    def verify(self, message: str, signature: str) -> bool:
        """Check a tag made by ``sign`` with any key of the ring, in constant time."""
        kid, _, tag = signature.partition(".")
        key = self._by_kid.get(kid)
        if key is None:
            return False
        expected = _b64e(hmac.new(key.mac_key, message.encode(), hashlib.sha256).digest())
        return hmac.compare_digest(expected, tag)


def kid_of(sealed: str) -> str | None:
    """Return the id of the key that sealed a value (without opening it), or None when it is not a sealed value."""
    parts = sealed.split(".", 2)
    return parts[1] if len(parts) == 3 and parts[0] == _SEAL_VERSION and parts[1] else None


def generate_key() -> str:
    """Return a fresh key for the ring: 32 random bytes in URL-safe base64 (44 characters)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii")


def new_secret(prefix: str) -> str:
    """Return a fresh 256-bit URL-safe secret with a recognisable prefix (e.g. ``smcp_at_``)."""
    return prefix + secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    """Return the SHA-256 hex digest under which a high-entropy secret is stored."""
    return hashlib.sha256(secret.encode()).hexdigest()


def secrets_equal(a: str, b: str) -> bool:
    """Compare two secrets in constant time."""
    return hmac.compare_digest(a.encode(), b.encode())


def pkce_challenge(verifier: str) -> str:
    """Return the S256 code challenge of a PKCE verifier."""
    return _b64e(hashlib.sha256(verifier.encode("ascii")).digest())


def new_pkce_verifier() -> str:
    """Return a fresh 43-character PKCE code verifier."""
    return secrets.token_urlsafe(32)


def is_valid_pkce_verifier(verifier: str) -> bool:
    """Tell whether a string has the shape RFC 7636 requires of a code verifier."""
    return _PKCE_VERIFIER.fullmatch(verifier) is not None


def verify_pkce(verifier: str, challenge: str) -> bool:
    """Check a PKCE S256 verifier against its challenge in constant time."""
    if not is_valid_pkce_verifier(verifier):
        return False
    return hmac.compare_digest(pkce_challenge(verifier), challenge)
