"""Signing in to the account page with Spotify, through the same upstream machinery as the consent page.

A sign-in is an authorization request of the reserved client ``smcp_account`` (which no OAuth endpoint
accepts, ``oauth/clients.py``), approved at once by ``oauth/consent.approve_and_redirect``: a fresh single-use
upstream ``state`` (10 minutes), our own PKCE pair toward Spotify and the browser-binding cookie; Spotify then
sends the browser to the one ``/callback``, which hands requests of that client to ``finish``.

``finish`` exchanges the code and reads ``/me`` to learn who signed in, then discards the Spotify tokens: a
sign-in asks Spotify for no scopes, and storing its tokens would narrow what every client of that user relies
on. "Grant more permissions" (``purpose=grant``) asks for the user's current scopes plus the server's, and
stores the tokens only if they hold at least what was stored before. Either way the browser gets an account
session and goes (303) to ``/account``.
"""

from __future__ import annotations

import logging
import secrets

from starlette.requests import Request
from starlette.responses import Response

from spotify_mcp.account.session import start_session
from spotify_mcp.oauth.clients import ACCOUNT_CLIENT_ID
from spotify_mcp.oauth.consent import UPSTREAM_TTL, approve_and_redirect, binding_cookie, verifier_context
from spotify_mcp.observability.observers import NO_OAUTH
from spotify_mcp.services import Services
from spotify_mcp.spotify.errors import SpotifyAPIError, SpotifyAuthError, SpotifyUnavailable
from spotify_mcp.store.records import AuthRequestRecord
from spotify_mcp.web.cookies import clear_cookie
from spotify_mcp.web.pages import error_page, not_allowed_page
from spotify_mcp.web.responses import html_page, redirect

SIGN_IN = "sign-in"
GRANT = "grant"
logger = logging.getLogger(__name__)


def see_other(location: str, *, https: bool) -> Response:
    """A 303 to ``location`` (after a form post or the sign-in), with the redirect security headers."""
    response = redirect(location, https=https)
    response.status_code = 303
    return response


async def start_sign_in(request: Request, services: Services, *, scopes: tuple[str, ...] = ()) -> Response:
    """Send the browser to Spotify to sign in (no scopes) or, given ``scopes``, to grant them."""
    now = services.clock.now()
    pending = AuthRequestRecord(
        request_id=secrets.token_urlsafe(24),
        client_id=ACCOUNT_CLIENT_ID,
        redirect_uri=f"{services.settings.issuer}/account",
        scopes=scopes,
        code_challenge="",
        resource=services.settings.mcp_url,
        client_state=GRANT if scopes else SIGN_IN,
        created_at=now,
        expires_at=now + UPSTREAM_TTL,
    )
    await services.store.add_auth_request(pending)
    return await approve_and_redirect(pending, services, NO_OAUTH, request=request, remember=None)


async def finish_sign_in(request: Request, pending: AuthRequestRecord, state: str, services: Services) -> Response:
    """Complete an account sign-in at ``/callback`` (state and browser binding already checked)."""
    https = services.settings.is_https
    params = request.query_params

    def page(status: int, title: str, message: str) -> Response:
        response = html_page(error_page(title, message, "Open /account to try again."), status=status, https=https)
        clear_cookie(response, binding_cookie(state), https=https)
        return response

    code = params.get("code", "")
    if "error" in params or not code or len(code) > 2048:
        return page(400, "Sign-in cancelled", "Spotify did not sign you in.")
    try:
        verifier = services.keys.unseal(pending.upstream_verifier_sealed or "", verifier_context(pending.request_id))
        tokens = await services.accounts.exchange_code(
            code=code, redirect_uri=services.settings.callback_url, code_verifier=verifier
        )
        profile = await services.spotify.me_with_token(tokens.access_token)
    except SpotifyAPIError as exc:
        if exc.status == 403:
            refused = html_page(not_allowed_page(), status=403, https=https)
            clear_cookie(refused, binding_cookie(state), https=https)
            return refused
        logger.warning("Spotify /me failed after an account sign-in: status %s", exc.status)
        return page(502, "Sign-in failed", "Spotify did not return your profile.")
    except SpotifyAuthError as exc:
        logger.warning("Spotify code exchange failed for an account sign-in: %s", exc.error)
        return page(502, "Sign-in failed", "Spotify refused the sign-in.")
    except SpotifyUnavailable:
        return page(503, "Sign-in failed", "Spotify could not be reached. Try again in a moment.")
    user_id = str(profile["id"])
    if pending.client_state == GRANT:
        existing = await services.store.get_spotify_credentials(user_id)
        granted = set(tokens.scopes) or set(pending.scopes)
        if existing is None or granted >= set(existing.scopes):
            display_name = profile.get("display_name")
            await services.credentials.save_login(
                user_id=user_id, display_name=display_name if isinstance(display_name, str) else None, tokens=tokens
            )
        else:
            logger.warning("an account sign-in returned fewer Spotify scopes than stored: tokens discarded")
    response = see_other(f"{services.settings.issuer}/account", https=https)
    start_session(response, services, user_id)
    clear_cookie(response, binding_cookie(state), https=https)
    return response
