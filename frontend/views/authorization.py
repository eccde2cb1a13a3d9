"""The authorization endpoint (RFC 6749 §3.1, OIDC Core §3.1.2) with its login, account
selection and consent pages (reference §2.1).

GET/POST /authorize hands the request to Tessera. For INTERACTION the flow's ticket goes into
the session under a random flow id and Tessera keeps the request's details as the ticket's
context; every page then posts back to /authorize/<step> and is redirected (303) to
/authorize/resume, which decides the next step. NO_INTERACTION (prompt=none) is decided at
once, without any page.
"""

import json

from quart import Blueprint, redirect, render_template, request, url_for

from frontend import session as browser
from frontend.interaction import (
    Flow,
    Notice,
    Request,
    Step,
    interactive_step,
    silent_failure,
)
from frontend.responses import reply, server_error
from frontend.tessera import TesseraError
from frontend.users import released_claims
from frontend.views.plumbing import (
    check_password,
    form_body,
    now,
    parts,
    to_response,
    wrong_content_type,
)

blueprint = Blueprint("authorization", __name__)

_ANSWERED = {"INTERNAL_SERVER_ERROR", "BAD_REQUEST", "LOCATION", "FORM"}


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
    details = Request.from_response(result)
    update = await parts().tessera.ticket_update(result["ticket"], json.dumps(details.to_dict()))
    if update.get("action") != "OK":
        return to_response(server_error("the ticket could not be updated"))
    flow_id = browser.open_flow(result["ticket"])
    return redirect(url_for("authorization.resume", flow=flow_id), 303)


async def _without_interaction(result: dict):
    """OIDC Core §3.1.2.6: prompt=none answers at once — issue, or fail with the reason."""
    details = Request.from_response(result)
    login = _login()
    failure = silent_failure(details, login, now(), _consented(details, login))
    if failure:
        return await _fail(result["ticket"], failure)
    return await _issue(result["ticket"], details, login)


@blueprint.get("/authorize/resume")
async def resume():
    flow_id = request.args.get("flow")
    state = browser.flow(flow_id)
    if state is None:
        return await _expired()
    details = await _details(state)
    if details is None:
        browser.close_flow(flow_id)
        return await _expired()
    login = _login()
    step, notice = interactive_step(details, login, state, now(), _consented(details, login))
    if step is Step.ISSUE:
        browser.close_flow(flow_id)
        return await _issue(state.ticket, details, login)
    return await _page(step, notice, details, login, flow_id)


async def _page(step: Step, notice: Notice, details: Request, login, flow_id: str):
    common = {"service_name": parts().service_name, "client": details.client, "flow": flow_id,
              "csrf_token": browser.csrf_token()}
    if step is Step.SELECT_ACCOUNT:
        accounts = [_account(name) for name in browser.signed_in_accounts(now(), _lifetime())]
        return await render_template("select_account.html", accounts=accounts, **common)
    if step is Step.CONSENT:
        return await render_template(
            "consent.html", user=_account(login.username), scopes=details.scopes,
            claims=_shared_claims(details, login), switch_account=True, **common)
    username = (login.username if login and notice is not Notice.NONE else
                details.login_hint or "")
    return await render_template("login.html", username=username, error=None,
                                 notice=notice.value, **common)


@blueprint.post("/authorize/login")
async def login():
    form, flow_id, state = await _posted()
    if state is None:
        return await _refused()
    if form.get("decision") == "deny":
        browser.close_flow(flow_id)
        return await _fail(state.ticket, "DENIED")
    username = form.get("username", "")
    user, wait = check_password(username, form.get("password", ""))
    if wait:
        page, _ = await _login_again(
            state, flow_id, username, f"Too many failed attempts. Try again in {wait} seconds.")
        return page, 429, {"Retry-After": str(wait)}
    if user is None:
        return await _login_again(state, flow_id, username, "Wrong username or password.")
    browser.sign_in(user.username, user.subject, now())
    state.authenticated, state.force_login = True, False
    browser.save_flow(flow_id, state)
    return redirect(url_for("authorization.resume", flow=flow_id), 303)


async def _login_again(state: Flow, flow_id: str, username: str, error: str):
    details = await _details(state)
    if details is None:
        return await _expired()
    page = await render_template(
        "login.html", service_name=parts().service_name, client=details.client,
        username=username, error=error, notice=None, flow=flow_id,
        csrf_token=browser.csrf_token())
    return page, 401


@blueprint.post("/authorize/select")
async def select():
    form, flow_id, state = await _posted()
    if state is None:
        return await _refused()
    if not browser.switch_to(form.get("account", "")):
        state.force_login = True     # "use another account", or one no longer signed in
    state.selected = True
    browser.save_flow(flow_id, state)
    return redirect(url_for("authorization.resume", flow=flow_id), 303)


@blueprint.post("/authorize/switch")
async def switch():
    _, flow_id, state = await _posted()
    if state is None:
        return await _refused()
    state.force_login, state.authenticated = True, False
    browser.save_flow(flow_id, state)
    return redirect(url_for("authorization.resume", flow=flow_id), 303)


@blueprint.post("/authorize/consent")
async def consent():
    form, flow_id, state = await _posted()
    login = _login()
    if state is None or login is None:
        return await _refused()
    browser.close_flow(flow_id)
    if form.get("decision") != "approve":
        return await _fail(state.ticket, "DENIED")
    details = await _details(state)
    if details is None:
        return await _expired()
    browser.remember_consent(login.subject, details.client_id, details.scope_names,
                             details.all_claims)
    return await _issue(state.ticket, details, login)


# --- talking to Tessera ------------------------------------------------------------------

async def _issue(ticket: str, details: Request, login):
    """Reference §2.1 /auth/authorization/issue: the user's claims reach Tessera only here."""
    user = parts().users.by_subject(login.subject)
    claims = released_claims(user, details.claims) if user else {}
    result = await parts().tessera.authorization_issue(ticket, login.subject,
                                                       auth_time=login.auth_time, claims=claims)
    return to_response(reply("auth/authorization/issue", result))


async def _fail(ticket: str, reason: str):
    result = await parts().tessera.authorization_fail(ticket, reason)
    return to_response(reply("auth/authorization/fail", result))


async def _details(state: Flow) -> Request | None:
    """The request's details, kept by Tessera as the ticket's context; None once the ticket
    is gone (used or expired)."""
    info = await parts().tessera.ticket_info(state.ticket)
    context = (info.get("info") or {}).get("context") if info.get("action") == "OK" else None
    return Request(**json.loads(context)) if context else None


# --- the browser side ----------------------------------------------------------------------

async def _posted():
    """The posted form, its flow id and the flow; the flow is None if the CSRF token is wrong
    or the flow is unknown to this browser."""
    form = await request.form
    flow_id = form.get("flow", "")
    if not browser.csrf_ok(form.get("csrf_token")):
        return form, flow_id, None
    return form, flow_id, browser.flow(flow_id)


def _login():
    return browser.current_login(now(), _lifetime())


def _lifetime() -> int:
    return parts().settings.session_lifetime


def _consented(details: Request, login) -> bool:
    return login is not None and browser.consented(login.subject, details.client_id,
                                                   details.scope_names, details.all_claims)


def _shared_claims(details: Request, login) -> list[str]:
    """The claims the client may receive that this user actually has: what consent shares."""
    user = parts().users.by_subject(login.subject)
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
