"""Security headers and cookies, in process (no browser): on a loopback http deployment and on an https one.

Every HTML page: a strict CSP (nothing loads, the one stylesheet by hash, no scripts, forms only to known
targets, unframeable), X-Frame-Options DENY, nosniff, no cross-origin referrer, never cached. Redirects and
secret-bearing JSON: never cached, no referrer. https: HSTS everywhere a browser looks, and ``__Host-`` cookies
that are Secure, HttpOnly, SameSite=Lax, Path=/ and host-only; loopback http drops only ``Secure`` and the prefix.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx2
import pytest

from spotify_mcp.web.pages import STYLE
from spotify_mcp.web.responses import form_action_sources, page_csp
from tests.support import CLIENT_REDIRECT, EMULATOR, PUBLIC, Harness, code_form, harness, parse_form, pkce

pytestmark = pytest.mark.anyio

HTTPS_PUBLIC = "https://mcp.example.com"
HSTS = "max-age=63072000; includeSubDomains"


@dataclass
class Site:
    """A running deployment and a cookie-keeping client that reaches it at its public URL."""

    h: Harness
    http: httpx2.AsyncClient
    base: str
    https: bool

    async def register(self) -> str:
        body = {"client_name": "Header Test", "redirect_uris": [CLIENT_REDIRECT], "token_endpoint_auth_method": "none"}
        response = await self.http.post(f"{self.base}/register", json=body)
        assert response.status_code == 201, response.text
        assert_secret_json(response)
        client_id: str = response.json()["client_id"]
        return client_id

    async def authorize(self, client_id: str) -> tuple[httpx2.Response, str]:
        """GET /authorize; return its 302 response and the PKCE verifier."""
        verifier, challenge = pkce()
        params = {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": CLIENT_REDIRECT,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "state": "st",
            "resource": f"{self.base}/mcp",
        }
        response = await self.http.get(f"{self.base}/authorize", params=params)
        assert response.status_code == 302, response.text
        return response, verifier

    async def consent(self) -> tuple[httpx2.Response, str, str]:
        """Register a client and open its consent page; return the page, the client id and the verifier."""
        client_id = await self.register()
        redirect, verifier = await self.authorize(client_id)
        page = await self.http.get(redirect.headers["location"])
        assert page.status_code == 200, page.text
        return page, client_id, verifier

    async def approve(self, page: httpx2.Response) -> httpx2.Response:
        """Submit the consent form from our own origin."""
        form = parse_form(page.text)
        return await self.http.post(
            urljoin(str(page.url), form.action or ""),
            data={**form.fields, "action": "approve"},
            headers={"Origin": self.base},
        )


@pytest.fixture(params=["loopback-http", "https"])
async def site(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Site]:
    """The server on loopback http (the demo, tests) and behind an https public URL."""
    if request.param == "loopback-http":
        async with harness(tmp_path) as h:
            yield Site(h, h.http, PUBLIC, https=False)
        return
    async with harness(tmp_path, public_url=HTTPS_PUBLIC) as h:
        mounts = {
            HTTPS_PUBLIC: httpx2.ASGITransport(app=h.app),
            EMULATOR: httpx2.ASGITransport(app=h.emulator),
        }
        async with httpx2.AsyncClient(mounts=mounts) as http:
            yield Site(h, http, HTTPS_PUBLIC, https=True)


def directives(csp: str) -> dict[str, list[str]]:
    """A Content-Security-Policy header as directive → source list."""
    parsed: dict[str, list[str]] = {}
    for part in csp.split(";"):
        name, *sources = part.split()
        assert name not in parsed, f"{name} twice in {csp}"
        parsed[name] = sources
    return parsed


def style_hash(html: str) -> str:
    """The CSP hash source of the page's one inline stylesheet, as a browser computes it."""
    styles = re.findall(r"<style>(.*?)</style>", html, flags=re.DOTALL)
    assert len(styles) == 1, styles
    return "'sha256-" + base64.b64encode(hashlib.sha256(styles[0].encode()).digest()).decode() + "'"


def assert_hsts(response: httpx2.Response, https: bool) -> None:
    if https:
        assert response.headers["strict-transport-security"] == HSTS
    else:
        assert "strict-transport-security" not in response.headers


def assert_html_page(response: httpx2.Response, *, https: bool) -> dict[str, list[str]]:
    """The page headers every HTML page carries; return its CSP for further checks."""
    assert response.headers["content-type"].startswith("text/html")
    csp_header = response.headers["content-security-policy"]
    assert "unsafe" not in csp_header
    csp = directives(csp_header)
    assert csp["default-src"] == ["'none'"]
    assert "script-src" not in csp  # so default-src 'none' forbids every script
    assert csp["style-src"] == [style_hash(response.text)]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["base-uri"] == ["'none'"]
    assert csp["form-action"][0] == "'self'"
    assert "<script" not in response.text
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    # same-origin, not no-referrer: no Referer ever leaves for another origin, and our own form posts keep an
    # exact Origin header (a no-referrer page makes browsers send "Origin: null", which /consent refuses).
    assert response.headers["referrer-policy"] == "same-origin"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"
    assert_hsts(response, https)
    return csp


def assert_redirect(response: httpx2.Response, *, https: bool) -> None:
    assert response.status_code == 302
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert_hsts(response, https)


def assert_secret_json(response: httpx2.Response) -> None:
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"
    assert response.headers["x-content-type-options"] == "nosniff"


@dataclass
class Cookie:
    name: str
    value: str
    attributes: dict[str, str]


def set_cookies(response: httpx2.Response) -> list[Cookie]:
    """Every Set-Cookie of a response, attribute names lower-cased."""
    cookies = []
    for header in response.headers.get_list("set-cookie"):
        pair, *attrs = [part.strip() for part in header.split(";")]
        name, _, value = pair.partition("=")
        attributes = {}
        for attr in attrs:
            key, _, val = attr.partition("=")
            attributes[key.lower()] = val
        cookies.append(Cookie(name, value, attributes))
    return cookies


def assert_cookie_attributes(cookie: Cookie, base_name: str, *, https: bool) -> None:
    """``__Host-``, Secure, HttpOnly, SameSite=Lax, Path=/, no Domain on https; loopback drops Secure and prefix."""
    assert cookie.name == (f"__Host-{base_name}" if https else base_name)
    assert "httponly" in cookie.attributes
    assert cookie.attributes["samesite"].lower() == "lax"
    assert cookie.attributes["path"] == "/"
    assert "domain" not in cookie.attributes
    assert ("secure" in cookie.attributes) is https


async def test_every_html_page_carries_the_strict_page_headers(site: Site) -> None:
    pages: dict[str, httpx2.Response] = {}
    pages["home"] = await site.http.get(f"{site.base}/")
    pages["consent"], _, _ = await site.consent()
    pages["unknown client"] = await site.http.get(
        f"{site.base}/authorize", params={"client_id": "nobody", "redirect_uri": CLIENT_REDIRECT}
    )
    pages["expired consent"] = await site.http.get(f"{site.base}/consent", params={"request": "unknown"})
    pages["cross-origin post"] = await site.http.post(
        f"{site.base}/consent", data={"action": "approve"}, headers={"Origin": "https://attacker.example"}
    )
    pages["forged consent"] = await site.http.post(
        f"{site.base}/consent", data={"action": "approve", "request": "x", "csrf": "y"}, headers={"Origin": site.base}
    )
    pages["bad callback"] = await site.http.get(f"{site.base}/callback", params={"state": "unknown"})
    statuses = {name: response.status_code for name, response in pages.items()}
    assert statuses == {
        "home": 200,
        "consent": 200,
        "unknown client": 400,
        "expired consent": 400,
        "cross-origin post": 403,
        "forged consent": 403,
        "bad callback": 400,
    }
    for name, response in pages.items():
        try:
            csp = assert_html_page(response, https=site.https)
        except (AssertionError, KeyError) as exc:
            raise AssertionError(f"{name} page: {exc!r}") from exc
        if name != "consent":
            assert csp["form-action"] == ["'self'"], name


async def test_the_consent_form_may_reach_spotify_and_the_client_redirect_and_nothing_else(site: Site) -> None:
    # Browsers apply form-action to the redirects that follow a form post: approve redirects to Spotify's
    # accounts service, deny back to the client. Without both, Chromium blocks the sign-in at consent.
    page, _, _ = await site.consent()
    csp = assert_html_page(page, https=site.https)
    assert csp["form-action"] == ["'self'", EMULATOR, "http://127.0.0.1:3030"]


async def test_redirects_are_never_cached_and_send_no_referrer(site: Site) -> None:
    client_id = await site.register()
    to_consent, verifier = await site.authorize(client_id)
    assert_redirect(to_consent, https=site.https)
    page = await site.http.get(to_consent.headers["location"])
    to_spotify = await site.approve(page)
    assert_redirect(to_spotify, https=site.https)
    assert to_spotify.headers["location"].startswith(f"{EMULATOR}/authorize?")
    signed_in = await site.http.get(to_spotify.headers["location"])
    form = parse_form(signed_in.text)
    back = await site.http.post(f"{EMULATOR}{form.action}", data={**form.fields, "action": "approve"})
    to_client = await site.http.get(back.headers["location"])
    assert_redirect(to_client, https=site.https)
    query = parse_qs(urlsplit(to_client.headers["location"]).query)
    assert query["iss"] == [site.base]

    # The code buys tokens, and that JSON (like the registration above) is never cached.
    tokens = await site.http.post(
        f"{site.base}/token", data=code_form(query["code"][0], verifier, client_id, resource=f"{site.base}/mcp")
    )
    assert tokens.status_code == 200, tokens.text
    assert_secret_json(tokens)
    replay = await site.http.post(
        f"{site.base}/token", data=code_form(query["code"][0], verifier, client_id, resource=f"{site.base}/mcp")
    )
    assert replay.status_code == 400
    assert_secret_json(replay)


async def test_sign_in_cookies_are_host_only_http_only_same_site_lax_and_secure_on_https(site: Site) -> None:
    page, _, _ = await site.consent()
    (csrf,) = set_cookies(page)
    assert_cookie_attributes(csrf, "smcp_csrf", https=site.https)
    assert int(csrf.attributes["max-age"]) == 600

    approved = await site.approve(page)
    assert approved.status_code == 302, approved.text
    cookies = {cookie.name: cookie for cookie in set_cookies(approved)}
    prefix = "__Host-" if site.https else ""
    binding = [cookie for name, cookie in cookies.items() if name.startswith(f"{prefix}smcp_bind_")]
    assert len(binding) == 1, cookies
    assert_cookie_attributes(binding[0], binding[0].name.removeprefix(prefix), https=site.https)
    assert int(binding[0].attributes["max-age"]) == 600
    # The CSRF cookie is spent: cleared with the same attributes it was set with.
    cleared = cookies[csrf.name]
    assert_cookie_attributes(cleared, "smcp_csrf", https=site.https)
    assert cleared.attributes["max-age"] == "0"

    # And the cookies work: the browser binding is honoured at /callback and the client gets its code.
    signed_in = await site.http.get(approved.headers["location"])
    form = parse_form(signed_in.text)
    back = await site.http.post(f"{EMULATOR}{form.action}", data={**form.fields, "action": "approve"})
    to_client = await site.http.get(back.headers["location"])
    assert to_client.status_code == 302, to_client.text
    assert parse_qs(urlsplit(to_client.headers["location"]).query)["code"][0].startswith("smcp_ac_")
    final = {cookie.name: cookie for cookie in set_cookies(to_client)}
    assert final[binding[0].name].attributes["max-age"] == "0"


def test_the_page_policy_allows_exactly_the_page_stylesheet() -> None:
    csp = directives(page_csp())
    digest = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
    assert csp["style-src"] == [f"'sha256-{digest}'"]
    assert csp["form-action"] == ["'self'"]
    assert directives(page_csp("https://accounts.spotify.com"))["form-action"] == [
        "'self'",
        "https://accounts.spotify.com",
    ]


@pytest.mark.parametrize(
    ("urls", "sources"),
    [
        (
            ("https://accounts.spotify.com", "http://127.0.0.1:3030/callback?x=1"),
            "https://accounts.spotify.com http://127.0.0.1:3030",
        ),
        (("https://Accounts.Spotify.com/authorize",), "https://accounts.spotify.com"),
        (("https://app.example/cb", "https://app.example/other"), "https://app.example"),
        (("com.example.app:/oauth/callback",), "com.example.app:"),
        (("http://[::1]:8080/cb",), "http://[::1]:8080"),
        (("https://user@app.example/cb",), "https://app.example"),
        (("https://app.example/cb;script-src 'unsafe-inline'", "", "relative/path"), ""),
    ],
)
def test_form_action_sources_are_origins_or_schemes_and_never_break_the_policy(
    urls: tuple[str, ...], sources: str
) -> None:
    assert form_action_sources(*urls) == sources
