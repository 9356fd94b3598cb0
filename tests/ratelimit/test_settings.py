"""SPOTIFY_MCP_RATE_LIMITS and SPOTIFY_MCP_TRUSTED_PROXIES: defaults, overrides, ``off``, and clear errors."""

from __future__ import annotations

import pytest

from spotify_mcp.settings import ConfigError, load_settings
from spotify_mcp.web.ratelimit import DEFAULT_LIMITS, Limit, parse_rate_limits


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    monkeypatch.chdir(str(tmp_path))
    for name in ("SPOTIFY_MCP_RATE_LIMITS", "SPOTIFY_MCP_TRUSTED_PROXIES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SPOTIFY_CLIENT_ID", "id")
    monkeypatch.setenv("SPOTIFY_CLIENT_SECRET", "secret")


def test_every_group_is_limited_by_default() -> None:
    assert dict(DEFAULT_LIMITS) == {
        "register": Limit(20, 3600),
        "authorize": Limit(60, 60),
        "consent": Limit(30, 60),
        "callback": Limit(30, 60),
        "token": Limit(120, 60),
        "revoke": Limit(60, 60),
        "tools": Limit(300, 60),
    }
    settings = load_settings()
    assert settings.rate_limits == ""
    assert settings.trusted_proxies == ()
    assert parse_rate_limits(settings.rate_limits).limits == DEFAULT_LIMITS


def test_the_spec_overrides_the_named_groups_and_keeps_the_others(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPOTIFY_MCP_RATE_LIMITS", " register=5/600 , TOKEN = 200/60,tools=off,")
    limits = parse_rate_limits(load_settings().rate_limits)
    assert limits.get("register") == Limit(5, 600)
    assert limits.get("token") == Limit(200, 60)
    assert limits.get("tools") is None
    assert limits.get("consent") == DEFAULT_LIMITS["consent"]
    assert str(limits.get("register")) == "5/600"


@pytest.mark.parametrize("spec", ["off", "OFF", " off "])
def test_off_disables_every_limit(spec: str) -> None:
    limits = parse_rate_limits(spec)
    assert not limits.enabled
    assert all(limits.get(group) is None for group in DEFAULT_LIMITS)


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ("tokens=5/60", "unknown rate-limit name 'tokens'; the names are register, authorize"),
        ("token", "has no '='"),
        ("token=5", "not count/seconds"),
        ("token=5/1.5", "not count/seconds"),
        ("token=-5/60", "not count/seconds"),
        ("token=five/60", "not count/seconds"),
        ("token=0/60", "allows 0 requests; give 1 to"),
        ("token=5/0", "window of 0 s; give 1 to 86400"),
        ("token=5/100000", "window of 100000 s"),
        ("token=5/60,token=6/60", "given twice"),
        ("off,token=5/60", "'off' has no '='.*or off to disable rate limiting"),
    ],
)
def test_a_malformed_spec_is_refused_with_what_to_write(
    monkeypatch: pytest.MonkeyPatch, spec: str, problem: str
) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_rate_limits(spec)
    monkeypatch.setenv("SPOTIFY_MCP_RATE_LIMITS", spec)
    with pytest.raises(ConfigError, match="SPOTIFY_MCP_RATE_LIMITS: "):
        load_settings()


def test_an_unknown_group_cannot_be_asked_for() -> None:
    with pytest.raises(KeyError, match="unknown rate-limit group"):
        parse_rate_limits("").get("tool")


def test_trusted_proxies_are_addresses_or_networks_normalised(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPOTIFY_MCP_TRUSTED_PROXIES", "10.0.0.5, 172.16.0.0/12 fd00::/8,10.1.2.3/8,10.0.0.5")
    assert load_settings().trusted_proxies == ("10.0.0.5/32", "172.16.0.0/12", "fd00::/8", "10.0.0.0/8")


@pytest.mark.parametrize("value", ["proxy.internal", "10.0.0.0/33", "10.0.0.300", "*"])
def test_a_trusted_proxy_that_is_not_an_address_is_refused(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("SPOTIFY_MCP_TRUSTED_PROXIES", f"10.0.0.1,{value}")
    with pytest.raises(ConfigError, match=r"SPOTIFY_MCP_TRUSTED_PROXIES: .* is not an IP address or CIDR network"):
        load_settings()
