"""The authorization endpoint (RFC 6749 §3.1, OIDC Core §3.1.2) with its login, account
selection and consent pages (reference §2.1).

GET/POST /authorize hands the request to Tessera. For INTERACTION the flow's ticket goes into
the session under a random flow id and Tessera keeps the request's details as the ticket's
context; every page then posts back to /authorize/<step> and is redirected (303) to
/authorize/resume, which decides the next step. Every POST re-checks that its step is still
the right one, so a form cannot skip a step (a consent form posted while a fresh login is
due is sent back to the login). NO_INTERACTION (prompt=none) is decided at once.
"""

import json

from quart import Blueprint, redirect, render_template, request, url_for

from frontend import flows
from frontend import session as browser
from frontend.interaction import (
    Flow,
    Login,
    Notice,
    PendingRequest,
    Step,
    interactive_step,
    silent_failure,
    unsatisfiable,
)
from frontend.responses import reply, server_error
from frontend.tessera import TesseraError
from frontend.users import released_claims, same
from frontend.views.plumbing import (
    check_password,
    form_body,
    now,
    parts,
    to_response,
    wrong_content_type,
)

blueprint = Blueprint("authorization", __name__)
blueprint.after_request(flows.write_cookies)

_ANSWERED = {"INTERNAL_SERVER_ERROR", "BAD_REQUEST", "LOCATION", "FORM"}


@blueprint.before_request
async def _no_head():
    """HEAD would run GET's side effects (a ticket, a flow, even a code) with nobody to see
    the page; refuse it (RFC 9110 §9.3.2 lets a server not support HEAD on a resource)."""
    if request.method == "HEAD":
        page, status = await _error_page(405, "Method not allowed", "Use GET or POST.")
        return page, status, {"Allow": "GET, POST"}


@blueprint.route("/authorize", methods=["GET", "POST"])
async def authorize():
    if request.method == "POST":
        parameters = await form_body()
        if parameters is None:
            return wrong_content_type()
    else:
        parameters = request.query_string.decode("utf-8", errors="replace")
    result = await parts().tessera.authorization(parameters)
    action = result.get("action")
    if action in _ANSWERED:
        return to_response(reply("auth/authorization", result))
    if action == "NO_INTERACTION":
        return await _without_interaction(result)
    if action == "INTERACTION":
        return await _start_interaction(result)
    return to_response(server_error(f"unexpected action {action!r}"))


async def _start_interaction(result: dict):
    details = PendingRequest.from_response(result)
    failure = unsatisfiable(details)
    if failure:
        return await _fail(result["ticket"], failure)
    update = await parts().tessera.ticket_update(result["ticket"], json.dumps(details.to_dict()))
    if update.get("action") != "OK":
        raise TesseraError("/auth/authorization/ticket/update", 200, str(update.get("action")))
    flow_id = flows.open_flow(result["ticket"])
    return _to_resume(flow_id)


async def _without_interaction(result: dict):
    """OIDC Core §3.1.2.6: prompt=none answers at once — issue, or fail with the reason."""
    details = PendingRequest.from_response(result)
    login = _signed_in(None)
    failure = silent_failure(details, login, now(), _consented(details, login))
    if failure:
        return await _fail(result["ticket"], failure)
    return await _issue(result["ticket"], details, login)


@blueprint.get("/authorize/resume")
async def resume():
    flow_id = request.args.get("flow", "")
    state = flows.flow(flow_id)
    details = await _details(state) if state else None
    if details is None:
        flows.close_flow(flow_id)
        return await _expired()
    login = _signed_in(state)
    step, notice = interactive_step(details, login, state, now(), _consented(details, login))
    if step is Step.ISSUE:
        result = await _issue(state.ticket, details, login)
        flows.close_flow(flow_id)
        return result
    if step is Step.CONSENT:   # the account whose consent this page asks for
        state.username = login.username
        flows.save_flow(flow_id, state)
    return await _page(step, notice, details, login, flow_id)


async def _page(step: Step, notice: Notice, details: PendingRequest, login: Login | None,
                flow_id: str, error: str | None = None, username: str | None = None):
    common = {"service_name": parts().service_name, "client": details.client, "flow": flow_id,
              "csrf_token": flows.flow(flow_id).csrf}
    if step is Step.SELECT_ACCOUNT:
        accounts = [_account(name) for name in browser.signed_in_accounts(now(), _lifetime())]
        return await render_template("select_account.html", accounts=accounts, **common)
    if step is Step.CONSENT:
        return await render_template(
            "consent.html", user=_account(login.username), scopes=details.scopes,
            claims=_shared_claims(details, login), switch_account=True, **common)
    if username is None:
        username = _username_hint(details, login, notice)
    return await render_template("login.html", username=username, error=error,
                                 notice=notice.value, **common)


def _username_hint(details: PendingRequest, login: Login | None, notice: Notice) -> str:
    """Pre-fill the login form: the account the client asked for, else the one to sign in
    again, else the client's login_hint (OIDC Core §3.1.2.1)."""
    requested = parts().users.by_subject(details.subject) if details.subject else None
    if requested:
        return requested.username
    if login and notice in (Notice.REAUTHENTICATE, Notice.TOO_OLD):
        return login.username
    return details.login_hint or ""


@blueprint.post("/authorize/login")
async def login():
    form, flow_id, state = await _posted()
    if state is None:
        return await _refused()
    if form.get("decision") == "deny":
        return await _fail_flow(flow_id, state, "DENIED")
    username = form.get("username", "")
    user, wait = await check_password(username, form.get("password", ""))
    if user is None:
        details = await _details(state)
        if details is None:
            return await _expired()
        message = (f"Too many failed attempts. Try again in {wait} seconds." if wait
                   else "Wrong username or password.")
        page = await _page(Step.LOGIN, Notice.NONE, details, None, flow_id, error=message,
                           username=username)
        return (page, 429, {"Retry-After": str(wait)}) if wait else (page, 400)
    browser.sign_in(user.username, user.subject, now())
    return _advance(flow_id, state, authenticated=True, force_login=False,
                    username=user.username)


@blueprint.post("/authorize/select")
async def select():
    form, flow_id, state = await _posted()
    if state is None:
        return await _refused()
    account = form.get("account", "")
    if browser.switch_to(account):
        return _advance(flow_id, state, selected=True, username=account)
    # "use another account", or one no longer signed in
    return _advance(flow_id, state, selected=True, force_login=True, username=None)


@blueprint.post("/authorize/switch")
async def switch():
    _, flow_id, state = await _posted()
    if state is None:
        return await _refused()
    return _advance(flow_id, state, force_login=True, authenticated=False, username=None)


@blueprint.post("/authorize/consent")
async def consent():
    form, flow_id, state = await _posted()
    if state is None or state.username is None:
        return await _refused()
    if form.get("decision") != "approve":
        return await _fail_flow(flow_id, state, "DENIED")
    details = await _details(state)
    if details is None:
        flows.close_flow(flow_id)
        return await _expired()
    login = _signed_in(state)
    step, _ = interactive_step(details, login, state, now(), consented=False)
    if step is not Step.CONSENT:      # e.g. a login is due first: that page, not a code
        return _to_resume(flow_id)
    result = await _issue(state.ticket, details, login)
    flows.close_flow(flow_id)
    browser.remember_consent(login.subject, details.client_id, details.scope_names,
                             _shared_claims(details, login))
    return result


# --- talking to Tessera ------------------------------------------------------------------

async def _issue(ticket: str, details: PendingRequest, login: Login):
    """Reference §2.1 /auth/authorization/issue: the user's claims reach Tessera only here."""
    user = parts().users.by_username(login.username)
    claims = released_claims(user, details.claims) if user else {}
    result = await parts().tessera.authorization_issue(ticket, login.subject,
                                                       auth_time=login.auth_time, claims=claims)
    return await _answer("auth/authorization/issue", result)


async def _fail(ticket: str, reason: str):
    result = await parts().tessera.authorization_fail(ticket, reason)
    return await _answer("auth/authorization/fail", result)


async def _answer(api: str, result: dict):
    """Reference §2.1's mapping, except that a ticket gone meanwhile (BAD_REQUEST: used,
    expired) is told to the person in the browser as a page rather than as raw JSON."""
    if result.get("action") == "BAD_REQUEST":
        return await _expired()
    return to_response(reply(api, result))


async def _fail_flow(flow_id: str, state: Flow, reason: str):
    result = await _fail(state.ticket, reason)
    flows.close_flow(flow_id)
    return result


async def _details(state: Flow) -> PendingRequest | None:
    """The request's details, kept by Tessera as the ticket's context; None once the ticket
    is gone (used or expired). Any other answer is Tessera's fault, not the user's."""
    info = await parts().tessera.ticket_info(state.ticket)
    if info.get("action") == "NOT_FOUND":
        return None
    context = (info.get("info") or {}).get("context")
    if info.get("action") != "OK" or not context:
        raise TesseraError("/auth/authorization/ticket/info", 200, str(info.get("action")))
    return PendingRequest(**json.loads(context))


# --- the browser side ----------------------------------------------------------------------

async def _posted():
    """The posted form, its flow id and the flow; the flow is None if the CSRF token is wrong
    or the flow is unknown to this browser."""
    form = await request.form
    flow_id = form.get("flow", "")
    state = flows.flow(flow_id)
    if state is None or not state.csrf or not same(form.get("csrf_token") or "", state.csrf):
        return form, flow_id, None
    return form, flow_id, state


def _advance(flow_id: str, state: Flow, **progress):
    """Record the flow's progress in the session and go on to its next step."""
    for name, value in progress.items():
        setattr(state, name, value)
    flows.save_flow(flow_id, state)
    return _to_resume(flow_id)


def _to_resume(flow_id: str):
    return redirect(url_for("authorization.resume", flow=flow_id), 303)


def _signed_in(state: Flow | None) -> Login | None:
    """The flow's account if it has one, else the browser's current one — if still signed in
    and still a configured user."""
    username = state.username if state and state.username else None
    login = (browser.login_of(username, now(), _lifetime()) if username
             else browser.current_login(now(), _lifetime()))
    user = parts().users.by_username(login.username) if login else None
    if user is None:
        return None
    # The configuration, not the cookie, says who the user is now (a subject may be re-mapped).
    return Login(user.username, user.subject, login.auth_time)


def _lifetime() -> int:
    return parts().settings.session_lifetime


def _consented(details: PendingRequest, login: Login | None) -> bool:
    return login is not None and browser.consented(login.subject, details.client_id,
                                                   details.scope_names,
                                                   _shared_claims(details, login))


def _shared_claims(details: PendingRequest, login: Login) -> list[str]:
    """The claims the client may receive that this user actually has: what consent shares."""
    user = parts().users.by_username(login.username)
    return list(released_claims(user, details.all_claims)) if user else []


def _account(username: str) -> dict:
    user = parts().users.by_username(username)
    return {"username": username, "name": (user.claims.get("name") if user else None)}


async def _expired():
    return await _error_page(400, "This sign-in has expired",
                             "The request is no longer valid. Go back to the application "
                             "and start again.")


async def _refused():
    return await _error_page(400, "This form has expired",
                             "The form was sent from another window or too late. Go back to "
                             "the application and start again.")


async def _error_page(status: int, title: str, message: str):
    page = await render_template("error.html", service_name=parts().service_name, title=title,
                                 message=message)
    return page, status


@blueprint.errorhandler(TesseraError)
async def _tessera_failed(error: TesseraError):
    return await _error_page(502, "Something went wrong",
                             "The authorization service is not available right now. "
                             "Please try again later.")


@blueprint.route("/logout", methods=["GET", "POST"])
async def logout():
    """Sign out of every account on this browser (the session cookie is emptied)."""
    if request.method == "POST":
        form = await request.form
        if not browser.csrf_ok(form.get("csrf_token")):
            return await _refused()
        browser.sign_out()
        return await _error_page(200, "Signed out", "You are signed out on this browser.")
    return await render_template("logout.html", service_name=parts().service_name,
                                 csrf_token=browser.csrf_token())
