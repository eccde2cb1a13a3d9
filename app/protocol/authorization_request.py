"""The authorization request (RFC 6749 §4.1.1 / §4.2.1, OIDC Core §3.1.2.1): from the raw
`parameters` of `/auth/authorization` to a validated `AuthorizationRequest`, as a checklist that
reads like the specifications (`CHECKS` below):

    check_parameters_present → load_client → check_client_not_locked → reject_request_objects
    → check_redirect_uri → assign_redirection
    → check_response_type → check_response_mode → check_redirect_uri_for_tokens
    → check_duplicates → check_request_object_requirements → check_scope → check_prompt
    → check_openid_rules → check_pkce → check_max_age → check_display → check_claims
    → check_resources → assign_client_defaults

Every failure raises `AuthorizationError`. Until `assign_redirection` the client or its redirect
URI is not established, so the error is not redirected (RFC 6749 §4.1.2.1): action BAD_REQUEST
with a JSON `responseContent` (INTERNAL_SERVER_ERROR when the caller sent no `parameters` at
all). From then on it goes back to the client: LOCATION (query / fragment) or FORM (form_post),
with `error`, `error_description`, `state` and `iss` (`AuthorizationError.to_result`). Two later
redirect-URI rules are not redirected either, because the URI itself is what is wrong: an https,
non-localhost URI for tokens in the front channel, and an explicit `redirect_uri` for OpenID.

The caller provides `find_client`, which resolves a `client_id` (a client ID or an alias, with
the service's alias rules applied) to the client and whether the alias was used.

Deliberately out of scope for now, and refused with a specific error rather than ignored (their
values would override the ones outside them): `request` (OIDC Core §6.1, RFC 9101) answers
`request_not_supported`, `request_uri` (OIDC Core §6.2, RFC 9126) answers
`request_uri_not_supported`; a service or client that requires request objects or PAR gets its
requests refused. JWT-secured response modes (JARM) are refused too. `id_token_hint` and
`login_hint` are passed on unverified, for the caller's user-facing checks.
"""

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field, replace
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from app.protocol import result_codes as rc
from app.protocol.actions import ActionFailure, ActionResult
from app.protocol.authorization_response import (
    RESPONSE_MODES,
    Redirection,
    error_action,
    error_result,
)
from app.protocol.client_rules import with_defaults as client_with_defaults
from app.protocol.ports import ClientRecord, ServiceRecord
from app.protocol.result_codes import ResultCode
from app.protocol.service_rules import with_defaults as service_with_defaults
from app.protocol.uris import is_loopback

FindClient = Callable[[str], Awaitable[tuple[ClientRecord, bool] | None]]

# OAuth 2.0 Multiple Response Types §3-§5: the order of the space-separated values is irrelevant.
RESPONSE_TYPE_NAMES = {
    frozenset({"none"}): "NONE",
    frozenset({"code"}): "CODE",
    frozenset({"token"}): "TOKEN",
    frozenset({"id_token"}): "ID_TOKEN",
    frozenset({"code", "token"}): "CODE_TOKEN",
    frozenset({"code", "id_token"}): "CODE_ID_TOKEN",
    frozenset({"id_token", "token"}): "ID_TOKEN_TOKEN",
    frozenset({"code", "id_token", "token"}): "CODE_ID_TOKEN_TOKEN",
}
JWT_RESPONSE_MODES = ("jwt", "query.jwt", "fragment.jwt", "form_post.jwt")  # JARM §2.3
PROMPT_VALUES = ("none", "login", "consent", "select_account", "create")
DISPLAY_VALUES = ("page", "popup", "touch", "wap")
# RFC 8707 §2: `resource` may be repeated; every other parameter may not (RFC 6749 §3.1).
REPEATABLE_PARAMETERS = frozenset({"resource"})
# RFC 7636 §4.2: code-challenge = 43*128unreserved
CODE_CHALLENGE = re.compile(r"[A-Za-z0-9\-._~]{43,128}", re.ASCII)
MAX_AGE = re.compile(r"[0-9]{1,10}", re.ASCII)
MAX_AGE_LIMIT = 2**31 - 1  # the reference's maxAge is a 32-bit integer
_SHOWN_CHARS = 120


@dataclass(frozen=True)
class AuthorizationRequest:
    """A validated authorization request, stored with its ticket (JSON-serialisable)."""
    client_id: int
    client_id_alias_used: bool
    response_type: str  # ResponseType enum name, e.g. "CODE_ID_TOKEN"
    redirect_uri: str
    redirect_uri_explicit: bool
    response_mode: str  # "query" | "fragment" | "form_post"
    scopes: list[str]
    state: str | None
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None  # "S256" | "plain" | None
    prompts: list[str]  # Prompt enum names: NONE, LOGIN, CONSENT, SELECT_ACCOUNT, CREATE
    max_age: int | None
    display: str | None  # Display enum name: PAGE, POPUP, TOUCH, WAP
    ui_locales: list[str]
    claims_locales: list[str]
    acr_values: list[str]
    claims: dict | None  # the parsed `claims` parameter (OIDC Core §5.5)
    login_hint: str | None
    id_token_hint: str | None
    openid: bool
    resources: list[str]

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, members: dict) -> "AuthorizationRequest":
        return cls(**members)


class AuthorizationError(ActionFailure):
    """A refused authorization request; `destination` is None until the redirect URI is
    established, which decides the action (see `authorization_response.error_action`)."""

    def __init__(self, code: ResultCode, destination: Redirection | None = None,
                 **params: object) -> None:
        super().__init__(error_action(code, destination), code, **params)
        self.destination = destination

    def to_result(self, service_document: dict) -> ActionResult:
        return error_result(self.destination, self.code, service_document, **self.params)


@dataclass
class _Pending:
    """The request while it is being checked; each step reads and fills some members."""
    service: dict
    values: dict[str, list[str]]
    client: ClientRecord | None = None
    client_document: dict = field(default_factory=dict)
    alias_used: bool = False
    redirect_uri: str = ""
    redirect_uri_explicit: bool = False
    destination: Redirection | None = None
    state: str | None = None
    response_type: str = ""
    response_words: frozenset[str] = frozenset()
    response_mode: str = "query"
    scopes: list[str] = field(default_factory=list)
    prompts: list[str] = field(default_factory=list)
    openid: bool = False
    nonce: str | None = None
    code_challenge: str | None = None
    code_challenge_method: str | None = None
    max_age: int | None = None
    display: str | None = None
    claims: dict | None = None
    resources: list[str] = field(default_factory=list)
    acr_values: list[str] = field(default_factory=list)


async def parse_authorization_request(parameters: str | None, service: ServiceRecord,
                                      find_client: FindClient) -> AuthorizationRequest:
    pending = check_parameters_present(parameters, service)
    await load_client(pending, find_client)
    for check in CHECKS:
        check(pending)
    return assign_request(pending)


# --- Helpers shared by the steps -----------------------------------------------------------------

def _fail(pending: _Pending, code: ResultCode, **params: object) -> AuthorizationError:
    """An error sent where the request currently stands: redirected once that is known."""
    return AuthorizationError(code, pending.destination, **params)


def _single(pending: _Pending, name: str) -> str | None:
    values = pending.values.get(name, [])
    if len(values) > 1:
        raise _fail(pending, rc.AUTHZ_PARAMETER_REPEATED, name=name, count=len(values))
    return values[0] if values else None


def _first(pending: _Pending, name: str) -> str:
    return (pending.values.get(name) or [""])[0]


def _words(value: str | None) -> list[str]:
    """A space-delimited list (RFC 6749 §3.3, OIDC Core §3.1.2.1), duplicates dropped."""
    return list(dict.fromkeys((value or "").split()))


def _shown(value: str) -> str:
    return value if len(value) <= _SHOWN_CHARS else value[:_SHOWN_CHARS - 3] + "..."


def _requirer(pending: _Pending, flag: str) -> str | None:
    """Who sets `flag` (requirements are OR-ed across service and client, reference §3)."""
    if pending.service.get(flag):
        return "the service"
    if pending.client_document.get(flag):
        return f"the client (ID = {pending.client.client_id})"
    return None


# --- The client ----------------------------------------------------------------------------------

def check_parameters_present(parameters: str | None, service: ServiceRecord) -> _Pending:
    # Reference §2.0: no `parameters` is the caller's mistake; empty ones are the client's.
    if not isinstance(parameters, str):
        raise AuthorizationError(rc.AUTHZ_PARAMETERS_MISSING)
    values: dict[str, list[str]] = {}
    # RFC 6749 §3.1: a parameter sent without a value is treated as omitted.
    for name, value in parse_qsl(parameters):
        values.setdefault(name, []).append(value)
    if not values:
        raise AuthorizationError(rc.AUTHZ_PARAMETERS_EMPTY)
    return _Pending(service=service_with_defaults(service.document), values=values)


async def load_client(pending: _Pending, find_client: FindClient) -> None:
    identifier = _single(pending, "client_id")
    if identifier is None:
        raise _fail(pending, rc.AUTHZ_CLIENT_ID_MISSING)
    found = await find_client(identifier)
    if found is None:
        raise _fail(pending, rc.AUTHZ_CLIENT_UNKNOWN, client_id=_shown(identifier))
    pending.client, pending.alias_used = found
    # Members set to null count as unset, so the defaults of client_rules apply to them.
    document = {k: v for k, v in pending.client.document.items() if v is not None}
    pending.client_document = client_with_defaults(document)


def check_client_not_locked(pending: _Pending) -> None:
    if pending.client.locked:
        raise _fail(pending, rc.AUTHZ_CLIENT_LOCKED, client_id=pending.client.client_id)


def reject_request_objects(pending: _Pending) -> None:
    # OIDC Core §6.1 / §6.2: an OP that does not process them says so. Not redirected: the
    # request object may carry the redirect URI and response mode the client expects.
    if "request" in pending.values:
        raise _fail(pending, rc.AUTHZ_REQUEST_OBJECT_UNSUPPORTED)
    if "request_uri" in pending.values:
        raise _fail(pending, rc.AUTHZ_REQUEST_URI_UNSUPPORTED)


# --- The redirect URI (RFC 6749 §3.1.2, RFC 8252 §7.3) -------------------------------------------

def check_redirect_uri(pending: _Pending) -> None:
    requested = _single(pending, "redirect_uri")
    registered = pending.client_document.get("redirectUris", [])
    if requested is None:
        pending.redirect_uri = _the_registered_redirect_uri(pending, registered)
        return
    if "#" in requested:
        raise _fail(pending, rc.AUTHZ_REDIRECT_URI_HAS_FRAGMENT, redirect_uri=_shown(requested))
    if not _is_registered(pending, requested, registered):
        raise _fail(pending, rc.AUTHZ_REDIRECT_URI_NOT_REGISTERED,
                    redirect_uri=_shown(requested), client_id=pending.client.client_id)
    pending.redirect_uri, pending.redirect_uri_explicit = requested, True


def _the_registered_redirect_uri(pending: _Pending, registered: list[str]) -> str:
    # RFC 6749 §3.1.2.3: without `redirect_uri` only a single registered URI is unambiguous.
    client_id = pending.client.client_id
    if not registered:
        raise _fail(pending, rc.AUTHZ_REDIRECT_URI_NONE_REGISTERED, client_id=client_id)
    if len(registered) > 1:
        raise _fail(pending, rc.AUTHZ_REDIRECT_URI_AMBIGUOUS, client_id=client_id,
                    count=len(registered))
    return registered[0]


def _is_registered(pending: _Pending, requested: str, registered: list[str]) -> bool:
    # RFC 6749 §3.1.2.3 / OIDC Core §3.1.2.1: simple string comparison, except that loopback
    # redirect URIs of native apps may use any port (RFC 8252 §7.3), as may every client's when
    # the service sets `loopbackRedirectionUriVariable`.
    if requested in registered:
        return True
    port_variable = (pending.client_document["applicationType"] == "NATIVE"
                     or pending.service.get("loopbackRedirectionUriVariable"))
    portless = _loopback_without_port(requested)
    return bool(port_variable and portless
                and portless in {_loopback_without_port(uri) for uri in registered})


def _loopback_without_port(uri: str) -> str | None:
    """An http loopback URI with its port removed; None for any other URI."""
    try:
        parts = urlsplit(uri)
    except ValueError:
        return None
    if parts.scheme != "http" or parts.username or not is_loopback(parts.hostname):
        return None
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return urlunsplit(parts._replace(netloc=host))


def assign_redirection(pending: _Pending) -> None:
    """From here on errors go back to the client (RFC 6749 §4.1.2.1), with `state` as given."""
    pending.destination = Redirection(pending.redirect_uri, _provisional_mode(pending), None)
    pending.state = _single(pending, "state")
    pending.destination = replace(pending.destination, state=pending.state)


def _provisional_mode(pending: _Pending) -> str:
    """The response mode for errors found before `response_mode` is validated: the requested
    one when usable, else the default of the requested response type."""
    front_channel = _returns_tokens(set(_first(pending, "response_type").split()))
    requested = _first(pending, "response_mode").removesuffix(".jwt")
    if requested in ("fragment", "form_post") or (requested == "query" and not front_channel):
        return requested
    return "fragment" if front_channel else "query"


def _returns_tokens(words: set[str] | frozenset[str]) -> bool:
    return bool(words & {"token", "id_token"})


# --- Response type and response mode -------------------------------------------------------------

def check_response_type(pending: _Pending) -> None:
    value = _single(pending, "response_type")
    if value is None:
        raise _fail(pending, rc.AUTHZ_RESPONSE_TYPE_MISSING)
    words = value.split()
    name = RESPONSE_TYPE_NAMES.get(frozenset(words)) if len(set(words)) == len(words) else None
    if name is None:
        raise _fail(pending, rc.AUTHZ_RESPONSE_TYPE_UNKNOWN, value=_shown(value))
    if name not in pending.service["supportedResponseTypes"]:
        raise _fail(pending, rc.AUTHZ_RESPONSE_TYPE_UNSUPPORTED, response_type=value)
    if name not in pending.client_document["responseTypes"]:
        raise _fail(pending, rc.AUTHZ_RESPONSE_TYPE_NOT_DECLARED, response_type=value,
                    client_id=pending.client.client_id)
    pending.response_type, pending.response_words = name, frozenset(words)


def check_response_mode(pending: _Pending) -> None:
    requested = _single(pending, "response_mode")
    if requested is None:
        pending.response_mode = _default_response_mode(pending.response_words)
    else:
        pending.response_mode = _requested_response_mode(pending, requested)
    pending.destination = replace(pending.destination, response_mode=pending.response_mode)


def _default_response_mode(words: frozenset[str]) -> str:
    # OAuth 2.0 Multiple Response Types §2.1, §5: query for code (and none), fragment as soon as
    # the response carries a token or an ID token.
    return "fragment" if _returns_tokens(words) else "query"


def _requested_response_mode(pending: _Pending, requested: str) -> str:
    if requested in JWT_RESPONSE_MODES:
        raise _fail(pending, rc.AUTHZ_RESPONSE_MODE_JWT_UNSUPPORTED, value=requested)
    if requested not in RESPONSE_MODES:
        raise _fail(pending, rc.AUTHZ_RESPONSE_MODE_UNKNOWN, value=_shown(requested))
    if requested == "query" and _returns_tokens(pending.response_words):
        # Multiple Response Types §5: tokens must not travel in the query (logs, Referer).
        raise _fail(pending, rc.AUTHZ_RESPONSE_MODE_QUERY_FORBIDDEN,
                    response_type=_first(pending, "response_type"))
    return requested


def check_redirect_uri_for_tokens(pending: _Pending) -> None:
    # OIDC Registration §2: a web client receiving tokens in the front channel needs an https
    # redirect URI that is not localhost. Not redirected: the URI is unfit for this flow.
    if (pending.client_document["applicationType"] != "WEB"
            or not _returns_tokens(pending.response_words)):
        return
    parts = urlsplit(pending.redirect_uri)
    shown = {"redirect_uri": _shown(pending.redirect_uri),
             "response_type": _first(pending, "response_type")}
    if parts.scheme != "https":
        raise AuthorizationError(rc.AUTHZ_REDIRECT_URI_NOT_HTTPS, **shown)
    if is_loopback(parts.hostname):
        raise AuthorizationError(rc.AUTHZ_REDIRECT_URI_LOCALHOST, **shown)


# --- Parameters ----------------------------------------------------------------------------------

def check_duplicates(pending: _Pending) -> None:
    for name, values in pending.values.items():
        if len(values) > 1 and name not in REPEATABLE_PARAMETERS:
            raise _fail(pending, rc.AUTHZ_PARAMETER_REPEATED, name=_shown(name),
                        count=len(values))


def check_request_object_requirements(pending: _Pending) -> None:
    requirer = _requirer(pending, "requestObjectRequired")
    if requirer:
        raise _fail(pending, rc.AUTHZ_REQUEST_OBJECT_REQUIRED, requirer=requirer)
    requirer = _requirer(pending, "parRequired")
    if requirer:
        raise _fail(pending, rc.AUTHZ_PAR_REQUIRED, requirer=requirer)


def check_scope(pending: _Pending) -> None:
    # Reference §3: unknown and non-requestable scopes are dropped silently; the service's
    # `defaultEntry` scopes stand in when nothing usable remains.
    requested = _single(pending, "scope")
    scopes = _usable_scopes(pending, _words(requested))
    if not scopes:
        defaults = [s["name"] for s in pending.service["supportedScopes"] if s.get("defaultEntry")]
        scopes = _usable_scopes(pending, defaults)
    if not scopes and pending.service.get("scopeRequired"):
        raise _fail(pending, rc.AUTHZ_SCOPE_MISSING,
                    requested=f"'{_shown(requested)}'" if requested else "none")
    pending.scopes = scopes


def _usable_scopes(pending: _Pending, names: list[str]) -> list[str]:
    supported = {scope["name"] for scope in pending.service["supportedScopes"]}
    extension = pending.client_document.get("extension", {})
    requestable = (set(extension.get("requestableScopes", []))
                   if extension.get("requestableScopesEnabled") else supported)
    return [name for name in names if name in supported and name in requestable]


def check_prompt(pending: _Pending) -> None:
    names = [_prompt_name(pending, value) for value in _words(_single(pending, "prompt"))]
    if "NONE" in names and len(names) > 1:
        others = " ".join(name.lower() for name in names if name != "NONE")
        raise _fail(pending, rc.AUTHZ_PROMPT_NONE_NOT_ALONE, others=others)
    pending.prompts = names


def _prompt_name(pending: _Pending, value: str) -> str:
    # OIDC Prompt Create §4.1: a value outside prompt_values_supported is invalid_request.
    supported = pending.service.get("supportedPromptValues") or [v.upper() for v in PROMPT_VALUES]
    if value not in PROMPT_VALUES or value.upper() not in supported:
        raise _fail(pending, rc.AUTHZ_PROMPT_UNSUPPORTED, value=_shown(value),
                    supported=", ".join(name.lower() for name in supported))
    return value.upper()


# --- OpenID Connect (OIDC Core §3.1.2.1, §11) ----------------------------------------------------

def check_openid_rules(pending: _Pending) -> None:
    pending.openid = "openid" in pending.scopes
    pending.nonce = _single(pending, "nonce")
    _check_redirect_uri_given(pending)
    _check_id_token_needs_openid(pending)
    _check_nonce(pending)
    _check_offline_access(pending)


def _check_redirect_uri_given(pending: _Pending) -> None:
    # OIDC Core §3.1.2.1: redirect_uri is REQUIRED. Not redirected: the URI was not given.
    if pending.openid and not pending.redirect_uri_explicit:
        raise AuthorizationError(rc.AUTHZ_REDIRECT_URI_REQUIRED_FOR_OPENID)


def _check_id_token_needs_openid(pending: _Pending) -> None:
    if "id_token" in pending.response_words and not pending.openid:
        raise _fail(pending, rc.AUTHZ_RESPONSE_TYPE_NEEDS_OPENID,
                    response_type=_first(pending, "response_type"))


def _check_nonce(pending: _Pending) -> None:
    # OIDC Core §3.2.2.1, §3.3.2.11: an ID token from the authorization endpoint binds a nonce.
    if "id_token" in pending.response_words and pending.nonce is None:
        raise _fail(pending, rc.AUTHZ_NONCE_MISSING,
                    response_type=_first(pending, "response_type"))


def _check_offline_access(pending: _Pending) -> None:
    if not pending.openid or "offline_access" not in pending.scopes:
        return
    if "code" not in pending.response_words:
        # OIDC Core §11: without an authorization code the OP MUST ignore offline_access.
        pending.scopes = [scope for scope in pending.scopes if scope != "offline_access"]
    elif "CONSENT" not in pending.prompts:
        raise _fail(pending, rc.AUTHZ_OFFLINE_ACCESS_NEEDS_CONSENT)


# --- PKCE (RFC 7636 §4.2, §4.3) ------------------------------------------------------------------

def check_pkce(pending: _Pending) -> None:
    challenge = _single(pending, "code_challenge")
    method = _single(pending, "code_challenge_method")
    if challenge is None:
        _check_pkce_not_required(pending, method)
        return
    if not CODE_CHALLENGE.fullmatch(challenge):
        raise _fail(pending, rc.AUTHZ_CODE_CHALLENGE_MALFORMED, length=len(challenge))
    pending.code_challenge = challenge
    pending.code_challenge_method = _code_challenge_method(pending, method)


def _check_pkce_not_required(pending: _Pending, method: str | None) -> None:
    if method is not None:
        raise _fail(pending, rc.AUTHZ_CODE_CHALLENGE_METHOD_ALONE)
    requirer = _requirer(pending, "pkceRequired")
    # PKCE protects the authorization code; a response without one has nothing to protect.
    if requirer and "code" in pending.response_words:
        raise _fail(pending, rc.AUTHZ_CODE_CHALLENGE_MISSING, requirer=requirer)


def _code_challenge_method(pending: _Pending, method: str | None) -> str:
    if method is not None and method not in ("S256", "plain"):
        raise _fail(pending, rc.AUTHZ_CODE_CHALLENGE_METHOD_UNSUPPORTED, value=_shown(method))
    requirer = _requirer(pending, "pkceS256Required")
    if requirer and method is None:
        raise _fail(pending, rc.AUTHZ_CODE_CHALLENGE_METHOD_S256_MISSING, requirer=requirer)
    if requirer and method != "S256":
        raise _fail(pending, rc.AUTHZ_CODE_CHALLENGE_METHOD_NOT_S256, value=method,
                    requirer=requirer)
    return method or "plain"  # RFC 7636 §4.3: defaults to "plain"


# --- Other OpenID Connect parameters (OIDC Core §3.1.2.1, §5.5), resources (RFC 8707) ------------

def check_max_age(pending: _Pending) -> None:
    value = _single(pending, "max_age")
    if value is None:
        return
    if not MAX_AGE.fullmatch(value) or int(value) > MAX_AGE_LIMIT:
        raise _fail(pending, rc.AUTHZ_MAX_AGE_INVALID, value=_shown(value))
    pending.max_age = int(value)
    # OIDC Core §3.1.2.1: max_age=0 is prompt=login. The response's maxAge cannot carry 0
    # (0 means "none requested"), so the front-end learns it from `prompts`; with prompt=none
    # no login may happen, so the answer is login_required (§3.1.2.6).
    if pending.max_age == 0 and "NONE" in pending.prompts:
        raise _fail(pending, rc.AUTHZ_MAX_AGE_ZERO_WITH_PROMPT_NONE)
    if pending.max_age == 0 and "LOGIN" not in pending.prompts:
        pending.prompts = [*pending.prompts, "LOGIN"]


def check_display(pending: _Pending) -> None:
    value = _single(pending, "display")
    if value is None:
        return
    supported = pending.service.get("supportedDisplays") or [v.upper() for v in DISPLAY_VALUES]
    if value not in DISPLAY_VALUES or value.upper() not in supported:
        raise _fail(pending, rc.AUTHZ_DISPLAY_UNSUPPORTED, value=_shown(value),
                    supported=", ".join(name.lower() for name in supported))
    pending.display = value.upper()


def check_claims(pending: _Pending) -> None:
    value = _single(pending, "claims")
    if value is None:
        return
    try:
        claims = json.loads(value)
    except (ValueError, RecursionError):
        raise _fail(pending, rc.AUTHZ_CLAIMS_INVALID, reason="it is not JSON") from None
    problem = _claims_problem(claims)
    if problem:
        raise _fail(pending, rc.AUTHZ_CLAIMS_INVALID, reason=problem)
    pending.claims = claims


def _claims_problem(claims: object) -> str | None:
    if not isinstance(claims, dict):
        return "it is not a JSON object"
    for member in ("userinfo", "id_token"):
        problem = _claim_requests_problem(member, claims.get(member, {}))
        if problem:
            return problem
    return None


def _claim_requests_problem(member: str, requests: object) -> str | None:
    # OIDC Core §5.5: each requested claim is null or an object; §5.5.1: `essential` is a
    # boolean, `values` an array.
    if not isinstance(requests, dict):
        return f"'{member}' is not a JSON object"
    for claim, request in requests.items():
        if request is None:
            continue
        if (not isinstance(request, dict)
                or not isinstance(request.get("essential", False), bool)
                or not isinstance(request.get("values", []), list)):
            return f"the request for the claim '{_shown(claim)}' in '{member}' is malformed"
    return None


def check_resources(pending: _Pending) -> None:
    # RFC 8707 §2: each `resource` is an absolute URI without a fragment.
    resources = pending.values.get("resource", [])
    for resource in resources:
        if "#" in resource or not _has_scheme(resource):
            raise _fail(pending, rc.AUTHZ_RESOURCE_INVALID, value=_shown(resource))
    pending.resources = list(dict.fromkeys(resources))


def _has_scheme(uri: str) -> bool:
    try:
        return bool(urlsplit(uri).scheme)
    except ValueError:
        return False


def assign_client_defaults(pending: _Pending) -> None:
    # OIDC Registration §2: default_max_age and default_acr_values apply when the request
    # has no max_age / acr_values of its own.
    if pending.max_age is None:
        pending.max_age = pending.client_document.get("defaultMaxAge")
    pending.acr_values = (_words(_single(pending, "acr_values"))
                          or list(pending.client_document.get("defaultAcrs", [])))


CHECKS: tuple[Callable[[_Pending], None], ...] = (
    check_client_not_locked,
    reject_request_objects,
    check_redirect_uri,
    assign_redirection,
    check_response_type,
    check_response_mode,
    check_redirect_uri_for_tokens,
    check_duplicates,
    check_request_object_requirements,
    check_scope,
    check_prompt,
    check_openid_rules,
    check_pkce,
    check_max_age,
    check_display,
    check_claims,
    check_resources,
    assign_client_defaults,
)


def assign_request(pending: _Pending) -> AuthorizationRequest:
    return AuthorizationRequest(
        client_id=pending.client.client_id, client_id_alias_used=pending.alias_used,
        response_type=pending.response_type, redirect_uri=pending.redirect_uri,
        redirect_uri_explicit=pending.redirect_uri_explicit,
        response_mode=pending.response_mode, scopes=pending.scopes, state=pending.state,
        nonce=pending.nonce, code_challenge=pending.code_challenge,
        code_challenge_method=pending.code_challenge_method, prompts=pending.prompts,
        max_age=pending.max_age, display=pending.display,
        ui_locales=_words(_single(pending, "ui_locales")),
        claims_locales=_words(_single(pending, "claims_locales")),
        acr_values=pending.acr_values, claims=pending.claims,
        login_hint=_single(pending, "login_hint"),
        id_token_hint=_single(pending, "id_token_hint"),
        openid=pending.openid, resources=pending.resources)
