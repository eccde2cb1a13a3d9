"""The front-end's pure decisions for an authorization request (frontend/interaction.py).

`interactive_step` answers INTERACTION responses (OpenID Connect Core 1.0 §3.1.2.3: the
authorization server authenticates the end-user and obtains consent, §3.1.2.4); `silent_failure`
answers NO_INTERACTION responses (prompt=none, §3.1.2.1), whose errors §3.1.2.6 lists. The ids
say which part of OIDC Core each row comes from.
"""

import json
from dataclasses import replace

import pytest

from frontend.interaction import (
    Flow,
    Login,
    Notice,
    PendingRequest,
    Step,
    interactive_step,
    silent_failure,
)

NOW = 1_700_000_000
HOUR = 3600


def request(**changes) -> PendingRequest:
    base = PendingRequest(client_id="c1", client={"name": "Client One"},
                   scopes=[{"name": "openid", "description": None}],
                   claims=[], claims_at_userinfo=[], prompts=[], max_age=0, subject=None,
                   login_hint=None, acr_essential=False, acrs=[])
    return replace(base, **changes)


ALICE = Login(username="alice", subject="alice-sub", auth_time=NOW - HOUR)
FRESH_ALICE = replace(ALICE, auth_time=NOW)   # signed in just now, during this flow


def flow(**changes) -> Flow:
    return Flow(ticket="ticket-1", **changes)


# (id, request, login, flow, consented, expected step, expected notice)
INTERACTIVE = [
    # §3.1.2.3: the end-user is not authenticated yet.
    ("3.1.2.3-not-signed-in", request(), None, flow(), True, Step.LOGIN, Notice.NONE),
    ("3.1.2.3-user-asked-for-another-account", request(), ALICE, flow(force_login=True), True,
     Step.LOGIN, Notice.NONE),
    # §3.1.2.1 prompt=login: reauthenticate even with a session...
    ("3.1.2.1-prompt-login-reauthenticates", request(prompts=["LOGIN"]), ALICE, flow(), True,
     Step.LOGIN, Notice.REAUTHENTICATE),
    # ...but once, not in a loop: after signing in during this flow, move on.
    ("3.1.2.1-prompt-login-after-signing-in", request(prompts=["LOGIN"]), FRESH_ALICE,
     flow(authenticated=True), True, Step.ISSUE, Notice.NONE),
    # §3.1.2.1 max_age: "If the elapsed time is greater than this value, the OP MUST attempt
    # to actively re-authenticate the End-User."
    ("3.1.2.1-max_age-exceeded", request(max_age=HOUR - 1), ALICE, flow(), True,
     Step.LOGIN, Notice.TOO_OLD),
    ("3.1.2.1-max_age-within", request(max_age=2 * HOUR), ALICE, flow(), True,
     Step.ISSUE, Notice.NONE),
    ("3.1.2.1-max_age-elapsed-equal-is-within", request(max_age=HOUR), ALICE, flow(), True,
     Step.ISSUE, Notice.NONE),
    ("3.1.2.1-max_age-after-signing-in", request(max_age=60), FRESH_ALICE,
     flow(authenticated=True), True, Step.ISSUE, Notice.NONE),
    # §3.1.2.2 / §5.5.1 a requested `sub` (claims parameter or id_token_hint, §3.1.2.1): the
    # signed-in end-user must be that subject.
    ("3.1.2.2-requested-subject-different", request(subject="bob-sub"), ALICE, flow(), True,
     Step.LOGIN, Notice.OTHER_ACCOUNT),
    ("3.1.2.2-requested-subject-different-after-signing-in", request(subject="bob-sub"),
     FRESH_ALICE, flow(authenticated=True), True, Step.LOGIN, Notice.OTHER_ACCOUNT),
    ("3.1.2.2-requested-subject-same", request(subject="alice-sub"), ALICE, flow(), True,
     Step.ISSUE, Notice.NONE),
    # §3.1.2.1 prompt=select_account: prompt the end-user to select an account.
    ("3.1.2.1-select_account-not-yet-selected", request(prompts=["SELECT_ACCOUNT"]), ALICE,
     flow(), True, Step.SELECT_ACCOUNT, Notice.NONE),
    ("3.1.2.1-select_account-selected", request(prompts=["SELECT_ACCOUNT"]), ALICE,
     flow(selected=True), True, Step.ISSUE, Notice.NONE),
    ("3.1.2.1-select_account-signed-in-during-flow", request(prompts=["SELECT_ACCOUNT"]),
     FRESH_ALICE, flow(authenticated=True), True, Step.ISSUE, Notice.NONE),
    ("3.1.2.1-select_account-not-signed-in", request(prompts=["SELECT_ACCOUNT"]), None,
     flow(), True, Step.LOGIN, Notice.NONE),
    # §3.1.2.4 consent: asked unless remembered; §3.1.2.1 prompt=consent asks regardless.
    ("3.1.2.4-consent-remembered", request(), ALICE, flow(), True, Step.ISSUE, Notice.NONE),
    ("3.1.2.4-consent-not-remembered", request(), ALICE, flow(), False,
     Step.CONSENT, Notice.NONE),
    ("3.1.2.1-prompt-consent-despite-remembered-consent", request(prompts=["CONSENT"]),
     ALICE, flow(), True, Step.CONSENT, Notice.NONE),
    ("3.1.2.1-prompt-login-consent-after-signing-in", request(prompts=["LOGIN", "CONSENT"]),
     FRESH_ALICE, flow(authenticated=True), True, Step.CONSENT, Notice.NONE),
]


@pytest.mark.parametrize(("req", "login", "flow_", "consented", "step", "notice"),
                         [pytest.param(*row[1:], id=row[0]) for row in INTERACTIVE])
def test_interactive_step(req, login, flow_, consented, step, notice):
    assert interactive_step(req, login, flow_, NOW, consented) == (step, notice)


# (id, request, login, consented, expected /auth/authorization/fail reason)
SILENT = [
    # §3.1.2.6 login_required: prompt=none and the end-user is not authenticated.
    ("3.1.2.6-login_required-not-signed-in", request(), None, True, "NOT_LOGGED_IN"),
    ("3.1.2.6-not-signed-in-comes-first", request(max_age=1, subject="bob-sub"), None, False,
     "NOT_LOGGED_IN"),
    # §3.1.2.1 max_age would need reauthentication, which prompt=none forbids.
    ("3.1.2.1-max_age-exceeded", request(max_age=HOUR - 1), ALICE, True, "EXCEEDS_MAX_AGE"),
    ("3.1.2.1-max_age-within", request(max_age=HOUR), ALICE, True, None),
    # §3.1.2.2 / §5.5.1 the signed-in end-user is not the requested subject.
    ("3.1.2.2-requested-subject-different", request(subject="bob-sub"), ALICE, True,
     "DIFFERENT_SUBJECT"),
    ("3.1.2.2-requested-subject-same", request(subject="alice-sub"), ALICE, True, None),
    # §5.5.1.1 an essential `acr` this front-end cannot satisfy (it asserts no ACR).
    ("5.5.1.1-essential-acr", request(acr_essential=True, acrs=["urn:mace:incommon:iap:silver"]),
     ALICE, True, "ACR_NOT_SATISFIED"),
    ("3.1.2.1-voluntary-acr_values", request(acrs=["urn:mace:incommon:iap:silver"]), ALICE,
     True, None),
    # §3.1.2.6 consent_required: consent would have to be asked for.
    ("3.1.2.6-consent_required", request(), ALICE, False, "CONSENT_REQUIRED"),
    # Nothing stands in the way: issue without showing anything.
    ("3.1.2.1-prompt-none-issues", request(), ALICE, True, None),
]


@pytest.mark.parametrize(("req", "login", "consented", "reason"),
                         [pytest.param(*row[1:], id=row[0]) for row in SILENT])
def test_silent_failure(req, login, consented, reason):
    assert silent_failure(req, login, NOW, consented) == reason


def test_request_from_a_full_response():
    response = {
        "action": "INTERACTION", "ticket": "t",
        "client": {"clientId": 1234, "clientName": "Photo Book", "logoUri": "https://c/logo",
                   "clientUri": "https://c/", "policyUri": "https://c/policy",
                   "tosUri": "https://c/tos", "clientSecret": "never copied"},
        "scopes": [{"name": "openid", "defaultEntry": False, "description": "Sign you in",
                    "attributes": []},
                   {"name": "email", "description": None}],
        "claims": ["name", "email"], "claimsAtUserInfo": ["email", "address"],
        "prompts": ["LOGIN", "CONSENT"], "maxAge": 600, "subject": "alice-sub",
        "loginHint": "alice@example.com", "acrEssential": True, "acrs": ["urn:acr:1"],
    }

    req = PendingRequest.from_response(response)

    assert req == PendingRequest(
        client_id="1234",
        client={"name": "Photo Book", "logo_uri": "https://c/logo",
                "client_uri": "https://c/", "policy_uri": "https://c/policy",
                "tos_uri": "https://c/tos"},
        scopes=[{"name": "openid", "description": "Sign you in"},
                {"name": "email", "description": None}],
        claims=["name", "email"], claims_at_userinfo=["email", "address"],
        prompts=["LOGIN", "CONSENT"], max_age=600, subject="alice-sub",
        login_hint="alice@example.com", acr_essential=True, acrs=["urn:acr:1"])
    assert req.scope_names == ["openid", "email"]
    assert req.all_claims == ["name", "email", "address"]   # merged, in order, no duplicates


def test_request_from_a_sparse_response():
    """Authlete omits or nulls what the request did not ask for (reference §1/§2.1)."""
    response = {"client": {"clientId": 55, "clientName": None}, "scopes": None,
                "claims": None, "prompts": None, "maxAge": None, "subject": None,
                "acrEssential": None, "acrs": None}

    req = PendingRequest.from_response(response)

    assert req.client_id == "55"
    assert req.client["name"] == "55"    # no name: show the client ID
    assert (req.scopes, req.claims, req.claims_at_userinfo, req.prompts, req.acrs) == \
        ([], [], [], [], [])
    assert req.max_age == 0 and req.subject is None and req.login_hint is None
    assert req.acr_essential is False


def test_request_from_an_empty_response():
    req = PendingRequest.from_response({})

    assert req.client_id == ""
    assert req.scope_names == [] and req.all_claims == []
    assert req.max_age == 0 and req.prompts == []


def test_request_round_trips_through_json():
    """The views keep the request in the ticket's context as JSON (reference §2.1 ticket/update)."""
    req = request(prompts=["CONSENT"], subject="alice-sub", max_age=60, acrs=["urn:acr:1"])

    assert PendingRequest(**json.loads(json.dumps(req.to_dict()))) == req
