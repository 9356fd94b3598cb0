"""The key ring: sealing, rotation, signatures, PKCE, and refusing malformed keys."""

from __future__ import annotations

import base64
import secrets

import pytest

from spotify_mcp.crypto import (
    KeyRing,
    KeyRingError,
    UnsealError,
    hash_secret,
    new_pkce_verifier,
    new_secret,
    pkce_challenge,
    verify_pkce,
)


def key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def test_a_sealed_value_opens_only_in_its_own_context() -> None:
    ring = KeyRing.parse(key())
    sealed = ring.seal("spotify-refresh-token", "user:alice")
    assert "spotify-refresh-token" not in sealed
    assert ring.unseal(sealed, "user:alice") == "spotify-refresh-token"
    with pytest.raises(UnsealError):
        ring.unseal(sealed, "user:mallory")


def test_a_tampered_value_does_not_open() -> None:
    ring = KeyRing.parse(key())
    sealed = ring.seal("secret", "ctx")
    flipped = sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1]
    with pytest.raises(UnsealError):
        ring.unseal(flipped, "ctx")


def test_rotation_keeps_old_values_readable_and_seals_with_the_new_key() -> None:
    old, new = key(), key()
    before = KeyRing.parse(old)
    sealed = before.seal("v", "c")
    after = KeyRing.parse(f"{new},{old}")
    assert after.unseal(sealed, "c") == "v"
    assert not after.is_current(sealed)
    assert after.is_current(after.seal("v", "c"))
    assert after.verify("m", before.sign("m"))


def test_a_value_sealed_by_a_dropped_key_cannot_be_opened() -> None:
    sealed = KeyRing.parse(key()).seal("v", "c")
    with pytest.raises(UnsealError):
        KeyRing.parse(key()).unseal(sealed, "c")


FIXED_KEY = base64.urlsafe_b64encode(bytes(range(32))).decode()


@pytest.mark.parametrize(
    "value",
    ["short", "x" * 44, base64.urlsafe_b64encode(b"y" * 33).decode()[:44], FIXED_KEY + ",", "", FIXED_KEY[:-1] + "!"],
)
def test_malformed_keys_are_refused_with_a_command_to_generate_one(value: str) -> None:
    with pytest.raises(KeyRingError, match="generate one with"):
        KeyRing.parse(value)


def test_signatures_do_not_verify_other_messages() -> None:
    ring = KeyRing.parse(key())
    assert ring.verify("a", ring.sign("a"))
    assert not ring.verify("b", ring.sign("a"))
    assert not ring.verify("a", "nokid.abc")


def test_secrets_are_prefixed_high_entropy_and_stored_by_hash() -> None:
    token = new_secret("smcp_at_")
    assert token.startswith("smcp_at_")
    assert len(token) >= len("smcp_at_") + 43
    assert hash_secret(token) != token
    assert len(hash_secret(token)) == 64


def test_pkce_verifies_only_the_matching_verifier() -> None:
    verifier = new_pkce_verifier()
    challenge = pkce_challenge(verifier)
    assert verify_pkce(verifier, challenge)
    assert not verify_pkce(new_pkce_verifier(), challenge)
    assert not verify_pkce("short", pkce_challenge("short"))
