"""``/callback``: Spotify sends the browser back here after sign-in.

We refuse a malformed response (a repeated parameter, both ``code`` and ``error``, or an ``iss`` that
is not Spotify's) before touching any state, then check the upstream state (single use) and the browser
binding, exchange Spotify's code, read ``/me`` once, store the user's Spotify tokens sealed, mint our own
single-use code and send the browser back to the MCP client with ``code``, ``state`` and ``iss``.
Sign-ins of the account page (client ``smcp_account``) pass the same checks, then ``account/signin.py``
completes them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import Response

from spotify_mcp.account.signin import finish_sign_in
from spotify_mcp.crypto import hash_secret, new_secret, secrets_equal
from spotify_mcp.oauth.clients import ACCOUNT_CLIENT_ID
from spotify_mcp.oauth.consent import binding_cookie, verifier_context
from spotify_mcp.oauth.redirect_response import redirect_to_client
from spotify_mcp.oauth.tokens import CODE_PREFIX
from spotify_mcp.observability.observers import NO_OAUTH, OAuthObserver
from spotify_mcp.scopes import OFFLINE_ACCESS
from spotify_mcp.services import Runtime, Services
from spotify_mcp.spotify.errors import SpotifyAPIError, SpotifyAuthError, SpotifyUnavailable
from spotify_mcp.store.records import AuthCodeRecord, AuthRequestRecord
from spotify_mcp.web.cookies import clear_cookie, get_cookie
from spotify_mcp.web.pages import error_page, not_allowed_page
from spotify_mcp.web.responses import html_page

CODE_TTL = 300
logger = logging.getLogger(__name__)


class CallbackEndpoint:
    """Completes the Spotify leg and hands our code to the MCP client."""

    def __init__(self, runtime: Runtime, *, metrics: OAuthObserver = NO_OAUTH) -> None:
        self._runtime = runtime
        self._metrics = metrics

    async def __call__(self, request: Request) -> Response:
        """Handle Spotify's redirect."""
        services = self._runtime.services
        https = services.settings.is_https
        params = request.query_params
        names = [name for name, _ in params.multi_items()]
        if (
            len(names) != len(set(names))
            or ("code" in params and "error" in params)
            or params.get("iss", services.settings.spotify_accounts_url) != services.settings.spotify_accounts_url
        ):
            return self._page(400, "Invalid sign-in response", "The response from Spotify is malformed.")
        state = params.get("state", "")
        if not state or len(state) > 200:
            return self._page(400, "Invalid sign-in response", "The response from Spotify has no valid state.")
        pending = await services.store.take_auth_request_by_state(hash_secret(state), services.clock.now())
        if pending is None:
            return self._page(
                400,
                "This sign-in has expired",
                "This Spotify sign-in is unknown, was already completed, or took longer than 10 minutes.",
            )
        binding = get_cookie(request, binding_cookie(state), https=https)
        if not binding or not secrets_equal(hash_secret(binding), pending.binding_hash or ""):
            return self._page(
                403,
                "Sign-in refused",
                "This sign-in was started in a different browser. Start again from your application.",
            )
        if pending.client_id == ACCOUNT_CLIENT_ID:
            return await finish_sign_in(request, pending, state, services)

        def back(**fields: str | None) -> Response:
            self._metrics.callback(_outcome(fields))
            response = redirect_to_client(
                pending.redirect_uri,
                issuer=services.settings.issuer,
                state=pending.client_state,
                https=https,
                **fields,
            )
            clear_cookie(response, binding_cookie(state), https=https)
            return response

        if "error" in params:
            denied = params.get("error") == "access_denied"
            return back(
                error="access_denied" if denied else "server_error",
                error_description="the user declined at Spotify" if denied else "Spotify reported an error",
            )
        code = params.get("code", "")
        if not code or len(code) > 2048:
            return back(error="server_error", error_description="Spotify returned no authorization code")
        return await self._complete(pending, code, services, back)

    async def _complete(
        self, pending: AuthRequestRecord, code: str, services: Services, back: Callable[..., Response]
    ) -> Response:
        try:
            verifier = services.keys.unseal(
                pending.upstream_verifier_sealed or "", verifier_context(pending.request_id)
            )
            tokens = await services.accounts.exchange_code(
                code=code, redirect_uri=services.settings.callback_url, code_verifier=verifier
            )
            profile = await services.spotify.me_with_token(tokens.access_token)
        except SpotifyAPIError as exc:
            if exc.status == 403:
                self._metrics.callback("error")
                return html_page(not_allowed_page(), status=403, https=services.settings.is_https)
            logger.warning("Spotify /me failed after sign-in: status %s", exc.status)
            return back(error="server_error", error_description="Spotify did not return your profile")
        except SpotifyAuthError as exc:
            logger.warning("Spotify code exchange failed: %s", exc.error)
            return back(error="server_error", error_description="Spotify refused the sign-in")
        except SpotifyUnavailable:
            return back(error="temporarily_unavailable", error_description="Spotify could not be reached")

        user_id = str(profile.get("id", ""))
        if not user_id:
            return back(error="server_error", error_description="Spotify returned a profile without an id")
        display_name = profile.get("display_name")
        await services.credentials.save_login(
            user_id=user_id,
            display_name=display_name if isinstance(display_name, str) else None,
            tokens=tokens,
        )
        granted = set(tokens.scopes) or set(pending.scopes)
        scopes = tuple(s for s in pending.scopes if s in granted or s == OFFLINE_ACCESS)
        our_code = new_secret(CODE_PREFIX)
        now = services.clock.now()
        await services.store.add_code(
            AuthCodeRecord(
                code_hash=hash_secret(our_code),
                client_id=pending.client_id,
                redirect_uri=pending.redirect_uri,
                scopes=scopes,
                code_challenge=pending.code_challenge,
                resource=pending.resource,
                user_id=user_id,
                created_at=now,
                expires_at=now + CODE_TTL,
            )
        )
        logger.info("authorization completed for client %s", pending.client_id)
        return back(code=our_code)

    def _page(self, status: int, title: str, message: str, hint: str | None = None) -> Response:
        self._metrics.callback("error")
        https = self._runtime.services.settings.is_https
        return html_page(error_page(title, message, hint), status=status, https=https)


def _outcome(fields: dict[str, str | None]) -> str:
    """The funnel outcome of a redirect back to the client: ``success``, ``denied`` or ``error``."""
    if fields.get("code"):
        return "success"
    return "denied" if fields.get("error") == "access_denied" else "error"
