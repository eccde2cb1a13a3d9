"""What the end-user must do next for an authorization request (OpenID Connect Core §3.1.2.3).

Pure decisions, no I/O: the views feed in the request as Tessera described it, the browser's
login state and what happened so far in this flow, and get back the next step.
"""

from dataclasses import dataclass
from enum import Enum


@dataclass(frozen=True)
class PendingRequest:
    """The parts of Tessera's INTERACTION / NO_INTERACTION response the decisions need."""
    client_id: str
    client: dict           # name, logo_uri, client_uri, policy_uri, tos_uri
    scopes: list[dict]     # {name, description}
    claims: list[str]      # claim names to put into the ID token
    claims_at_userinfo: list[str]
    prompts: list[str]     # NONE, LOGIN, CONSENT, SELECT_ACCOUNT, CREATE
    max_age: int           # seconds; 0 = none requested
    subject: str | None    # the subject the client asked for (claims `sub`, id_token_hint)
    login_hint: str | None
    acr_essential: bool
    acrs: list[str]

    @classmethod
    def from_response(cls, response: dict) -> "PendingRequest":
        client = response.get("client") or {}
        return cls(
            client_id=str(client.get("clientId", "")),
            client={"name": client.get("clientName") or str(client.get("clientId", "")),
                    "logo_uri": client.get("logoUri"), "client_uri": client.get("clientUri"),
                    "policy_uri": client.get("policyUri"), "tos_uri": client.get("tosUri")},
            scopes=[{"name": s.get("name"), "description": s.get("description")}
                    for s in response.get("scopes") or []],
            claims=list(response.get("claims") or []),
            claims_at_userinfo=list(response.get("claimsAtUserInfo") or []),
            prompts=list(response.get("prompts") or []),
            max_age=int(response.get("maxAge") or 0),
            subject=response.get("subject"), login_hint=response.get("loginHint"),
            acr_essential=bool(response.get("acrEssential")),
            acrs=list(response.get("acrs") or []))

    def to_dict(self) -> dict:
        return dict(self.__dict__)

    @property
    def scope_names(self) -> list[str]:
        return [scope["name"] for scope in self.scopes]

    @property
    def all_claims(self) -> list[str]:
        return list(dict.fromkeys(self.claims + self.claims_at_userinfo))


@dataclass(frozen=True)
class Login:
    """The account this browser is signed in as."""
    username: str
    subject: str
    auth_time: int   # seconds since the epoch (OIDC Core §2 `auth_time`)


@dataclass
class Flow:
    """What happened so far in one authorization flow of this browser."""
    ticket: str
    csrf: str = ""                # the token this flow's forms must post back
    authenticated: bool = False   # the user signed in during this flow
    selected: bool = False        # the user picked an account during this flow
    force_login: bool = False     # the user asked to use another account
    # The account this flow is for, fixed when the user signs in or picks an account in this
    # flow, or when the consent page is shown: another tab switching the browser's current
    # account must not change whose consent an open page gives.
    username: str | None = None


class Step(Enum):
    LOGIN = "login"
    SELECT_ACCOUNT = "select_account"
    CONSENT = "consent"
    ISSUE = "issue"


class Notice(Enum):
    NONE = None
    REAUTHENTICATE = "Please sign in again to continue."
    TOO_OLD = "Your sign-in is too old for this application. Please sign in again."
    OTHER_ACCOUNT = "This application asked for a different account. Please sign in with it."


def interactive_step(request: PendingRequest, login: Login | None, flow: Flow, now: int,
                     consented: bool) -> tuple[Step, Notice]:
    """The next page to show for an INTERACTION response."""
    if login is None or flow.force_login:
        return Step.LOGIN, Notice.NONE
    if "SELECT_ACCOUNT" in request.prompts and not (flow.selected or flow.authenticated):
        return Step.SELECT_ACCOUNT, Notice.NONE
    if not flow.authenticated:
        notice = _reauthentication(request, login, now)
        if notice is not Notice.NONE:
            return Step.LOGIN, notice
    elif request.subject and login.subject != request.subject:
        return Step.LOGIN, Notice.OTHER_ACCOUNT
    if "CONSENT" in request.prompts or not consented:
        return Step.CONSENT, Notice.NONE
    return Step.ISSUE, Notice.NONE


def _reauthentication(request: PendingRequest, login: Login, now: int) -> Notice:
    if "LOGIN" in request.prompts:                       # §3.1.2.1 prompt=login
        return Notice.REAUTHENTICATE
    if request.max_age and now - login.auth_time > request.max_age:   # §3.1.2.1 max_age
        return Notice.TOO_OLD
    if request.subject and login.subject != request.subject:         # §3.1.2.2, §5.5.1
        return Notice.OTHER_ACCOUNT
    return Notice.NONE


def unsatisfiable(request: PendingRequest) -> str | None:
    """A failure no interaction can avoid: OIDC Core §5.5.1.1 — an essential `acr` this
    front-end cannot assert (it asserts none) is a failed authentication."""
    return "ACR_NOT_SATISFIED" if request.acr_essential and request.acrs else None


def silent_failure(request: PendingRequest, login: Login | None, now: int,
                   consented: bool) -> str | None:
    """For a NO_INTERACTION response (prompt=none): the /auth/authorization/fail reason that
    applies, or None when the request can be issued without showing anything (§3.1.2.6)."""
    if login is None:
        return "NOT_LOGGED_IN"
    if request.max_age and now - login.auth_time > request.max_age:
        return "EXCEEDS_MAX_AGE"
    if request.subject and login.subject != request.subject:
        return "DIFFERENT_SUBJECT"
    unmet = unsatisfiable(request)
    if unmet:
        return unmet
    if not consented:
        return "CONSENT_REQUIRED"
    return None
