"""Authorization responses: how the answer of the authorization endpoint reaches the client.

- `query` and `fragment` encode the parameters into the redirect URI (RFC 6749 §4.1.2, §4.2.2;
  OAuth 2.0 Multiple Response Types §2.1); the front-end answers 302 with `Location`.
- `form_post` is an auto-submitting HTML form (OAuth 2.0 Form Post Response Mode §2); the
  front-end answers 200 with the page.
- Errors the client must not be redirected for (an unknown client, an unregistered redirect URI)
  are JSON for the front-end to show (RFC 6749 §4.1.2.1).

Every redirected response carries `iss` unless the service sets `issSuppressed` (RFC 9207 §2).
"""

import html
import json
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlencode

from app.protocol.actions import ActionResult
from app.protocol.result_codes import ResultCode

RESPONSE_MODES = ("query", "fragment", "form_post")
# RFC 6749 §4.1.2.1 / §5.2: error_description is limited to %x20-21 / %x23-5B / %x5D-7E.
_DESCRIPTION_CHARS = frozenset(chr(c) for c in range(0x20, 0x7F)) - {'"', "\\"}


class RedirectTarget(Protocol):
    """Where a response goes: an `AuthorizationRequest`, or the part of one known so far."""
    redirect_uri: str
    response_mode: str
    state: str | None


@dataclass(frozen=True)
class Redirection:
    """The destination of a request that failed after its redirect URI was established."""
    redirect_uri: str
    response_mode: str  # "query" | "fragment" | "form_post"
    state: str | None


# --- Encodings -------------------------------------------------------------------------------

def redirect_location(redirect_uri: str, response_mode: str, params: dict[str, str]) -> str:
    """The redirect URI with `params` added to its query or fragment component."""
    if response_mode == "query":
        return _with_query(redirect_uri, params)
    if response_mode == "fragment":
        return _with_fragment(redirect_uri, params)
    raise ValueError(f"'{response_mode}' is not a redirecting response mode")


def _with_query(redirect_uri: str, params: dict[str, str]) -> str:
    # RFC 6749 §3.1.2: the redirect URI's own query component MUST be retained.
    if not params:
        return redirect_uri
    base, _, query = redirect_uri.partition("?")
    return f"{base}?{'&'.join(filter(None, [query, urlencode(params)]))}"


def _with_fragment(redirect_uri: str, params: dict[str, str]) -> str:
    # A registered redirect URI has no fragment (RFC 6749 §3.1.2), so the whole fragment is ours.
    base = redirect_uri.partition("#")[0]
    return f"{base}#{urlencode(params)}" if params else base


_FORM_POST_PAGE = """<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<meta name="referrer" content="no-referrer">
<title>Submit This Form</title>
</head>
<body onload="document.forms[0].submit()">
<form method="post" action="{action}">
{inputs}
<noscript><p>JavaScript is disabled. Press the button to continue.</p>
<button type="submit">Continue</button></noscript>
</form>
</body>
</html>
"""


def form_post_page(redirect_uri: str, params: dict[str, str]) -> str:
    """An HTML page whose form POSTs `params` to the redirect URI as soon as it loads (OAuth 2.0
    Form Post Response Mode §2); without JavaScript the user presses the visible button."""
    inputs = "\n".join(
        f'<input type="hidden" name="{_escaped(name)}" value="{_escaped(value)}">'
        for name, value in params.items())
    return _FORM_POST_PAGE.format(action=_escaped(redirect_uri), inputs=inputs)


def _escaped(value: str) -> str:
    return html.escape(value, quote=True)


def response_content(target: RedirectTarget, params: dict[str, str]) -> str:
    """The `responseContent` of a LOCATION (the URL) or FORM (the page) answer."""
    if target.response_mode == "form_post":
        return form_post_page(target.redirect_uri, params)
    return redirect_location(target.redirect_uri, target.response_mode, params)


def response_action(target: RedirectTarget) -> str:
    return "FORM" if target.response_mode == "form_post" else "LOCATION"


# --- Errors ----------------------------------------------------------------------------------

def error_action(code: ResultCode, target: RedirectTarget | None) -> str:
    """LOCATION / FORM once the redirect URI is trusted; before that BAD_REQUEST for the
    client's mistakes and INTERNAL_SERVER_ERROR for the caller's or the server's (categories 2
    and 1, reference §4)."""
    if target is not None:
        return response_action(target)
    return "INTERNAL_SERVER_ERROR" if code.code[4] in "12" else "BAD_REQUEST"


def error_result(request_or_partial: RedirectTarget | None, code: ResultCode,
                 service_document: dict, **params: object) -> ActionResult:
    """The action answering a failed authorization request, with its `responseContent`."""
    action = error_action(code, request_or_partial)
    if request_or_partial is None:
        content = json.dumps(_error_members(code, service_document, params))
    else:
        redirected = _redirected_error(request_or_partial, code, service_document, params)
        content = response_content(request_or_partial, redirected)
    return ActionResult(action, code, dict(params), response_content=content)


def _error_members(code: ResultCode, service_document: dict, params: dict) -> dict[str, str]:
    members = {"error": code.oauth_error or "invalid_request"}
    if not service_document.get("errorDescriptionOmitted"):
        members["error_description"] = oauth_description(code.message(**params))
    return members


def _redirected_error(target: RedirectTarget, code: ResultCode, service_document: dict,
                      params: dict) -> dict[str, str]:
    # RFC 6749 §4.1.2.1: `state` exactly as received; RFC 9207 §2: `iss` in error responses too.
    members = _error_members(code, service_document, params)
    if target.state is not None:
        members["state"] = target.state
    members.update(issuer_parameter(service_document))
    return members


def issuer_parameter(service_document: dict) -> dict[str, str]:
    """`{"iss": issuer}` for an authorization response, or nothing (RFC 9207 §2)."""
    issuer = service_document.get("issuer")
    if not issuer or service_document.get("issSuppressed"):
        return {}
    return {"iss": issuer}


def oauth_description(message: str) -> str:
    """RFC 6749 §5.2: error_description holds %x20-21 / %x23-5B / %x5D-7E only."""
    text = message.replace("§", "Section ").replace('"', "'").replace("\\", "/")
    return "".join(ch if ch in _DESCRIPTION_CHARS else "?" for ch in text)
