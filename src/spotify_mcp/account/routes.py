"""The ``/account`` endpoints: the page, signing in and out, revoking, issuing tokens, deleting everything.

``GET /account`` shows the sign-in page, or with a live account session the account page. Every other
endpoint is a form post that must come from our own origin (``session.same_origin``) and carry the CSRF
token of its form: the sign-in form's is bound to a per-browser nonce, every other form's to the session.
A post that passes goes on and, unless it shows a page of its own, sends the browser back (303) to
``/account``. Pages carry the usual page headers (strict CSP, unframeable, ``no-store``); no CORS here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp

from spotify_mcp.account.listing import account_view
from spotify_mcp.account.page import account_page, deleted_page, signin_page, token_page
from spotify_mcp.account.pat import (
    TokenRequestError,
    delete_everything,
    issue_token,
    parse_token_request,
    revoke_access,
)
from spotify_mcp.account.session import (
    AccountSession,
    current_session,
    end_session,
    keep_signin_nonce,
    same_origin,
    signin_nonce,
    signin_token,
    signin_token_ok,
)
from spotify_mcp.account.signin import see_other, start_sign_in
from spotify_mcp.oauth.body import BadForm, BodyTooLarge, read_form
from spotify_mcp.services import Runtime, Services
from spotify_mcp.web.pages import error_page
from spotify_mcp.web.responses import form_action_sources, html_page

Handler = Callable[[Request], Awaitable[Response]]


class AccountEndpoints:
    """The handlers behind ``/account`` and its forms."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime

    def _page(self, services: Services, body: str, status: int = 200) -> Response:
        # Sign-in and "grant more" forms redirect to Spotify: CSP form-action must allow it.
        targets = form_action_sources(services.settings.spotify_accounts_url)
        return html_page(body, status=status, https=services.settings.is_https, form_action=targets)

    def _refused(self, services: Services, title: str, message: str, status: int = 403) -> Response:
        page = error_page(title, message, "Open /account to start again.")
        return html_page(page, status=status, https=services.settings.is_https)

    async def show(self, request: Request) -> Response:
        """GET /account: the account page, or the sign-in page without a session."""
        services = self._runtime.services
        session = current_session(request, services)
        if session is not None:
            return await self._account(services, session)
        nonce = signin_nonce(request, services)
        response = self._page(services, signin_page(signin_token(services, nonce)))
        keep_signin_nonce(response, services, nonce)
        return response

    async def _account(self, services: Services, session: AccountSession, *, error: str | None = None) -> Response:
        view = await account_view(services, session.user_id)
        body = account_page(view, session.csrf_token(services), now=services.clock.now(), error=error)
        return self._page(services, body, 400 if error else 200)

    async def _form(self, request: Request, services: Services) -> FormData | Response:
        if not same_origin(request, services.settings.issuer):
            return self._refused(services, "Request refused", "This form can only be sent from this server's page.")
        try:
            return await read_form(request)
        except (BadForm, BodyTooLarge) as exc:
            return self._refused(services, "Invalid request", str(exc), 400)

    async def _signed_in(self, request: Request, services: Services) -> tuple[AccountSession, FormData] | Response:
        form = await self._form(request, services)
        if isinstance(form, Response):
            return form
        session = current_session(request, services)
        if session is None:
            return self._refused(services, "You are signed out", "Your session ended: sign in again.")
        if not session.csrf_ok(services, str(form.get("csrf", ""))):
            return self._refused(services, "Request refused", "This form is not valid for your session.")
        return session, form

    async def signin(self, request: Request) -> Response:
        """POST /account/signin: off to Spotify to sign in, asking for no scopes."""
        services = self._runtime.services
        form = await self._form(request, services)
        if isinstance(form, Response):
            return form
        if not signin_token_ok(request, services, str(form.get("csrf", ""))):
            return self._refused(services, "Request refused", "This sign-in form is not valid for this browser.")
        return await start_sign_in(request, services)

    async def grant(self, request: Request) -> Response:
        """POST /account/grant: off to Spotify for the user's scopes plus every scope the server offers."""
        services = self._runtime.services
        checked = await self._signed_in(request, services)
        if isinstance(checked, Response):
            return checked
        session, _ = checked
        stored = await services.store.get_spotify_credentials(session.user_id)
        held = stored.scopes if stored is not None else ()
        return await start_sign_in(request, services, scopes=tuple(dict.fromkeys((*held, *services.settings.scopes))))

    async def signout(self, request: Request) -> Response:
        """POST /account/signout: forget the session."""
        services = self._runtime.services
        checked = await self._signed_in(request, services)
        if isinstance(checked, Response):
            return checked
        response = see_other(f"{services.settings.issuer}/account", https=services.settings.is_https)
        end_session(response, services)
        return response

    async def revoke(self, request: Request) -> Response:
        """POST /account/revoke: revoke one of the signed-in user's grants (404 for anyone else's)."""
        services = self._runtime.services
        checked = await self._signed_in(request, services)
        if isinstance(checked, Response):
            return checked
        session, form = checked
        if not await revoke_access(services, session.user_id, str(form.get("grant", ""))):
            return self._refused(services, "Not found", "You have no such application or token.", 404)
        return see_other(f"{services.settings.issuer}/account", https=services.settings.is_https)

    async def create_token(self, request: Request) -> Response:
        """POST /account/tokens: issue a personal access token and show it, once."""
        services = self._runtime.services
        checked = await self._signed_in(request, services)
        if isinstance(checked, Response):
            return checked
        session, form = checked
        view = await account_view(services, session.user_id)
        try:
            issued = await issue_token(services, session.user_id, parse_token_request(form, view.token_scopes))
        except TokenRequestError as exc:
            return await self._account(services, session, error=str(exc))
        return self._page(services, token_page(issued, services.settings.mcp_url))

    async def delete(self, request: Request) -> Response:
        """POST /account/delete: with the confirmation ticked, disconnect everything and sign out."""
        services = self._runtime.services
        checked = await self._signed_in(request, services)
        if isinstance(checked, Response):
            return checked
        session, form = checked
        if form.get("confirm") != "yes":
            return await self._account(services, session, error="Tick the box to confirm, then try again.")
        await delete_everything(services, session.user_id)
        response = self._page(services, deleted_page())
        end_session(response, services)
        return response


def account_routes(runtime: Runtime, wrap: Callable[[Handler], ASGIApp]) -> list[Route]:
    """The ``/account`` routes; ``wrap`` adds what every browser endpoint gets (store guard, rate limit)."""
    endpoints = AccountEndpoints(runtime)
    posts: dict[str, Handler] = {
        "signin": endpoints.signin,
        "grant": endpoints.grant,
        "signout": endpoints.signout,
        "revoke": endpoints.revoke,
        "tokens": endpoints.create_token,
        "delete": endpoints.delete,
    }
    routes = [Route("/account", wrap(endpoints.show), methods=["GET"])]
    routes += [Route(f"/account/{name}", wrap(handler), methods=["POST"]) for name, handler in posts.items()]
    return routes
