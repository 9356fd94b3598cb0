"""The accounts service's HTML: the sign-in page (a plain form headless clients can walk) and error pages."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

from starlette.responses import HTMLResponse

from spotify_mcp.emulator.model import User

STYLE = "body{font-family:sans-serif;max-width:32rem;margin:3rem auto}label{display:block;margin:.4rem 0}"


def _document(title: str, body: str) -> str:
    return (
        f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f"<style>{STYLE}</style></head>\n<body>\n{body}\n</body></html>\n"
    )


def _checked(flag: bool) -> str:
    return " checked" if flag else ""


def sign_in_page(
    params: Mapping[str, str], users: Sequence[User], preselected: str, scopes: Sequence[str]
) -> HTMLResponse:
    """The emulated "Log in to Spotify" + consent page: hidden request parameters, a user per radio button."""
    hidden = "\n".join(
        f'<input type="hidden" name="{escape(name)}" value="{escape(value)}">' for name, value in params.items()
    )
    radios = "\n".join(
        f'<label><input type="radio" name="user" value="{escape(u.id)}"{_checked(u.id == preselected)}>'
        f" {escape(u.display_name)} ({escape(u.product)})</label>"
        for u in users
    )
    asked = "".join(f"<li>{escape(scope)}</li>" for scope in scopes) or "<li>your public profile</li>"
    body = (
        "<h1>Spotify emulator: sign in</h1>\n"
        f"<p>The app <code>{escape(params.get('client_id', ''))}</code> asks for:</p>\n<ul>{asked}</ul>\n"
        '<form method="post" action="/authorize">\n'
        f"{hidden}\n<fieldset><legend>Test user</legend>\n{radios}\n</fieldset>\n"
        '<button type="submit" name="action" value="approve">Agree</button>\n'
        '<button type="submit" name="action" value="deny">Cancel</button>\n'
        "</form>"
    )
    return HTMLResponse(_document("Log in - Spotify", body))


def error_page(code: str, description: str, status_code: int = 400) -> HTMLResponse:
    """Spotify's accounts error page, e.g. ``INVALID_CLIENT: Invalid redirect URI``."""
    body = f"<h1>Oops! Something went wrong</h1>\n<p>{escape(code)}: {escape(description)}</p>"
    return HTMLResponse(_document("Error - Spotify", body), status_code=status_code)
