"""A headless "browser" for the npm clients' OAuth flow, run as ``$BROWSER URL`` (standard library only).

It plays the user: opens the authorization URL, submits our consent form and the Spotify emulator's sign-in form
with ``action=approve`` (and their hidden fields), and finally opens the client's own loopback callback exactly
as our server redirected to it. It talks to loopback only: a ``localhost`` URL is connected to 127.0.0.1 (with
its ``Host`` header kept), and any other host ends the walk with an error. Every request (before it is sent) and
every response is appended to the file named by ``BROWSER_SHIM_LOG`` as one JSON object per line, for the test.
"""

from __future__ import annotations

import http.client
import json
import os
import sys
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urljoin, urlsplit

LOOPBACK = {"127.0.0.1": "127.0.0.1", "localhost": "127.0.0.1"}
MAX_HOPS = 16
TIMEOUT = 10.0


class Form(HTMLParser):
    """The first form of a page: its action and the values it would submit (hidden, text, checked radio)."""

    def __init__(self) -> None:
        """Start with no form seen."""
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Record the form's action and the inputs a browser would send."""
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and self.action is None:
            self.action = a.get("action", "")
        elif tag == "input" and "name" in a:
            kind = a.get("type", "text")
            if kind in ("hidden", "text") or (kind == "radio" and "checked" in a):
                self.fields[a["name"]] = a.get("value", "")


class Browser:
    """A cookie-keeping client that only ever connects to 127.0.0.1."""

    def __init__(self, log_path: str | None) -> None:
        """Start with no cookies; log hops to ``log_path`` when given."""
        self.cookies: dict[str, dict[str, str]] = {}
        self.log_path = log_path

    def log(self, **entry: object) -> None:
        """Append one hop to the log file."""
        if self.log_path:
            with open(self.log_path, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(entry) + "\n")

    def request(self, method: str, url: str, body: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
        """Send one request (no redirect following); return status, lower-cased headers and the text body."""
        parts = urlsplit(url)
        if parts.scheme != "http" or parts.hostname not in LOOPBACK:
            raise SystemExit(f"browser shim: refusing to leave loopback: {url}")
        connection = http.client.HTTPConnection(LOOPBACK[parts.hostname], parts.port or 80, timeout=TIMEOUT)
        headers = {"Host": parts.netloc, "User-Agent": "spotify-mcp-test-browser"}
        jar = self.cookies.get(parts.hostname, {})
        if jar:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in jar.items())
        data = None
        if body is not None:
            data = urlencode(body).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = f"{parts.scheme}://{parts.netloc}"
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        self.log(method=method, url=url)  # before sending: the client cannot have the code before this line exists
        try:
            connection.request(method, target, body=data, headers=headers)
            response = connection.getresponse()
            text = response.read().decode("utf-8", "replace")
            for value in response.headers.get_all("Set-Cookie") or []:
                cookie = SimpleCookie()
                cookie.load(value)
                for name, morsel in cookie.items():
                    self.cookies.setdefault(parts.hostname, {})[name] = morsel.value
            result = response.status, {k.lower(): v for k, v in response.getheaders()}, text
        finally:
            connection.close()
        self.log(status=result[0], location=result[1].get("location"))
        return result

    def walk(self, url: str) -> int:
        """Follow redirects and approve every form until a page without a form; return its status."""
        status, headers, text = self.request("GET", url)
        for _ in range(MAX_HOPS):
            if status in (301, 302, 303, 307, 308):
                url = urljoin(url, headers["location"])
                status, headers, text = self.request("GET", url)
                continue
            if status == 200 and "<form" in text:
                form = Form()
                form.feed(text)
                url = urljoin(url, form.action or "")
                status, headers, text = self.request("POST", url, {**form.fields, "action": "approve"})
                continue
            self.log(done=status, text=text[:500])
            return status
        raise SystemExit("browser shim: too many hops")


def main(argv: list[str]) -> int:
    """Walk the authorization URL given as the only argument; exit 0 when the last page answered 200."""
    if len(argv) != 2:
        print("usage: browser.py URL", file=sys.stderr)
        return 2
    browser = Browser(os.environ.get("BROWSER_SHIM_LOG"))
    try:
        status = browser.walk(argv[1])
    except (OSError, SystemExit) as exc:
        browser.log(error=str(exc))
        print(f"browser shim: {exc}", file=sys.stderr)
        return 1
    return 0 if status == 200 else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
