"""OpenID Connect Core §3.1.2 through the front-end's pages, with a browser without JavaScript:
re-authentication (prompt=login, max_age), login_hint, account selection, prompt=none, remembered
consent, the login and consent forms' failure paths; then the HTTP edges of the other endpoints
(security headers, discovery, JWKS, token, revocation, userinfo)."""

import base64
import json
import re
import secrets
import socket
import time
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urlencode, urljoin

import httpx
import pytest
from authlib.jose import JsonWebKey, jwt

from tests.e2e.agent import UserAgent, forms, page_kind, redirect_parameters
from tests.e2e.test_authlib_client import authorize, code_flow, id_token_claims, oauth_client

SCOPE = "openid profile"


# --- helpers -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Authorization:
    """An authorization request as the client made it."""
    url: str
    state: str
    verifier: str
    nonce: str


def confidential(stack):
    return oauth_client(stack, stack.client("confidential"), "client_secret_basic")


def request_for(stack, session, scope: str = SCOPE, **extra) -> Authorization:
    verifier, nonce = secrets.token_urlsafe(48), secrets.token_urlsafe(12)
    url, state = session.create_authorization_url(f"{stack.issuer}/authorize", scope=scope,
                                                  code_verifier=verifier, nonce=nonce, **extra)
    return Authorization(url, state, verifier, nonce)


def signed_in(stack, agent, username: str = "alice") -> None:
    """A completed flow: the agent is signed in as `username` and consented to SCOPE for the
    confidential client."""
    authorize(stack, agent, confidential(stack), username=username, scope=SCOPE)


def id_token_for(stack, session, request: Authorization, response: httpx.Response):
    """The client's side of a successful authorization response: state, code → ID token."""
    answer = redirect_parameters(response)
    assert "code" in answer, response.headers["Location"]
    assert answer["state"] == request.state
    token = session.fetch_token(f"{stack.issuer}/token",
                                authorization_response=response.headers["Location"],
                                code_verifier=request.verifier)
    return id_token_claims(stack, token, session.client_id, request.nonce)


def flow_id(page: httpx.Response) -> str:
    return next(form["fields"]["flow"] for form in forms(page.text) if "flow" in form["fields"])


def resume_url(stack, flow: str) -> str:
    return f"{stack.issuer}/authorize/resume?{urlencode({'flow': flow})}"


class _Page(HTMLParser):
    """What the tests read off a page besides its forms: visible inputs and alerts."""

    def __init__(self):
        super().__init__()
        self.inputs: dict[str, str | None] = {}
        self.alerts: dict[str, str] = {}
        self._alert: str | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "input" and attributes.get("type") != "hidden" and attributes.get("name"):
            self.inputs[attributes["name"]] = attributes.get("value")
        elif tag == "div" and attributes.get("role") in ("status", "alert"):
            self._alert = attributes["role"]
            self.alerts[self._alert] = ""

    def handle_endtag(self, tag):
        if tag == "div":
            self._alert = None

    def handle_data(self, data):
        if self._alert:
            self.alerts[self._alert] += data.strip()


def read_page(response: httpx.Response) -> _Page:
    parser = _Page()
    parser.feed(response.text)
    return parser


def assert_error_page(response: httpx.Response, status: int = 400) -> None:
    """The front-end's own HTML error page: nothing goes back to the client."""
    assert response.status_code == status, response.text
    assert "Location" not in response.headers
    assert response.headers["Content-Type"].startswith("text/html")
    assert page_kind(response) == "other"


@pytest.fixture
def second_agent(stack):
    user_agent = UserAgent(stack.issuer)
    yield user_agent
    user_agent.close()


# Sessions at least two seconds old, for the tests about re-authentication: all are signed in
# first, then one sleep serves them all. Each test takes its own agent, as it changes the session.
AGED = ("prompt=login", "max_age=0", "max_age=1", "prompt=none max_age=1",
        "prompt=none max_age=0")


@pytest.fixture(scope="module")
def aged_agents(stack):
    agents = {name: UserAgent(stack.issuer) for name in AGED}
    for user_agent in agents.values():
        signed_in(stack, user_agent)
    time.sleep(2.1)
    yield agents
    for user_agent in agents.values():
        user_agent.close()


# --- re-authentication: prompt=login, max_age (OIDC Core §3.1.2.1, §3.1.2.3) --------------

@pytest.mark.parametrize("case, extra", [
    ("prompt=login", {"prompt": "login"}),
    ("max_age=0", {"max_age": "0"}),         # §3.1.2.1: max_age=0 is prompt=login
    ("max_age=1", {"max_age": "1"}),         # the session is older than that
])
def test_reauthentication_shows_the_login_page_and_refreshes_auth_time(stack, aged_agents,
                                                                       case, extra):
    agent, session = aged_agents[case], confidential(stack)
    request = request_for(stack, session, **extra)
    page = agent.open(request.url)
    assert page.status_code == 200
    assert page_kind(page) == "login"
    assert read_page(page).alerts.get("status"), "no notice says why to sign in again"
    before = int(time.time())
    response = agent.sign_in(page, "alice", stack.password("alice"))
    claims = id_token_for(stack, session, request, response)
    assert claims["sub"] == "alice"
    assert claims["auth_time"] >= before   # the session's own sign-in is >= 2 s older


def test_a_session_within_max_age_is_not_asked_to_sign_in_again(stack, agent):
    signed_in(stack, agent)
    before_request = int(time.time())
    session = confidential(stack)
    request = request_for(stack, session, max_age="300")
    response = agent.open(request.url)
    claims = id_token_for(stack, session, request, response)   # no page: straight back
    assert claims["sub"] == "alice"
    assert claims["auth_time"] <= before_request       # §3.1.2.1: auth_time present, the old one


# --- login_hint (OIDC Core §3.1.2.1) ---------------------------------------------------------

@pytest.mark.parametrize("hint", ["alice", "bob@example.com", '"<x>'])
def test_login_hint_prefills_the_username(stack, agent, hint):
    request = request_for(stack, confidential(stack), login_hint=hint)
    page = agent.open(request.url)
    assert page_kind(page) == "login"
    assert read_page(page).inputs["username"] == hint


def test_login_hint_is_escaped_in_the_page(stack, agent):
    request = request_for(stack, confidential(stack), login_hint='"<x>')
    page = agent.open(request.url)
    assert page_kind(page) == "login"
    assert '"<x>' not in page.text
    assert "<x>" not in page.text


# --- prompt=select_account (OIDC Core §3.1.2.1) ----------------------------------------------

def two_accounts(stack, agent) -> None:
    """alice, then bob through prompt=login: both signed in on this agent, bob the current one."""
    signed_in(stack, agent, "alice")
    session = confidential(stack)
    page = agent.open(request_for(stack, session, prompt="login").url)
    assert page_kind(page) == "login"
    page = agent.sign_in(page, "bob", stack.password("bob"))
    assert page_kind(page) == "consent"
    assert "code" in redirect_parameters(agent.decide(page, "approve"))


def chooser(stack, agent, session) -> tuple[Authorization, httpx.Response]:
    request = request_for(stack, session, prompt="select_account")
    page = agent.open(request.url)
    assert page.status_code == 200
    assert page_kind(page) == "select_account"
    return request, page


@pytest.mark.parametrize("account", ["alice", "bob"])
def test_select_account_lists_the_accounts_and_issues_for_the_chosen_one(stack, agent,
                                                                         account):
    two_accounts(stack, agent)
    session = confidential(stack)
    request, page = chooser(stack, agent, session)
    select = next(form for form in forms(page.text) if form["action"] == "/authorize/select")
    assert {value for name, value in select["buttons"] if name == "account"} == {
        "alice", "bob", ""}
    assert "Alice Example" in page.text
    assert "Bob Example" in page.text
    response = agent.submit(page, "/authorize/select", account=account)
    assert id_token_for(stack, session, request, response)["sub"] == account


def test_select_account_use_another_account_shows_the_login_page(stack, agent):
    two_accounts(stack, agent)
    session = confidential(stack)
    request, page = chooser(stack, agent, session)
    page = agent.submit(page, "/authorize/select", account="")
    assert page.status_code == 200
    assert page_kind(page) == "login"
    response = agent.sign_in(page, "alice", stack.password("alice"))
    assert id_token_for(stack, session, request, response)["sub"] == "alice"


# --- prompt=none (OIDC Core §3.1.2.6) --------------------------------------------------------

def test_prompt_none_issues_silently_when_signed_in_and_consented(stack, agent):
    signed_in(stack, agent)
    session = confidential(stack)
    request = request_for(stack, session, prompt="none")
    response = agent.open(request.url)
    assert response.status_code == 302
    assert id_token_for(stack, session, request, response)["sub"] == "alice"


def test_prompt_none_without_consent_for_this_client_is_consent_required(stack, agent):
    signed_in(stack, agent)                       # consented for the confidential client only
    session = oauth_client(stack, stack.client("public"), "none")
    request = request_for(stack, session, prompt="none")
    answer = redirect_parameters(agent.open(request.url))
    assert answer["error"] == "consent_required"
    assert answer["state"] == request.state
    assert "code" not in answer


def test_prompt_none_for_another_subject_is_login_required(stack, agent):
    """§5.5.1: a `sub` value the signed-in user does not have cannot be met without a login."""
    signed_in(stack, agent, "alice")
    claims = json.dumps({"id_token": {"sub": {"value": "bob"}}})
    request = request_for(stack, confidential(stack), prompt="none", claims=claims)
    answer = redirect_parameters(agent.open(request.url))
    assert answer["error"] == "login_required"
    assert answer["state"] == request.state
    assert "code" not in answer


@pytest.mark.parametrize("max_age", ["1", "0"])
def test_prompt_none_with_a_session_older_than_max_age_is_login_required(stack, aged_agents,
                                                                        max_age):
    agent = aged_agents[f"prompt=none max_age={max_age}"]
    request = request_for(stack, confidential(stack), prompt="none", max_age=max_age)
    answer = redirect_parameters(agent.open(request.url))
    assert answer["error"] == "login_required"
    assert answer["state"] == request.state
    assert "code" not in answer


# --- remembered consent ----------------------------------------------------------------------

@pytest.mark.parametrize("extra, shown", [
    ({}, "no page"),                                        # the same scopes again
    ({"scope": f"{SCOPE} email"}, "consent"),               # one more scope
    ({"prompt": "consent"}, "consent"),                     # §3.1.2.1: always ask
])
def test_remembered_consent(stack, agent, extra, shown):
    signed_in(stack, agent)
    session = confidential(stack)
    request = request_for(stack, session, **extra)
    page = agent.open(request.url)
    if shown == "no page":
        assert id_token_for(stack, session, request, page)["sub"] == "alice"
        return
    assert page.status_code == 200
    assert page_kind(page) == shown
    response = agent.decide(page, "approve")
    assert id_token_for(stack, session, request, response)["sub"] == "alice"


# --- the login form --------------------------------------------------------------------------

def test_wrong_password_shows_the_login_page_again_with_400(stack, agent):
    session = confidential(stack)
    request = request_for(stack, session)
    page = agent.open(request.url)
    wrong = "not-" + stack.password("alice")
    refused = agent.sign_in(page, "alice", wrong)
    assert refused.status_code == 400   # an HTML form: no WWW-Authenticate, so not 401
    assert "Location" not in refused.headers
    assert page_kind(refused) == "login"
    shown = read_page(refused)
    assert shown.alerts.get("alert"), "no error message on the page"
    assert shown.inputs["username"] == "alice"
    assert wrong not in refused.text
    page = agent.sign_in(refused, "alice", stack.password("alice"))
    assert page_kind(page) == "consent"
    response = agent.decide(page, "approve")
    assert id_token_for(stack, session, request, response)["sub"] == "alice"


def test_cancel_on_the_login_page_is_access_denied(stack, agent):
    request = request_for(stack, confidential(stack))
    page = agent.open(request.url)
    assert page_kind(page) == "login"
    answer = redirect_parameters(agent.submit(page, "/authorize/login", decision="deny"))
    assert answer["error"] == "access_denied"
    assert answer["state"] == request.state
    assert answer["iss"] == stack.issuer
    assert "code" not in answer


# --- forms from elsewhere (CSRF) and unknown flows -------------------------------------------

@pytest.mark.parametrize("sender", ["wrong csrf_token", "another agent"])
def test_consent_form_from_elsewhere_is_refused(stack, agent, second_agent, sender):
    session = confidential(stack)
    request = request_for(stack, session)
    page = agent.sign_in(agent.open(request.url), "alice", stack.password("alice"))
    assert page_kind(page) == "consent"
    if sender == "wrong csrf_token":
        refused = agent.submit(page, "/authorize/consent", decision="approve",
                               csrf_token=secrets.token_urlsafe(24))
    else:
        refused = second_agent.submit(page, "/authorize/consent", decision="approve")
    assert_error_page(refused, 400)
    # The flow is not approved: it still waits for this user's decision.
    page = agent.open(resume_url(stack, flow_id(page)))
    assert page_kind(page) == "consent"
    response = agent.decide(page, "approve")
    assert id_token_for(stack, session, request, response)["sub"] == "alice"


def test_a_flow_unknown_to_the_browser_is_an_error_page(stack, agent):
    assert_error_page(agent.open(f"{stack.issuer}/authorize/resume?flow=nope"), 400)


def test_a_flow_of_another_browser_is_an_error_page(stack, agent, second_agent):
    page = agent.open(request_for(stack, confidential(stack)).url)
    assert page_kind(page) == "login"
    assert_error_page(second_agent.open(resume_url(stack, flow_id(page))), 400)


# --- POST /authorize (OIDC Core §3.1.2.1) ----------------------------------------------------

def test_post_authorize_with_a_form_body_works_like_get(stack, agent):
    session = confidential(stack)
    request = request_for(stack, session)
    path, _, query = request.url.partition("?")
    posted = agent.http.post(path, content=query,
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert posted.status_code == 303, posted.text
    page = agent.open(urljoin(path, posted.headers["Location"]))
    assert page_kind(page) == "login"
    page = agent.sign_in(page, "alice", stack.password("alice"))
    response = agent.decide(page, "approve")
    assert id_token_for(stack, session, request, response)["sub"] == "alice"


def test_post_authorize_with_json_is_invalid_request(stack):
    client = stack.client("confidential")
    response = httpx.post(f"{stack.issuer}/authorize", json={
        "response_type": "code", "client_id": client["clientId"],
        "redirect_uri": client["redirectUri"], "scope": SCOPE})
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert response.json()["error"] == "invalid_request"


# --- security headers of the HTML pages ------------------------------------------------------

def _login_page(stack, agent):
    return agent.open(request_for(stack, confidential(stack)).url)


def _consent_page(stack, agent):
    return agent.sign_in(_login_page(stack, agent), "alice", stack.password("alice"))


def _wrong_password_page(stack, agent):
    return agent.sign_in(_login_page(stack, agent), "alice", "wrong")


def _select_account_page(stack, agent):
    signed_in(stack, agent)
    return agent.open(request_for(stack, confidential(stack), prompt="select_account").url)


def _error_page(stack, agent):
    return agent.open(f"{stack.issuer}/authorize/resume?flow=nope")


@pytest.mark.parametrize("page, kind", [
    (_login_page, "login"), (_consent_page, "consent"), (_wrong_password_page, "login"),
    (_select_account_page, "select_account"), (_error_page, "other"),
], ids=["login", "consent", "wrong-password", "select-account", "error"])
def test_html_pages_cannot_be_framed_or_cached(stack, agent, page, kind):
    response = page(stack, agent)
    assert page_kind(response) == kind
    assert response.headers["Content-Type"].startswith("text/html")
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"


def test_session_cookie_is_httponly_and_samesite_lax(stack, agent):
    response = agent.http.get(request_for(stack, confidential(stack)).url)
    assert response.status_code == 303
    cookie = response.headers["Set-Cookie"]
    attributes = {part.strip().split("=")[0].lower(): part.strip()
                  for part in cookie.split(";")[1:]}
    assert "httponly" in attributes, cookie
    assert attributes.get("samesite", "").lower() == "samesite=lax", cookie


# --- discovery and JWKS ----------------------------------------------------------------------

ENDPOINTS = ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri",
             "revocation_endpoint", "introspection_endpoint")


@pytest.mark.parametrize("path", ["/.well-known/openid-configuration",
                                  "/.well-known/oauth-authorization-server"])
def test_discovery(stack, path):
    response = httpx.get(f"{stack.issuer}{path}")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    document = response.json()
    assert document["issuer"] == stack.issuer
    for name in ENDPOINTS:
        assert document[name].startswith(f"{stack.issuer}/"), (name, document[name])


def test_the_jwks_verifies_an_id_token(stack, agent):
    session = confidential(stack)
    token, nonce = code_flow(stack, agent, session, scope=SCOPE)
    configuration = httpx.get(f"{stack.issuer}/.well-known/openid-configuration").json()
    response = httpx.get(configuration["jwks_uri"])
    assert response.status_code == 200
    keys = response.json()
    assert keys["keys"]
    assert all("d" not in key for key in keys["keys"])      # public keys only
    claims = jwt.decode(token["id_token"], JsonWebKey.import_key_set(keys))
    claims.validate(leeway=5)
    assert claims["iss"] == stack.issuer
    assert claims["nonce"] == nonce
    assert claims["sub"] == "alice"


# --- token and revocation endpoints (RFC 6749 §2.3.1, §5.2; RFC 7009 §2.2.1) ----------------

def test_token_request_with_a_json_body_is_invalid_request(stack):
    client = stack.client("confidential")
    response = httpx.post(f"{stack.issuer}/token", json={"grant_type": "client_credentials"},
                          auth=(client["clientId"], client["clientSecret"]))
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


@pytest.mark.parametrize("credentials", [
    "%%%not-base64%%%",
    base64.b64encode(b"no-colon-here").decode(),
], ids=["not-base64", "no-colon"])
def test_token_request_with_malformed_basic_is_401(stack, credentials):
    response = httpx.post(f"{stack.issuer}/token", data={"grant_type": "client_credentials"},
                          headers={"Authorization": f"Basic {credentials}"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Basic realm="token"'
    assert response.json()["error"] == "invalid_client"


@pytest.mark.parametrize(("path", "form", "realm"), [
    ("/token", {"grant_type": "client_credentials"}, "token"),
    ("/revoke", {"token": "anything"}, "revocation"),
], ids=["token", "revocation"])
def test_a_wrong_client_secret_is_invalid_client(stack, path, form, realm):
    """RFC 6749 §5.2 / RFC 7009 §2.2.1: 401 invalid_client with a Basic challenge."""
    client = stack.client("confidential")
    response = httpx.post(f"{stack.issuer}{path}", data=form,
                          auth=(client["clientId"], "wrong-secret"))
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response.headers["WWW-Authenticate"] == f'Basic realm="{realm}"'
    assert response.headers["Cache-Control"] == "no-store"


# --- userinfo (OIDC Core §5.3, RFC 6750 §2, §3) ----------------------------------------------

def test_userinfo_with_the_token_in_header_and_form_is_invalid_request(stack, agent):
    token, _ = code_flow(stack, agent, confidential(stack), scope=SCOPE)
    access_token = token["access_token"]
    response = httpx.post(f"{stack.issuer}/userinfo", data={"access_token": access_token},
                          headers={"Authorization": f"Bearer {access_token}"})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert response.headers["WWW-Authenticate"].startswith("Bearer ")


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_userinfo_without_a_token_is_refused_with_a_bearer_challenge(stack, method):
    response = httpx.request(method, f"{stack.issuer}/userinfo")
    assert response.status_code == 400
    assert response.headers["WWW-Authenticate"].startswith("Bearer ")
    assert 'error="invalid_request"' in response.headers["WWW-Authenticate"]


# --- no step can be skipped, and a page's account stays its own ---------------------------

def post_elsewhere(agent, page: httpx.Response, action: str, **fields) -> httpx.Response:
    """Post the hidden fields of the page's first form (flow, CSRF token) to another step."""
    hidden = forms(page.text)[0]["fields"]
    return agent.http.post(urljoin(str(page.url), action), data={**hidden, **fields})


def test_a_consent_post_cannot_skip_a_due_login(stack, agent):
    """OIDC Core §3.1.2.1: with prompt=login the user must sign in again. Posting the login
    page's hidden fields to the consent form must not issue a code."""
    signed_in(stack, agent, "alice")
    session = confidential(stack)
    page = agent.open(request_for(stack, session, prompt="login").url)
    assert page_kind(page) == "login"
    answer = post_elsewhere(agent, page, "/authorize/consent", decision="approve")
    assert "code=" not in answer.headers.get("Location", "")
    assert page_kind(agent.open(str(page.url))) == "login"    # the login is still due


def test_a_consent_post_cannot_answer_for_another_subject(stack, agent):
    """OIDC Core §3.1.2.2, §5.5.1: a request for sub=alice is never answered for bob."""
    signed_in(stack, agent, "bob")
    session = confidential(stack)
    request = request_for(stack, session, scope="openid email",
                          claims=json.dumps({"id_token": {"sub": {"value": "alice"}}}))
    page = agent.open(request.url)
    assert page_kind(page) == "login"
    assert read_page(page).inputs["username"] == "alice"      # the account asked for
    answer = post_elsewhere(agent, page, "/authorize/consent", decision="approve")
    assert "code=" not in answer.headers.get("Location", "")


def test_a_consent_page_gives_the_consent_of_the_account_it_showed(stack, agent):
    """Tab 1 shows consent as alice; tab 2 signs in as bob; Allow in tab 1 is alice's."""
    signed_in(stack, agent, "alice")
    session = confidential(stack)
    first = request_for(stack, session, scope="openid email")   # a new scope: consent shown
    consent_page = agent.open(first.url)
    assert page_kind(consent_page) == "consent"
    assert "Alice Example" in consent_page.text
    second = agent.open(request_for(stack, session, prompt="login").url)
    agent.sign_in(second, "bob", stack.password("bob"))      # the browser's account is bob now
    answer = agent.decide(consent_page, "approve")            # Allow in tab 1
    assert id_token_for(stack, session, first, answer)["sub"] == "alice"


def test_an_essential_acr_that_cannot_be_met_fails_without_a_page(stack, agent):
    """OIDC Core §5.5.1.1: an essential acr the OP cannot satisfy is a failed authentication."""
    session = confidential(stack)
    claims = {"id_token": {"acr": {"essential": True, "values": ["urn:example:mfa"]}}}
    request = request_for(stack, session, claims=json.dumps(claims))
    answer = redirect_parameters(agent.open(request.url))
    assert answer["error"] == "login_required"
    assert answer["state"] == request.state


def test_sign_out_ends_every_sign_in_of_the_browser(stack, agent):
    signed_in(stack, agent, "alice")
    session = confidential(stack)
    silent = request_for(stack, session, prompt="none")
    assert "code" in redirect_parameters(agent.open(silent.url))
    confirm = agent.http.get(f"{stack.issuer}/logout")
    assert confirm.status_code == 200
    done = agent.submit(confirm, "/logout")
    assert done.status_code == 200
    again = request_for(stack, session, prompt="none")
    assert redirect_parameters(agent.open(again.url))["error"] == "login_required"


def test_sign_out_needs_the_csrf_token(stack, agent):
    signed_in(stack, agent, "alice")
    refused = agent.http.post(f"{stack.issuer}/logout", data={"csrf_token": "forged"})
    assert_error_page(refused)
    silent = request_for(stack, confidential(stack), prompt="none")
    assert "code" in redirect_parameters(agent.open(silent.url))


# --- HTTP edges: cross-origin clients, refusals as JSON -------------------------------------

@pytest.mark.parametrize("path", ["/token", "/revoke", "/userinfo", "/jwks",
                                  "/.well-known/openid-configuration"])
def test_browser_based_clients_may_call_from_another_origin(stack, path):
    preflight = httpx.options(f"{stack.issuer}{path}",
                              headers={"Origin": "https://spa.example",
                                       "Access-Control-Request-Method": "POST",
                                       "Access-Control-Request-Headers": "authorization"})
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "authorization" in preflight.headers["Access-Control-Allow-Headers"].lower()


def test_pages_and_introspection_are_not_open_to_other_origins(stack):
    for path in ("/authorize", "/introspect"):
        response = httpx.options(f"{stack.issuer}{path}",
                                 headers={"Origin": "https://spa.example",
                                          "Access-Control-Request-Method": "POST"})
        assert "Access-Control-Allow-Origin" not in response.headers, path


@pytest.mark.parametrize(("method", "path", "body", "status"), [
    ("PUT", "/token", None, 405),
    ("GET", "/introspect", None, 405),
    ("POST", "/token", "a" * 70_000, 413),
], ids=["token-PUT", "introspect-GET", "token-body-too-large"])
def test_api_refusals_are_oauth_json(stack, method, path, body, status):
    response = httpx.request(method, f"{stack.issuer}{path}", content=body,
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == status
    assert response.json()["error"] == "invalid_request"
    assert response.headers["Cache-Control"] == "no-store"


# --- tickets gone, odd methods, oversized input, consent memory ------------------------------

def _twin(stack, agent) -> UserAgent:
    """A second tab of the same browser: the same cookies."""
    twin = UserAgent(stack.issuer)
    twin.http.cookies = agent.http.cookies
    return twin


@pytest.mark.parametrize("second_answer", ["deny", "approve"])
def test_a_ticket_used_in_another_tab_gives_a_page_not_json(stack, agent, second_answer):
    signed_in(stack, agent, "alice")
    session = confidential(stack)
    page = agent.open(request_for(stack, session, scope="openid profile email",
                                  prompt="consent").url)
    assert page_kind(page) == "consent"
    twin = _twin(stack, agent)
    assert "code" in redirect_parameters(twin.decide(page, "approve"))   # tab 2 answers
    twin.close()
    late = agent.decide(page, second_answer)                          # tab 1 answers late
    assert_error_page(late)


def test_cancel_after_the_ticket_was_used_gives_a_page(stack, agent):
    session = confidential(stack)
    login_page = agent.open(request_for(stack, session).url)
    twin = _twin(stack, agent)
    consent_page = twin.sign_in(login_page, "alice", stack.password("alice"))
    assert "code" in redirect_parameters(twin.decide(consent_page, "approve"))
    twin.close()
    late = agent.submit(login_page, "/authorize/login", decision="deny")
    assert late.status_code == 400
    assert "Location" not in late.headers


def test_the_consent_page_lists_only_claims_the_user_has(stack, agent):
    session = confidential(stack)
    page = agent.sign_in(agent.open(request_for(stack, session, scope="openid profile").url),
                         "bob", stack.password("bob"))
    assert page_kind(page) == "consent"
    for present in ("given_name", "family_name", "preferred_username"):
        assert f">{present}<" in page.text
    for absent in ("picture", "birthdate", "locale"):   # profile claims bob has no value for
        assert f">{absent}<" not in page.text


def test_select_account_with_no_account_signed_in_shows_the_login_page(stack, agent):
    page = agent.open(request_for(stack, confidential(stack), prompt="select_account").url)
    assert page_kind(page) == "login"


def test_a_narrower_consent_adds_to_the_remembered_one(stack, agent):
    session = confidential(stack)
    authorize(stack, agent, session, scope="openid email", prompt="consent")
    authorize(stack, agent, session, scope="openid", prompt="consent")
    silent = request_for(stack, session, scope="openid email", prompt="none")
    assert "code" in redirect_parameters(agent.open(silent.url))


@pytest.mark.parametrize("path", ["/authorize?response_type=code", "/authorize/resume?flow=x"])
def test_head_on_the_authorization_pages_is_refused(stack, path):
    response = httpx.head(f"{stack.issuer}{path}")
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, POST"


def test_an_oversized_username_is_refused_like_a_wrong_password(stack, agent):
    page = agent.open(request_for(stack, confidential(stack)).url)
    refused = agent.sign_in(page, "a" * 5000, "whatever")
    assert refused.status_code == 400
    assert page_kind(refused) == "login"
    assert "Wrong username or password." in refused.text


def test_flows_started_at_the_same_moment_in_several_tabs_all_survive(stack, agent):
    """Three tabs send /authorize with the same cookies before any answer arrives (a browser
    restoring its tabs); each answer's cookies are then stored, as a browser does. Every tab
    must be able to go on: no tab's flow may overwrite another's."""
    session = confidential(stack)
    signed_in(stack, agent, "alice")
    snapshot = httpx.Cookies(agent.http.cookies)
    answers = []
    for _ in range(3):
        with httpx.Client(cookies=snapshot, follow_redirects=False) as tab:
            answers.append(tab.get(request_for(stack, session, scope="openid email").url))
    for answer in answers:
        agent.http.cookies.extract_cookies(answer)
    for answer in answers:
        page = agent.open(urljoin(str(answer.url), answer.headers["Location"]))
        assert page_kind(page) == "consent", page.text


@pytest.mark.parametrize(("request_line", "content_type"), [
    ("PUT /token", "application/x-www-form-urlencoded"),   # refused by the router: 405
    ("POST /token", "application/json"),                    # refused by the view: 400
], ids=["405", "wrong-content-type"])
def test_a_refused_request_leaves_the_connection_usable(stack, request_line, content_type):
    """The refusal reads the request body first, so the next request on the same keep-alive
    connection is answered (RFC 9112 §9.3)."""
    port = int(stack.issuer.rsplit(":", 1)[1])
    body = b"x" * 3000
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(f"{request_line} HTTP/1.1\r\nHost: localhost\r\nContent-Type: "
                           f"{content_type}\r\nContent-Length: {len(body)}\r\n\r\n".encode())
        connection.sendall(body[:10])
        time.sleep(0.2)            # the rest of the body is late: the refusal must wait for it
        connection.sendall(body[10:])
        first = _read_response(connection)
        assert first.startswith(b"HTTP/1.1 4")
        connection.sendall(b"GET /jwks HTTP/1.1\r\nHost: localhost\r\n\r\n")
        assert _read_response(connection).startswith(b"HTTP/1.1 200")


def _read_response(connection: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        data += connection.recv(65536)
    head, _, rest = data.partition(b"\r\n\r\n")
    length = int(re.search(rb"content-length: (\d+)", head, re.IGNORECASE).group(1))
    while len(rest) < length:
        rest += connection.recv(65536)
    return head
