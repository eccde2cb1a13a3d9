"""Open authorization flows, one signed cookie each (`tessera_flow_<id>`, Path=/authorize).

The session cookie holds what belongs to the browser (accounts, consents); a flow belongs to
one tab. Kept apart, two tabs that start flows at the same moment cannot overwrite each other's
(a single cookie would keep only the last response's copy). Each flow carries its own CSRF
token, so a form is bound to its flow and to this browser.
"""

import secrets
from dataclasses import asdict

from itsdangerous import BadSignature, URLSafeTimedSerializer
from quart import current_app, g, request
from quart.wrappers import Response

from frontend.interaction import Flow

COOKIE_PREFIX = "tessera_flow_"
PATH = "/authorize"
LIFETIME = 3600          # seconds a flow may stay open in a tab
MAX_OPEN = 8             # per browser; the oldest are forgotten


def open_flow(ticket: str) -> str:
    flow_id = secrets.token_urlsafe(12)
    _changes()[flow_id] = Flow(ticket, csrf=secrets.token_urlsafe(24))
    open_ids = _open_ids()
    for stale in open_ids[: max(0, len(open_ids) - MAX_OPEN + 1)]:
        _changes()[stale] = None
    return flow_id


def flow(flow_id: str | None) -> Flow | None:
    if not flow_id:
        return None
    if flow_id in _changes():
        return _changes()[flow_id]
    loaded = _load(request.cookies.get(COOKIE_PREFIX + flow_id))
    return Flow(**loaded[0]) if loaded else None


def save_flow(flow_id: str, state: Flow) -> None:
    _changes()[flow_id] = state


def close_flow(flow_id: str) -> None:
    if flow_id and (flow_id in _changes() or COOKIE_PREFIX + flow_id in request.cookies):
        _changes()[flow_id] = None


async def write_cookies(response: Response) -> Response:
    """After a request: set the cookies of flows opened or changed, delete closed ones."""
    secure = current_app.config["SESSION_COOKIE_SECURE"]
    for flow_id, state in _changes().items():
        name = COOKIE_PREFIX + flow_id
        if state is None:
            response.delete_cookie(name, path=PATH, secure=secure, httponly=True,
                                   samesite="Lax")
        else:
            response.set_cookie(name, _serializer().dumps(asdict(state)), max_age=LIFETIME,
                                path=PATH, secure=secure, httponly=True, samesite="Lax")
    return response


def _changes() -> dict[str, Flow | None]:
    if "flow_changes" not in g:
        g.flow_changes = {}
    return g.flow_changes


def _open_ids() -> list[str]:
    """This browser's open flows, oldest first (by the time their cookie was signed)."""
    found = []
    for name, value in request.cookies.items():
        loaded = _load(value) if name.startswith(COOKIE_PREFIX) else None
        if loaded:
            found.append((loaded[1], name[len(COOKIE_PREFIX):]))
    return [flow_id for _, flow_id in sorted(found)]


def _load(value: str | None):
    """(the flow's fields, when they were signed) from a cookie value; None if it is missing,
    forged or older than LIFETIME."""
    if not value:
        return None
    try:
        return _serializer().loads(value, max_age=LIFETIME, return_timestamp=True)
    except (BadSignature, TypeError, ValueError):
        return None


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="tessera-flow")
