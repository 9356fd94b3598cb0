"""The Store contract every backend must pass (``STORE_FACTORIES`` in conftest): OAuth state and sweep.

Spotify credentials, refresh leases and user deletion are in ``test_contract_spotify.py``.
"""

from __future__ import annotations

import dataclasses
import math

import pytest

from spotify_mcp.store.base import CodeRedemption, RedeemOutcome, RotateOutcome, Store
from spotify_mcp.store.records import RequestStatus, TokenKind

from .builders import NOW, auth_request, client, code, grant, issue, pair, race, token

pytestmark = pytest.mark.anyio


async def approve(
    store: Store, request_id: str = "r1", *, state: str = "state-1", expires_at: float = NOW + 600
) -> bool:
    """Approve a request with fixed upstream values."""
    return await store.approve_auth_request(
        request_id,
        upstream_state_hash=state,
        upstream_verifier_sealed="sealed-verifier",
        binding_hash="binding",
        expires_at=expires_at,
        now=NOW,
    )


# -- lifecycle -------------------------------------------------------------------------------------
async def test_a_migrated_store_answers_a_ping_and_reports_its_version(store: Store) -> None:
    await store.ping()
    assert await store.schema_version() >= 1


async def test_migrating_again_changes_nothing(store: Store) -> None:
    await store.add_client(client())
    version = await store.schema_version()
    await store.migrate()
    assert await store.schema_version() == version
    assert await store.get_client("c1") == client()


# -- clients ---------------------------------------------------------------------------------------
async def test_public_and_confidential_clients_round_trip(store: Store) -> None:
    public, confidential = client("pub"), client("conf", secret_hash="sha256-of-secret")
    await store.add_client(public)
    await store.add_client(confidential)
    assert await store.get_client("pub") == public
    assert await store.get_client("conf") == confidential
    assert await store.get_client("nobody") is None


async def test_clients_are_listed_oldest_first(store: Store) -> None:
    for client_id, created_at in (("b", NOW + 1), ("c", NOW + 2), ("a", NOW)):
        await store.add_client(client(client_id, created_at=created_at))
    assert [c.client_id for c in await store.list_clients()] == ["a", "b", "c"]


async def test_touching_a_client_records_when_it_was_used(store: Store) -> None:
    await store.add_client(client())
    await store.touch_client("c1", NOW + 5)
    await store.touch_client("nobody", NOW + 5)
    assert await store.get_client("c1") == dataclasses.replace(client(), last_used_at=NOW + 5)


async def test_deleting_a_client_removes_its_grants_tokens_codes_and_requests(store: Store) -> None:
    for client_id in ("c1", "c2"):
        await store.add_client(client(client_id))
        await store.add_auth_request(auth_request(f"r-{client_id}", client_id=client_id))
        await store.add_code(code(f"unused-{client_id}", client_id=client_id))
        await issue(store, f"g-{client_id}", client_id=client_id)
    assert await store.delete_client("c1") is True
    assert await store.get_client("c1") is None
    assert await store.get_auth_request("r-c1", NOW) is None
    assert await store.get_code("unused-c1") is None
    assert await store.get_code("code-g-c1") is None
    assert await store.get_grant("g-c1") is None
    assert await store.get_token("at-g-c1") is None
    assert await store.get_token("rt-g-c1") is None
    assert await store.get_client("c2") is not None
    assert await store.get_auth_request("r-c2", NOW) is not None
    assert await store.get_code("unused-c2") is not None
    assert await store.get_grant("g-c2") is not None
    assert await store.get_token("rt-g-c2") is not None


async def test_deleting_an_unknown_client_returns_false(store: Store) -> None:
    assert await store.delete_client("nobody") is False


# -- authorization requests ------------------------------------------------------------------------
async def test_an_auth_request_round_trips_until_it_expires(store: Store) -> None:
    request = auth_request(expires_at=NOW + 600)
    await store.add_auth_request(request)
    assert await store.get_auth_request("r1", NOW) == request
    assert await store.get_auth_request("r1", NOW + 599.5) == request
    assert await store.get_auth_request("r1", NOW + 600) is None
    assert await store.get_auth_request("nobody", NOW) is None


async def test_an_auth_request_without_client_state_or_scopes_round_trips(store: Store) -> None:
    request = dataclasses.replace(auth_request(), client_state=None, scopes=())
    await store.add_auth_request(request)
    assert await store.get_auth_request("r1", NOW) == request


async def test_approval_records_the_upstream_values_and_the_new_expiry(store: Store) -> None:
    await store.add_auth_request(auth_request(expires_at=NOW + 600))
    assert await approve(store, expires_at=NOW + 900) is True
    assert await store.get_auth_request("r1", NOW + 700) == dataclasses.replace(
        auth_request(),
        status=RequestStatus.APPROVED,
        upstream_state_hash="state-1",
        upstream_verifier_sealed="sealed-verifier",
        binding_hash="binding",
        expires_at=NOW + 900,
    )


async def test_approval_happens_once(store: Store) -> None:
    await store.add_auth_request(auth_request())
    winners = await race(10, lambda i: approve(store, state=f"state-{i}"))
    assert winners.count(True) == 1
    assert await approve(store, state="late") is False


async def test_an_expired_auth_request_cannot_be_approved(store: Store) -> None:
    await store.add_auth_request(auth_request(expires_at=NOW))
    assert await approve(store) is False


async def test_an_unknown_auth_request_cannot_be_approved(store: Store) -> None:
    assert await approve(store, "nobody") is False


async def test_a_denied_auth_request_is_forgotten(store: Store) -> None:
    await store.add_auth_request(auth_request())
    await store.delete_auth_request("r1")
    await store.delete_auth_request("nobody")
    assert await store.get_auth_request("r1", NOW) is None
    assert await approve(store) is False


async def test_the_upstream_state_is_taken_once(store: Store) -> None:
    await store.add_auth_request(auth_request())
    await approve(store, state="state-1")
    taken = await race(10, lambda _: store.take_auth_request_by_state("state-1", NOW))
    winners = [request for request in taken if request is not None]
    assert len(winners) == 1
    assert winners[0].request_id == "r1"
    assert winners[0].status is RequestStatus.APPROVED
    assert await store.get_auth_request("r1", NOW) is None


async def test_a_pending_auth_request_cannot_be_taken_by_state(store: Store) -> None:
    await store.add_auth_request(auth_request())
    assert await store.take_auth_request_by_state("state-1", NOW) is None
    assert await store.take_auth_request_by_state("", NOW) is None
    assert await store.get_auth_request("r1", NOW) is not None


async def test_an_expired_approved_request_cannot_be_taken(store: Store) -> None:
    await store.add_auth_request(auth_request())
    await approve(store, state="state-1", expires_at=NOW + 60)
    assert await store.take_auth_request_by_state("state-1", NOW + 60) is None
    assert await store.take_auth_request_by_state("unknown-state", NOW) is None


# -- authorization codes ---------------------------------------------------------------------------
async def test_a_code_round_trips(store: Store) -> None:
    await store.add_code(code())
    assert await store.get_code("code1") == code()
    assert await store.get_code("nobody") is None


async def test_redeeming_a_code_stores_its_grant_and_tokens(store: Store) -> None:
    made = grant()
    access, refresh = pair(made)
    await store.add_code(code())
    assert await store.redeem_code("code1", made, [access, refresh], NOW) == CodeRedemption(RedeemOutcome.REDEEMED)
    assert await store.get_code("code1") == dataclasses.replace(code(), grant_id="g1")
    assert await store.get_grant("g1") == made
    assert await store.get_token(access.token_hash) == access
    assert await store.get_token(refresh.token_hash) == refresh


async def test_a_code_is_redeemed_exactly_once_when_ten_callers_race(store: Store) -> None:
    await store.add_code(code())

    async def attempt(i: int) -> tuple[str, CodeRedemption]:
        made = grant(f"g{i}")
        return made.grant_id, await store.redeem_code("code1", made, pair(made), NOW)

    results = await race(10, attempt)
    winners = [grant_id for grant_id, r in results if r.outcome is RedeemOutcome.REDEEMED]
    assert len(winners) == 1
    losers = [r for _, r in results if r.outcome is not RedeemOutcome.REDEEMED]
    assert losers == [CodeRedemption(RedeemOutcome.REPLAYED, first_grant_id=winners[0])] * 9
    assert [g.grant_id for g in await store.list_grants()] == winners
    assert (await store.get_code("code1")) == dataclasses.replace(code(), grant_id=winners[0])


async def test_a_replayed_code_names_the_grant_of_its_first_use_and_writes_nothing(store: Store) -> None:
    await issue(store, "g1")
    second = grant("g2")
    outcome = await store.redeem_code("code-g1", second, pair(second), NOW + 1)
    assert outcome == CodeRedemption(RedeemOutcome.REPLAYED, first_grant_id="g1")
    assert await store.get_grant("g2") is None
    assert await store.get_token("at-g2") is None


async def test_an_expired_code_is_not_redeemed_and_nothing_is_written(store: Store) -> None:
    await store.add_code(code(expires_at=NOW))
    made = grant()
    assert await store.redeem_code("code1", made, pair(made), NOW) == CodeRedemption(RedeemOutcome.EXPIRED)
    assert await store.get_code("code1") == code(expires_at=NOW)
    assert await store.get_grant("g1") is None
    assert await store.get_token("at-g1") is None


async def test_a_redeemed_code_presented_after_it_expired_is_expired(store: Store) -> None:
    await store.add_code(code(expires_at=NOW + 300))
    made = grant()
    await store.redeem_code("code1", made, pair(made), NOW)
    again = await store.redeem_code("code1", grant("g2"), [], NOW + 300)
    assert again == CodeRedemption(RedeemOutcome.EXPIRED)
    assert await store.get_grant("g1") is not None


async def test_an_unknown_code_is_reported_unknown(store: Store) -> None:
    made = grant()
    assert await store.redeem_code("nobody", made, pair(made), NOW) == CodeRedemption(RedeemOutcome.UNKNOWN)
    assert await store.get_grant("g1") is None


# -- grants and tokens -----------------------------------------------------------------------------
async def test_a_token_without_expiry_round_trips(store: Store) -> None:
    made = grant()
    forever = token("forever", made, kind=TokenKind.REFRESH, expires_at=None)
    await store.add_code(code())
    await store.redeem_code("code1", made, [forever], NOW)
    assert await store.get_token("forever") == forever
    assert await store.get_token("nobody") is None


async def test_rotating_a_refresh_token_retires_it_and_stores_its_successors(store: Store) -> None:
    made, _, refresh = await issue(store)
    successors = pair(made, "-2")
    assert await store.rotate_refresh_token(refresh.token_hash, successors, NOW + 10) is RotateOutcome.ROTATED
    assert await store.get_token(refresh.token_hash) == dataclasses.replace(refresh, rotated=True)
    for successor in successors:
        assert await store.get_token(successor.token_hash) == successor


async def test_a_refresh_token_is_rotated_exactly_once_when_ten_callers_race(store: Store) -> None:
    made, _, refresh = await issue(store)
    outcomes = await race(10, lambda i: store.rotate_refresh_token(refresh.token_hash, pair(made, f"-{i}"), NOW))
    assert outcomes.count(RotateOutcome.ROTATED) == 1
    # The first loser sees reuse and revokes the grant; later ones find the token gone.
    assert RotateOutcome.REUSED in outcomes
    assert set(outcomes) <= {RotateOutcome.ROTATED, RotateOutcome.REUSED, RotateOutcome.UNKNOWN}
    assert await store.get_grant("g1") is None
    assert await store.get_token(refresh.token_hash) is None


async def test_presenting_a_rotated_refresh_token_revokes_the_whole_grant(store: Store) -> None:
    made, access, refresh = await issue(store)
    other, other_access, _ = await issue(store, "g2")
    successors = pair(made, "-2")
    await store.rotate_refresh_token(refresh.token_hash, successors, NOW)
    assert await store.rotate_refresh_token(refresh.token_hash, pair(made, "-3"), NOW) is RotateOutcome.REUSED
    assert await store.get_grant("g1") is None
    for gone in (access, refresh, *successors, *pair(made, "-3")):
        assert await store.get_token(gone.token_hash) is None
    assert await store.get_grant("g2") == other
    assert await store.get_token(other_access.token_hash) == other_access


async def test_an_expired_refresh_token_is_not_rotated_and_nothing_is_written(store: Store) -> None:
    made, _, refresh = await issue(store)
    assert refresh.expires_at is not None
    successors = pair(made, "-2")
    assert await store.rotate_refresh_token(refresh.token_hash, successors, refresh.expires_at) is (
        RotateOutcome.EXPIRED
    )
    assert await store.get_token(refresh.token_hash) == refresh
    assert await store.get_token(successors[0].token_hash) is None


async def test_an_unknown_or_access_token_cannot_be_rotated(store: Store) -> None:
    made, access, _ = await issue(store)
    assert await store.rotate_refresh_token("nobody", pair(made, "-2"), NOW) is RotateOutcome.UNKNOWN
    assert await store.rotate_refresh_token(access.token_hash, pair(made, "-2"), NOW) is RotateOutcome.UNKNOWN
    assert await store.get_token("at-g1-2") is None
    assert await store.get_grant("g1") == made


async def test_grants_are_listed_oldest_first_for_everyone_or_one_user(store: Store) -> None:
    await issue(store, "b", user_id="u1", created_at=NOW + 1)
    await issue(store, "c", user_id="u1", created_at=NOW + 2)
    await issue(store, "a", user_id="u2", created_at=NOW)
    assert [g.grant_id for g in await store.list_grants()] == ["a", "b", "c"]
    assert [g.grant_id for g in await store.list_grants("u1")] == ["b", "c"]
    assert await store.list_grants("nobody") == []


async def test_touching_a_grant_records_when_it_was_used(store: Store) -> None:
    made, _, _ = await issue(store)
    await store.touch_grant("g1", NOW + 7)
    await store.touch_grant("nobody", NOW + 7)
    assert await store.get_grant("g1") == dataclasses.replace(made, last_used_at=NOW + 7)


async def test_revoking_a_grant_deletes_it_and_its_tokens_only(store: Store) -> None:
    _, access, refresh = await issue(store, "g1")
    other, other_access, other_refresh = await issue(store, "g2")
    await store.revoke_grant("g1")
    await store.revoke_grant("nobody")
    assert await store.get_grant("g1") is None
    assert await store.get_token(access.token_hash) is None
    assert await store.get_token(refresh.token_hash) is None
    assert await store.list_grants() == [other]
    assert await store.get_token(other_access.token_hash) == other_access
    assert await store.get_token(other_refresh.token_hash) == other_refresh


# -- housekeeping ----------------------------------------------------------------------------------
async def test_sweep_removes_only_expired_rows(store: Store) -> None:
    await store.add_auth_request(auth_request("expired", expires_at=NOW - 1))
    await store.add_auth_request(auth_request("at-the-boundary", expires_at=NOW))
    await store.add_auth_request(auth_request("live", expires_at=NOW + 1))
    await store.add_code(code("expired-unused", expires_at=NOW - 1))
    await store.add_code(code("expired-redeemed", expires_at=NOW - 1))
    await store.add_code(code("live-redeemed", expires_at=NOW + 60))
    old, live = grant("old"), grant("live")
    dead_access = token("dead-access", old, expires_at=NOW - 1)
    dead_refresh = token("dead-refresh", old, kind=TokenKind.REFRESH, expires_at=NOW)
    live_access = token("live-access", live, expires_at=NOW + 1)
    forever = token("forever", live, kind=TokenKind.REFRESH, expires_at=None)
    await store.redeem_code("expired-redeemed", old, [dead_access, dead_refresh], NOW - 10)
    await store.redeem_code("live-redeemed", live, [live_access, forever], NOW)

    assert await store.sweep(NOW) == 6

    assert await store.get_auth_request("live", NOW) is not None
    assert await store.get_code("expired-unused") is None
    assert await store.get_code("expired-redeemed") is None
    assert await store.get_code("live-redeemed") is not None
    assert await store.get_token("dead-access") is None
    assert await store.get_token("dead-refresh") is None
    assert await store.get_token("live-access") == live_access
    assert await store.get_token("forever") == forever
    assert await store.sweep(NOW) == 0


async def test_sweep_keeps_redeemed_codes_so_replays_are_caught_until_they_expire(store: Store) -> None:
    await issue(store, "g1")
    assert await store.sweep(NOW + 1) == 0
    replay = await store.redeem_code("code-g1", grant("g2"), [], NOW + 1)
    assert replay == CodeRedemption(RedeemOutcome.REPLAYED, first_grant_id="g1")


async def test_a_grants_expiry_is_that_of_its_last_token(store: Store) -> None:
    made, _, refresh = await issue(store, "g1")
    assert refresh.expires_at is not None
    assert await store.grant_expiry("g1") == refresh.expires_at
    await store.rotate_refresh_token(refresh.token_hash, pair(made, "-2"), NOW + 10)
    assert await store.grant_expiry("g1") == pair(made, "-2")[1].expires_at
    assert await store.grant_expiry("unknown") is None


async def test_a_grant_with_a_never_expiring_token_never_expires(store: Store) -> None:
    made = grant("g1")
    await store.add_code(code("c-forever"))
    forever = token("forever", made, kind=TokenKind.REFRESH, expires_at=None)
    await store.redeem_code("c-forever", made, [token("short", made, expires_at=NOW + 1), forever], NOW)
    assert await store.grant_expiry("g1") == math.inf


async def test_a_grant_whose_tokens_were_swept_has_no_expiry(store: Store) -> None:
    _, _, refresh = await issue(store, "g1")
    assert refresh.expires_at is not None
    await store.sweep(refresh.expires_at)
    assert await store.get_grant("g1") is not None
    assert await store.grant_expiry("g1") is None
