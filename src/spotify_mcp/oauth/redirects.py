"""Redirect URIs: what a client may register, and how a presented URI is matched against them.

Policy (MCP "localhost or HTTPS"; RFC 9700 §2.1 exact matching; RFC 8252 §7.1 and §7.3):

* ``https://`` URIs with a DNS name or IP-literal host;
* ``http://`` only on a loopback host: ``localhost``, a ``127.0.0.0/8`` literal, or ``[::1]``;
* private-use schemes of the reverse-domain form (``com.example.app:/callback``, which must contain a
  dot), for native apps; any other custom scheme (``myapp://``, ``cursor://``) is refused, so are
  ``javascript:``, ``data:``, ``file:`` and other dangerous schemes;
* never a fragment, userinfo, dot segments, whitespace, control or non-ASCII characters, or
  anything outside RFC 3986's character set; at most 2000 characters;
* no query parameter named like one we add to the redirect (``code``, ``state``, ``iss``, ``error``,
  ``error_description``, ``error_uri``), so each of those appears exactly once in a response.

The exact string is what is stored and compared; nothing is normalised.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import parse_qsl

MAX_URI_LENGTH = 2000

_URI_CHARS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*")
# RFC 3986 Appendix B, with the scheme made mandatory.
_SPLIT = re.compile(r"([^:/?#]+):(//([^/?#]*))?([^?#]*)(\?([^#]*))?(#(.*))?", re.DOTALL)
_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
_NUMERIC_LABEL = re.compile(r"0x[0-9a-f]*|[0-9]+")
_REVERSE_DOMAIN_SCHEME = re.compile(r"[a-z][a-z0-9-]*(\.[a-z0-9][a-z0-9-]*)+")
_LOOPBACK_V4 = ipaddress.IPv4Network("127.0.0.0/8")
_AUTHORITY = re.compile(r"[^/?#]*")
_DANGEROUS_SCHEMES = frozenset(
    {"javascript", "data", "file", "vbscript", "about", "blob", "filesystem", "view-source", "jar", "chrome"}
)
RESPONSE_PARAMETERS = frozenset({"code", "state", "iss", "error", "error_description", "error_uri"})


class InvalidRedirectURI(ValueError):
    """A URI that may not be registered (or parsed); ``reason`` says why, in words fit for a client."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class URIParts:
    """A URI split per RFC 3986; ``host`` is lowercased (IPv6 keeps its brackets), the rest is verbatim."""

    scheme: str
    host: str | None
    port: int | None
    path: str
    query: str | None
    fragment: str | None

    @property
    def path_and_query(self) -> str:
        """The path plus ``?query`` if there is one, exactly as written."""
        return self.path if self.query is None else f"{self.path}?{self.query}"


def split_uri(uri: str) -> URIParts:
    """Split an absolute URI strictly, raising InvalidRedirectURI for anything malformed or unsafe."""
    if not isinstance(uri, str) or not uri:
        raise InvalidRedirectURI("the URI is empty")
    if len(uri) > MAX_URI_LENGTH:
        raise InvalidRedirectURI(f"the URI is longer than {MAX_URI_LENGTH} characters")
    if not _URI_CHARS.fullmatch(uri):
        raise InvalidRedirectURI("the URI contains whitespace, control, non-ASCII or other disallowed characters")
    if _BAD_PERCENT.search(uri):
        raise InvalidRedirectURI("the URI contains a malformed percent-encoding")
    match = _SPLIT.fullmatch(uri)
    if match is None or not _SCHEME.fullmatch(match.group(1)):
        raise InvalidRedirectURI("the URI must be absolute (scheme:...)")
    authority = match.group(3)
    host: str | None = None
    port: int | None = None
    if authority is not None:
        host, port = _split_authority(authority)
    path = match.group(4)
    if any(segment.lower() in (".", "..", "%2e", "%2e%2e", ".%2e", "%2e.") for segment in path.split("/")):
        raise InvalidRedirectURI("the URI must not contain '.' or '..' path segments")
    return URIParts(match.group(1).lower(), host, port, path, match.group(6), match.group(8))


def _split_authority(authority: str) -> tuple[str, int | None]:
    if "@" in authority:
        raise InvalidRedirectURI("the URI must not contain userinfo (user@host)")
    if authority.startswith("["):
        literal, bracket, rest = authority[1:].partition("]")
        if not bracket or "%" in literal or (rest and not rest.startswith(":")):
            raise InvalidRedirectURI("the URI has a malformed IPv6 host")
        try:
            ipaddress.IPv6Address(literal)
        except ValueError:
            raise InvalidRedirectURI("the URI has a malformed IPv6 host") from None
        host, port_text = f"[{literal.lower()}]", rest[1:] if rest else None
    else:
        host, colon, port_text_raw = authority.partition(":")
        host, port_text = host.lower(), port_text_raw if colon else None
        _check_reg_name(host)
    port = None
    if port_text is not None:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise InvalidRedirectURI("the URI has an invalid port")
        port = int(port_text)
    return host, port


def _check_reg_name(host: str) -> None:
    labels = host.split(".")
    if not host or len(host) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise InvalidRedirectURI("the URI's host is not a valid DNS name or IP address")
    if _NUMERIC_LABEL.fullmatch(labels[-1]):
        # Browsers read a numeric last label as IPv4 (0x7f.1, 2130706433); only dotted-quad is allowed.
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            raise InvalidRedirectURI("the URI's host is not a valid DNS name or IP address") from None


def _is_loopback_host(host: str) -> bool:
    if host == "localhost" or host == "[::1]":
        return True
    try:
        return ipaddress.IPv4Address(host) in _LOOPBACK_V4
    except ValueError:
        return False


def validate_registered_redirect_uri(uri: str) -> str:
    """Return ``uri`` unchanged if a client may register it; raise InvalidRedirectURI otherwise."""
    scheme = uri.partition(":")[0].lower() if isinstance(uri, str) and ":" in uri else ""
    if scheme in _DANGEROUS_SCHEMES:
        raise InvalidRedirectURI(f"the '{scheme}:' scheme is not allowed for redirect URIs")
    parts = split_uri(uri)
    if parts.fragment is not None:
        raise InvalidRedirectURI("a redirect URI must not contain a fragment (#...)")
    if parts.query and RESPONSE_PARAMETERS & {name for name, _ in parse_qsl(parts.query, keep_blank_values=True)}:
        raise InvalidRedirectURI(
            "a redirect URI's query must not use a parameter the response adds (code, state, iss, error...)"
        )
    if parts.scheme == "https":
        if not parts.host:
            raise InvalidRedirectURI("an https redirect URI must name a host")
        return uri
    if parts.scheme == "http":
        if not parts.host or not _is_loopback_host(parts.host):
            raise InvalidRedirectURI("http redirect URIs are allowed only on loopback (127.0.0.1, [::1], localhost)")
        return uri
    if not _REVERSE_DOMAIN_SCHEME.fullmatch(parts.scheme):
        raise InvalidRedirectURI(
            "a redirect URI must use https, http on loopback, or a reverse-domain private-use scheme "
            "such as com.example.app:/callback"
        )
    if parts.host is None and not parts.path.startswith("/"):
        raise InvalidRedirectURI("a private-use scheme redirect URI must have a path, as in com.example.app:/callback")
    return uri


def validate_web_url(uri: str) -> str:
    """Return ``uri`` unchanged if it is an https URL (or http on loopback) fit for a link; else raise."""
    parts = split_uri(uri)
    if parts.scheme == "https" and parts.host:
        return uri
    if parts.scheme == "http" and parts.host and _is_loopback_host(parts.host):
        return uri
    raise InvalidRedirectURI("the URL must use https (or http on a loopback host)")


def is_loopback_redirect(uri: str) -> bool:
    """True if ``uri`` is an http or https URI on a loopback host; False otherwise, even if malformed."""
    try:
        parts = split_uri(uri)
    except InvalidRedirectURI:
        return False
    return parts.scheme in ("http", "https") and parts.host is not None and _is_loopback_host(parts.host)


def is_private_use_redirect(uri: str) -> bool:
    """True if ``uri`` uses a reverse-domain private-use scheme (a native app's own scheme)."""
    try:
        parts = split_uri(uri)
    except InvalidRedirectURI:
        return False
    return parts.scheme not in ("http", "https") and _REVERSE_DOMAIN_SCHEME.fullmatch(parts.scheme) is not None


def redirect_host(uri: str) -> str:
    """The host to show on the consent page (the scheme of a private-use URI); raise if ``uri`` is invalid."""
    validate_registered_redirect_uri(uri)
    parts = split_uri(uri)
    if parts.scheme in ("http", "https") and parts.host:
        return parts.host
    return parts.scheme


def redirect_uri_matches(registered: Sequence[str], presented: str) -> bool:
    """Match by exact string, except that a loopback http URI's port may differ (RFC 8252 §7.3)."""
    if not isinstance(presented, str):
        return False
    if presented in registered:
        return True
    loopback = _loopback_http_parts(presented)
    if loopback is None:
        return False
    return any(_loopback_http_parts(candidate) == loopback for candidate in registered)


def _loopback_http_parts(uri: str) -> tuple[str, str] | None:
    """(host, path and query) of a valid loopback http redirect URI, None for anything else."""
    try:
        validate_registered_redirect_uri(uri)
        parts = split_uri(uri)
    except InvalidRedirectURI:
        return None
    if parts.scheme != "http" or not uri.startswith("http://"):
        return None
    authority = _AUTHORITY.match(uri, len("http://"))
    assert authority is not None
    host = authority.group(0) if authority.group(0).endswith("]") else authority.group(0).rsplit(":", 1)[0]
    return host, parts.path_and_query


def host_allowed(host: str, allowlist: Sequence[str]) -> bool:
    """True if ``allowlist`` is empty or names ``host`` exactly, or by a ``*.suffix`` entry (subdomains only)."""
    if not allowlist:
        return True
    name = host.lower().strip("[]").rstrip(".")
    for entry in allowlist:
        pattern = entry.lower().strip("[]").rstrip(".")
        if pattern.startswith("*."):
            if name.endswith(pattern[1:]) and len(name) > len(pattern) - 1:
                return True
        elif name == pattern:
            return True
    return False


def redirect_uri_allowed(uri: str, allowlist: Sequence[str]) -> bool:
    """True if the redirect URI's host (a private-use URI's scheme) is allowed; an invalid URI never is."""
    try:
        return host_allowed(redirect_host(uri), allowlist)
    except InvalidRedirectURI:
        return False
