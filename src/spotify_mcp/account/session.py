"""The account session: a signed cookie naming the signed-in Spotify user, and the CSRF tokens of the account forms.

The session cookie holds a random session id, an expiry (at most ``SESSION_TTL`` ahead) and the Spotify user
id, signed together with the key ring (HMAC); nothing is stored server-side, so signing out clears the cookie
and a copied cookie works until it expires. Every form of a signed-in page carries a token signed over the
session id, so it is worthless with any other session. The sign-in form, shown before there is a session,
carries a token bound to a random per-browser nonce cookie, as the consent form does.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

from spotify_mcp.services import Services
from spotify_mcp.web.cookies import clear_cookie, get_cookie, set_cookie

SESSION_COOKIE = "smcp_account"
SIGNIN_COOKIE = "smcp_account_csrf"
SESSION_TTL = 1800
SIGNIN_TTL = 600
MAX_COOKIE_LENGTH = 1024


@dataclass(frozen=True, slots=True)
class AccountSession:
    """Who is signed in to the account page, until when."""

    user_id: str
    session_id: str
    expires_at: int

    def csrf_token(self, services: Services) -> str:
        """The token every form of this session's pages carries."""
        return services.keys.sign(_csrf_message(self.session_id, self.user_id))

    def csrf_ok(self, services: Services, token: str) -> bool:
        """Whether a submitted form token was made for this session."""
        return bool(token) and services.keys.verify(_csrf_message(self.session_id, self.user_id), token)


def _csrf_message(session_id: str, user_id: str) -> str:
    return f"account-csrf:v1\n{session_id}\n{user_id}"


def _session_message(session_id: str, expires_at: int, user_id: str) -> str:
    return f"account-session:v1\n{session_id}\n{expires_at}\n{user_id}"


def _encode(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()


def start_session(response: Response, services: Services, user_id: str) -> None:
    """Sign ``user_id`` in: set a fresh session cookie on ``response``."""
    session_id = secrets.token_urlsafe(18)
    expires_at = int(services.clock.now()) + SESSION_TTL
    signature = services.keys.sign(_session_message(session_id, expires_at, user_id))
    value = f"{session_id}.{expires_at}.{_encode(user_id)}.{signature}"
    set_cookie(response, SESSION_COOKIE, value, max_age=SESSION_TTL, https=services.settings.is_https)


def end_session(response: Response, services: Services) -> None:
    """Sign out: expire the session cookie."""
    clear_cookie(response, SESSION_COOKIE, https=services.settings.is_https)


def current_session(request: Request, services: Services) -> AccountSession | None:
    """The live session the request's cookie proves, or None (absent, forged, tampered or expired)."""
    value = get_cookie(request, SESSION_COOKIE, https=services.settings.is_https)
    if not value or len(value) > MAX_COOKIE_LENGTH:
        return None
    parts = value.split(".", 3)
    if len(parts) != 4:
        return None
    session_id, expires_text, encoded, signature = parts
    try:
        expires_at = int(expires_text)
        user_id = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    now = services.clock.now()
    if not user_id or not (now < expires_at <= now + SESSION_TTL):
        return None
    if not services.keys.verify(_session_message(session_id, expires_at, user_id), signature):
        return None
    return AccountSession(user_id, session_id, expires_at)


def signin_nonce(request: Request, services: Services) -> str:
    """This browser's sign-in nonce: the one its cookie holds, or a new one (set it with ``keep_signin_nonce``)."""
    nonce = get_cookie(request, SIGNIN_COOKIE, https=services.settings.is_https)
    return nonce if nonce and len(nonce) <= 100 else secrets.token_urlsafe(24)


def keep_signin_nonce(response: Response, services: Services, nonce: str) -> None:
    """Set (or renew) the sign-in nonce cookie."""
    set_cookie(response, SIGNIN_COOKIE, nonce, max_age=SIGNIN_TTL, https=services.settings.is_https)


def signin_token(services: Services, nonce: str) -> str:
    """The sign-in form's token, bound to the browser's nonce."""
    return services.keys.sign(f"account-signin:v1\n{nonce}")


def signin_token_ok(request: Request, services: Services, token: str) -> bool:
    """Whether a submitted sign-in form token was made for this browser."""
    nonce = get_cookie(request, SIGNIN_COOKIE, https=services.settings.is_https)
    return bool(nonce and token) and services.keys.verify(f"account-signin:v1\n{nonce}", token)


def same_origin(request: Request, issuer: str) -> bool:
    """Whether a form post comes from our own pages: Fetch Metadata if sent, and an Origin (or Referer) naming us."""
    if request.headers.get("sec-fetch-site", "same-origin") != "same-origin":
        return False
    parts = urlsplit(issuer)
    ours = f"{parts.scheme}://{parts.netloc}"
    origin = request.headers.get("origin")
    if origin is not None:
        return origin == ours
    referer = request.headers.get("referer")
    return referer is not None and (referer == ours or referer.startswith(ours + "/"))
