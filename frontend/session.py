"""The browser session, kept in Quart's signed cookie (HttpOnly, SameSite=Lax).

Contents: the accounts signed in on this browser with their authentication times, the current
one, the consents given, and a CSRF token for the sign-out form. Open authorization flows have
cookies of their own (frontend/flows.py). Nothing secret about the user is stored.
"""

import json
import secrets

from quart import session

from frontend.interaction import Login
from frontend.users import same

MAX_ACCOUNTS = 4
MAX_CONSENTS = 16
MAX_CONSENT_BYTES = 2048


def csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(24)
    return session["csrf"]


def csrf_ok(token: str | None) -> bool:
    expected = session.get("csrf")
    return bool(token and expected) and same(token, expected)


def current_login(now: int, lifetime: int) -> Login | None:
    return login_of(session.get("current"), now, lifetime)


def login_of(username: str | None, now: int, lifetime: int) -> Login | None:
    """The sign-in of `username` on this browser, unless it is missing or too old."""
    account = (session.get("accounts") or {}).get(username or "")
    if not account or now - account["auth_time"] >= lifetime:
        return None
    return Login(username, account["subject"], account["auth_time"])


def signed_in_accounts(now: int, lifetime: int) -> list[str]:
    accounts = session.get("accounts") or {}
    return [name for name, account in accounts.items() if now - account["auth_time"] < lifetime]


def sign_in(username: str, subject: str, now: int) -> None:
    session.pop("csrf", None)   # a new sign-in gets a new CSRF token
    accounts = dict(session.get("accounts") or {})
    accounts.pop(username, None)
    accounts[username] = {"subject": subject, "auth_time": now}
    session["accounts"] = dict(list(accounts.items())[-MAX_ACCOUNTS:])
    session["current"] = username


def switch_to(username: str) -> bool:
    if username not in (session.get("accounts") or {}):
        return False
    session["current"] = username
    return True


def consented(subject: str, client_id: str, scopes: list[str], claims: list[str]) -> bool:
    given = (session.get("consents") or {}).get(f"{subject} {client_id}")
    return bool(given) and set(scopes) <= set(given["scopes"]) and set(claims) <= set(
        given["claims"])


def remember_consent(subject: str, client_id: str, scopes: list[str],
                     claims: list[str]) -> None:
    consents = dict(session.get("consents") or {})
    key = f"{subject} {client_id}"
    given = consents.pop(key, {"scopes": [], "claims": []})   # a consent adds to the last one
    consents[key] = {"scopes": sorted({*given["scopes"], *scopes}),
                     "claims": sorted({*given["claims"], *claims})}
    consents = dict(list(consents.items())[-MAX_CONSENTS:])
    # Browsers ignore cookies over 4 KB, and then every later sign-in would be lost.
    while len(consents) > 1 and len(json.dumps(consents)) > MAX_CONSENT_BYTES:
        consents.pop(next(iter(consents)))
    session["consents"] = consents


def sign_out() -> None:
    session.clear()
