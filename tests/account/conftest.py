"""Fixtures and helpers of the account-page tests: a running server, more browsers, and the page's forms."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin

import httpx2

from spotify_mcp.services import Services
from tests.support import EMULATOR, PUBLIC, Harness, parse_form

SAME_ORIGIN = {"Origin": PUBLIC, "Sec-Fetch-Site": "same-origin"}
ACCOUNT = f"{PUBLIC}/account"


def services(h: Harness) -> Services:
    """The running server's services (store, clock, settings)."""
    running: Services = h.app.state.runtime.services
    return running


def new_browser(h: Harness) -> httpx2.AsyncClient:
    """Another browser (its own cookies) on the same server and emulator."""
    mounts = {PUBLIC: httpx2.ASGITransport(app=h.app), EMULATOR: httpx2.ASGITransport(app=h.emulator)}
    return httpx2.AsyncClient(mounts=mounts)


@dataclass
class Form:
    """One form of a page: where it posts, its hidden fields, its checkbox names and its buttons' labels."""

    action: str
    fields: dict[str, str] = field(default_factory=dict)
    checkboxes: list[str] = field(default_factory=list)
    buttons: list[str] = field(default_factory=list)


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self._in_button = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(a.get("action", "")))
        elif tag == "input" and self.forms and "name" in a:
            if a.get("type") == "hidden":
                self.forms[-1].fields[a["name"]] = a.get("value", "")
            elif a.get("type") == "checkbox":
                self.forms[-1].checkboxes.append(a["name"])
        elif tag == "button" and self.forms:
            self._in_button = True
            self.forms[-1].buttons.append(a.get("aria-label", ""))

    def handle_data(self, data: str) -> None:
        if self._in_button and not self.forms[-1].buttons[-1]:
            self.forms[-1].buttons[-1] = data.strip()

    def handle_endtag(self, tag: str) -> None:
        if tag == "button":
            self._in_button = False


def forms(html: str) -> list[Form]:
    """Every form of a page."""
    parser = _Forms()
    parser.feed(html)
    return parser.forms


def form(html: str, action: str, button: str | None = None) -> Form:
    """The one form posting to ``/account/<action>`` (with a button labelled ``button``, if given)."""
    found = [f for f in forms(html) if f.action == f"/account/{action}" and (button is None or button in f.buttons)]
    assert len(found) == 1, (action, button, [(f.action, f.buttons) for f in forms(html)])
    return found[0]


async def post(
    http: httpx2.AsyncClient, action: str, data: dict[str, str], headers: dict[str, str] | None = None
) -> httpx2.Response:
    """Post an account form as our own page would (same origin), unless ``headers`` says otherwise."""
    return await http.post(f"{ACCOUNT}/{action}", data=data, headers=SAME_ORIGIN if headers is None else headers)


async def to_spotify_and_back(http: httpx2.AsyncClient, to_spotify: httpx2.Response, user: str) -> httpx2.Response:
    """Sign in at the emulator as ``user`` and return our /callback's answer."""
    assert to_spotify.status_code == 302, to_spotify.text
    page = await http.get(to_spotify.headers["location"])
    fields = {**parse_form(page.text).fields, "user": user, "action": "approve"}
    back = await http.post(f"{EMULATOR}/authorize", data=fields, headers={"Origin": EMULATOR})
    assert back.status_code == 302, back.text
    return await http.get(urljoin(EMULATOR, back.headers["location"]))


async def sign_in(h: Harness, http: httpx2.AsyncClient | None = None, *, user: str = "premium-user") -> str:
    """Sign in to the account page with Spotify as ``user``; return the account page's HTML."""
    browser = http or h.http
    start = await browser.get(ACCOUNT)
    assert start.status_code == 200, start.text
    to_spotify = await post(browser, "signin", form(start.text, "signin").fields)
    callback = await to_spotify_and_back(browser, to_spotify, user)
    assert callback.status_code == 303, callback.text
    assert callback.headers["location"] == ACCOUNT
    page = await browser.get(ACCOUNT)
    assert page.status_code == 200, page.text
    assert "Sign out" in page.text
    return page.text


async def create_token(
    http: httpx2.AsyncClient, page: str, name: str, scopes: list[str], days: str = "30"
) -> httpx2.Response:
    """Submit the new-token form of an account page."""
    fields = form(page, "tokens").fields
    data = {**fields, "name": name, "expires_days": days, **{f"scope:{s}": "1" for s in scopes}}
    return await post(http, "tokens", data)


async def mcp_status(h: Harness, token: str) -> int:
    """What /mcp answers an initialize request with ``token`` as the bearer (200 when it is accepted)."""
    body = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}}
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json, text/event-stream"}
    return (await h.http.post(f"{PUBLIC}/mcp", json=body, headers=headers)).status_code
