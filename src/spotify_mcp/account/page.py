"""The account page's HTML: sign-in, the list of accesses, the token form, the token shown once. All escaped."""

from __future__ import annotations

import time
from collections.abc import Sequence
from html import escape

from spotify_mcp.account.listing import Access, AccountView
from spotify_mcp.account.pat import EXPIRY_DAYS, MAX_NAME_LENGTH, SCOPE_FIELD, IssuedToken
from spotify_mcp.scopes import DESCRIPTIONS
from spotify_mcp.web.pages import document

DEFAULT_EXPIRY_DAYS = 30


def when(timestamp: float) -> str:
    """A time as the page shows it (UTC, to the minute)."""
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(timestamp))


def _form(action: str, csrf: str, inner: str, **hidden: str) -> str:
    fields = "".join(f'<input type=hidden name="{escape(k)}" value="{escape(v)}">' for k, v in hidden.items())
    return (
        f'<form method=post action="/account/{action}"><input type=hidden name=csrf value="{escape(csrf)}">'
        f"{fields}{inner}</form>"
    )


def _permissions(scopes: Sequence[str]) -> str:
    known = [s for s in scopes if s in DESCRIPTIONS]
    if not known:
        return "<p class=muted>No Spotify permissions: public data only.</p>"
    items = "".join(
        f"<li>{escape(DESCRIPTIONS[s])} <span class=muted>(<code>{escape(s)}</code>)</span></li>" for s in known
    )
    count = f"{len(known)} permission{'s' if len(known) != 1 else ''}"
    return f"<details><summary>{count}</summary><ul>{items}</ul></details>"


def _card(access: Access, csrf: str, now: float) -> str:
    used = when(access.last_used_at) if access.last_used_at is not None else "never"
    if access.expires_at is None:
        origin = f" <span class=muted>{escape(access.origin)}</span>"
        dates = f"Connected {when(access.created_at)} · last used {used}"
        if access.lapsed:
            dates += " · expired: it will ask you again next time"
    else:
        origin = " <span class=muted>personal access token</span>"
        ends = "expired" if access.expires_at <= now else "expires"
        dates = f"Created {when(access.created_at)} · {ends} {when(access.expires_at)} · last used {used}"
    button = f'<button class=small type=submit aria-label="Revoke {escape(access.name)}">Revoke</button>'
    return (
        f"<div class=card><p><strong>{escape(access.name)}</strong>{origin}</p><p class=muted>{dates}</p>"
        f"{_permissions(access.scopes)}{_form('revoke', csrf, button, grant=access.grant_id)}</div>"
    )


def signin_page(csrf: str) -> str:
    """The page shown without an account session: what it is, and a button to sign in with Spotify."""
    button = "<div class=actions><button class=primary type=submit>Sign in with Spotify</button></div>"
    body = f"""
<h1>Your access to this Spotify MCP server</h1>
<p>Sign in with Spotify to see which applications can use your Spotify account through this server, revoke
any of them, create personal access tokens, or delete everything this server stores about you.</p>
<p class=muted>Signing in asks Spotify for no permissions and changes nothing your applications can do.</p>
{_form("signin", csrf, button)}"""
    return document("Your account", body)


def _token_form(view: AccountView, csrf: str) -> str:
    if not view.token_scopes:
        return "<p class=muted>This server holds no Spotify permissions for you yet: grant them below first.</p>"
    boxes = "".join(
        f'<label class=field><input type=checkbox name="{escape(SCOPE_FIELD + s)}" value=1> '
        f"{escape(DESCRIPTIONS.get(s, s))} <span class=muted>(<code>{escape(s)}</code>)</span></label>"
        for s in view.token_scopes
    )
    options = "".join(
        f"<option value={d}{' selected' if d == DEFAULT_EXPIRY_DAYS else ''}>{d} days</option>" for d in EXPIRY_DAYS
    )
    inner = (
        f"<label class=field>Name <input type=text name=name maxlength={MAX_NAME_LENGTH} required "
        'placeholder="LibreChat"></label>'
        f"<fieldset><legend>Permissions</legend>{boxes}</fieldset>"
        f"<label class=field>Expires after <select name=expires_days>{options}</select></label>"
        "<div class=actions><button class=primary type=submit>Create token</button></div>"
    )
    return _form("tokens", csrf, inner)


def account_page(view: AccountView, csrf: str, *, now: float, error: str | None = None) -> str:
    """The signed-in page: applications, personal access tokens, and disconnecting everything."""
    who = escape(view.display_name or view.user_id)
    apps = "".join(_card(a, csrf, now) for a in view.applications) or (
        "<p class=muted>No application has access to your Spotify account through this server.</p>"
    )
    tokens = "".join(_card(t, csrf, now) for t in view.tokens) or "<p class=muted>You have no tokens.</p>"
    problem = f"<div class=warn role=alert>{escape(error)}</div>" if error else ""
    more = (
        _form(
            "grant",
            csrf,
            "<p class=muted>Sign in at Spotify again to give this server every permission its tools use "
            "(your applications keep exactly what they have).</p>"
            "<button class=small type=submit>Grant more permissions at Spotify</button>",
        )
        if view.can_grant_more
        else ""
    )
    confirm = (
        "<label class=field><input type=checkbox name=confirm value=yes required> I understand: every application "
        "and token loses access, and this server forgets my Spotify account</label>"
        "<button class=danger type=submit>Disconnect everything and delete my data</button>"
    )
    body = f"""
<h1>Your Spotify MCP account</h1>
<div class=row><p>Signed in as <strong>{who}</strong> <span class=muted>(<code>{escape(view.user_id)}</code>)</span></p>
{_form("signout", csrf, "<button class=small type=submit>Sign out</button>")}</div>
{problem}
<h2>Applications with access</h2>
{apps}
<h2>Personal access tokens</h2>
<p class=muted>For clients that only take a fixed <code>Authorization</code> header, such as LibreChat's
<code>headers</code> or your own scripts. A token is shown once, when you create it.</p>
{tokens}
<h3>New token</h3>
{_token_form(view, csrf)}
{more}
<h2>Disconnect everything</h2>
<p>Revoke every application and token above and delete what this server stores about you, your Spotify
tokens included. Applications will have to ask you again.</p>
{_form("delete", csrf, confirm)}"""
    return document("Your account", body)


def token_page(issued: IssuedToken, mcp_url: str) -> str:
    """The one time a personal access token is shown, ready to paste."""
    token = escape(issued.token)
    snippet = (
        f"mcpServers:\n  spotify:\n    type: streamable-http\n    url: {escape(mcp_url)}\n"
        f'    headers:\n      Authorization: "Bearer {token}"'
    )
    body = f"""
<h1>Token created: {escape(issued.name)}</h1>
<div class=ok>Copy it now: it is shown only this once. Anyone holding it can use your Spotify account
with the permissions below until {escape(when(issued.expires_at))}; revoke it on your account page if it leaks.</div>
<p>Token:</p><pre id=token>{token}</pre>
<p>As an HTTP header for <code>{escape(mcp_url)}</code>:</p><pre id=header>Authorization: Bearer {token}</pre>
<p>In LibreChat's <code>librechat.yaml</code>:</p><pre id=librechat>{snippet}</pre>
{_permissions(issued.scopes)}
<p><a href="/account">Back to your account</a></p>"""
    return document("Token created", body)


def deleted_page() -> str:
    """After disconnecting everything."""
    body = """
<h1>Everything is disconnected</h1>
<p>Every application and token lost access, and this server deleted your Spotify tokens and everything it
kept about you. You are signed out.</p>
<p class=muted>To use Spotify through this server again, connect an application: it will ask you as the first
time. You can also remove this server's app from your Spotify account at spotify.com/account/apps.</p>"""
    return document("Everything is disconnected", body)
