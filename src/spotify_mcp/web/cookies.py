"""Cookies: ``__Host-``, Secure, HttpOnly, SameSite=Lax on https.

On a loopback http deployment (the demo, tests) the ``__Host-`` prefix and ``Secure`` are dropped,
because browsers and HTTP clients will not return Secure cookies over plain http there.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response


def cookie_name(base: str, *, https: bool) -> str:
    """The cookie's name on this deployment."""
    return f"__Host-{base}" if https else base


def set_cookie(response: Response, base: str, value: str, *, max_age: int, https: bool) -> None:
    """Set a host-only, script-invisible, same-site-lax cookie."""
    response.set_cookie(
        cookie_name(base, https=https),
        value,
        max_age=max_age,
        path="/",
        secure=https,
        httponly=True,
        samesite="lax",
    )


def clear_cookie(response: Response, base: str, *, https: bool) -> None:
    """Expire a cookie set by ``set_cookie``."""
    response.delete_cookie(cookie_name(base, https=https), path="/", secure=https, httponly=True, samesite="lax")


def get_cookie(request: Request, base: str, *, https: bool) -> str | None:
    """Read a cookie set by ``set_cookie``."""
    return request.cookies.get(cookie_name(base, https=https))
