"""Server-rendered HTML: the consent page and error pages (the account page: ``account/page.py``).

Everything interpolated is escaped.

No scripts, and one static stylesheet: the pages' Content-Security-Policy allows exactly ``STYLE`` by its
hash (``web/responses.py``), so editing it needs nothing else, but any other inline style is blocked.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from spotify_mcp.scopes import DESCRIPTIONS

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;background:#121212;color:#eee;margin:0}
main{max-width:34rem;margin:3rem auto;padding:2rem;background:#1e1e1e;border-radius:12px}
h1{font-size:1.4rem;margin-top:0;overflow-wrap:anywhere}
code{background:#2a2a2a;padding:.1rem .3rem;border-radius:4px;font-size:.85em;overflow-wrap:anywhere}
li code{white-space:nowrap}
.warn{background:#3a2a00;border-left:4px solid #f5b400;padding:.6rem .8rem;margin:1rem 0}
ul{padding-left:1.2rem}li{margin:.25rem 0}.muted{color:#aaa;font-size:.9rem}
.actions{display:flex;gap:1rem;margin-top:1.5rem}
button{font-size:1rem;padding:.7rem 1.4rem;border-radius:999px;border:0;cursor:pointer}
button[value=approve]{background:#1db954;color:#000;font-weight:600}
button[value=deny]{background:#333;color:#eee}
@media (max-width:36rem){main{margin:0;border-radius:0;padding:1.25rem}}
h2{font-size:1.1rem;margin:2rem 0 .5rem}
.card{border:1px solid #333;border-radius:8px;padding:.75rem 1rem;margin:.75rem 0}
.card p{margin:.3rem 0}.card form{margin:.5rem 0 0}
.row{display:flex;gap:.75rem;align-items:center;flex-wrap:wrap}
button.small{font-size:.9rem;padding:.45rem 1.1rem;background:#333;color:#eee}
button.primary{background:#1db954;color:#000;font-weight:600}
button.danger{background:#a11d1d;color:#fff}
.field{display:block;margin:.6rem 0}
input[type=text],select{font:inherit;padding:.45rem .6rem;border-radius:6px;border:1px solid #444}
input[type=text],select{background:#2a2a2a;color:#eee}
fieldset{border:1px solid #333;border-radius:8px;margin:.6rem 0}
pre{background:#2a2a2a;padding:.6rem .8rem;border-radius:6px;white-space:pre-wrap;overflow-wrap:anywhere}
pre{font-size:.85rem}a{color:#1ed760}
.ok{background:#0f3a22;border-left:4px solid #1db954;padding:.6rem .8rem;margin:1rem 0}
"""


def _document(title: str, body: str) -> str:
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body><main>{body}</main></body></html>"
    )


def document(title: str, body: str) -> str:
    """A whole page around ``body`` (HTML whose interpolated parts the caller escaped), with the stylesheet."""
    return _document(title, body)


def error_page(title: str, message: str, hint: str | None = None) -> str:
    """A page for errors we must not redirect (unknown client, bad redirect URI, bad state)."""
    hint_html = f"<p class=muted>{escape(hint)}</p>" if hint else ""
    return _document(title, f"<h1>{escape(title)}</h1><p>{escape(message)}</p>{hint_html}")


def not_allowed_page() -> str:
    """Spotify refused the signed-in user (a development-mode app whose allow-list lacks them)."""
    return error_page(
        "Your Spotify account cannot use this server yet",
        "Spotify refused access: this server's Spotify app is in development mode and your account "
        "is not on its list of allowed users.",
        "Ask the server's owner to add your Spotify e-mail in the Spotify Developer Dashboard "
        "(your app → Settings → User Management), then connect again. Development-mode apps allow "
        "at most 5 users.",
    )


def consent_page(
    *,
    client_name: str,
    client_id_host: str | None,
    redirect_host: str,
    loopback_only: bool,
    scopes: Sequence[str],
    request_id: str,
    csrf_token: str,
    redirect_uri: str | None = None,
    offer_remember: bool = False,
    remembered: bool = False,
) -> str:
    """The page where a person approves or denies an MCP client's access to their Spotify account."""
    items = "".join(
        f"<li>{escape(DESCRIPTIONS.get(s, s))} <span class=muted>(<code>{escape(s)}</code>)</span></li>"
        for s in scopes
        if s in DESCRIPTIONS
    )
    origin = (
        f"<p class=muted>Its identity is published by <strong>{escape(client_id_host)}</strong>.</p>"
        if client_id_host
        else "<p class=muted>This application registered itself with this server; its name is not verified.</p>"
    )
    warning = (
        "<div class=warn>This application can only send you back to <strong>your own computer</strong> "
        f"(<code>{escape(redirect_host)}</code>): the app runs on this device; make sure you trust it. "
        "Approve only if you just started it yourself.</div>"
        if loopback_only
        else ""
    )
    full_uri = f" <span class=muted>(<code>{escape(redirect_uri)}</code>)</span>" if redirect_uri else ""
    notice = (
        "<p class=muted>You allowed this application in this browser before. Continue only if you just asked "
        "it to connect.</p>"
        if remembered
        else ""
    )
    remember = (
        f"<p><label><input type=checkbox name=remember value=1{' checked' if remembered else ''}> "
        "Remember this application in this browser</label></p>"
        if offer_remember
        else ""
    )
    body = f"""
<h1>Allow <strong>{escape(client_name)}</strong> to use your Spotify account?</h1>
{origin}
{notice}
<p>After you approve and sign in to Spotify, access is handed to <strong>{escape(redirect_host)}</strong>{full_uri}.</p>
{warning}
<p>It will be able to:</p><ul>{items or "<li>See your public Spotify profile</li>"}</ul>
<p class=muted>Your Spotify password and Spotify tokens stay on this server; the application only gets
a token for this server, which you can revoke.</p>
<form method=post action="/consent">
<input type=hidden name=request value="{escape(request_id)}">
<input type=hidden name=csrf value="{escape(csrf_token)}">
{remember}
<div class=actions>
<button type=submit name=action value=approve>Allow and continue to Spotify</button>
<button type=submit name=action value=deny>Deny</button>
</div></form>"""
    return _document(f"Allow {client_name}?", body)
