"""Granted scopes and client authorizations (reference §2.12): what an end-user has granted a
client, and the tokens the user has given it.

The SDKs POST JSON where the published v2 spec says GET or DELETE (reference §1.3); both forms
are served. The subject comes from the path (v3's `…/{subject}` forms), the body or the query.
"""

from quart import Blueprint, Response, request

from app.http.clients import resolve_client
from app.http.guard import api
from app.http.plumbing import context, json_response, read_body
from app.http.routes import both_styles
from app.protocol import management
from app.protocol import result_codes as rc
from app.protocol.errors import ApiError

blueprint = Blueprint("client_grants", __name__)
DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE = 100, 1000


# --- Granted scopes ----------------------------------------------------------------------------

@api(group="management", caller="service")
async def get_granted_scopes(caller, client_id: str) -> Response:
    service = caller.service
    client = await resolve_client(service, client_id)
    _, subject = await _body_and_subject()
    found = await context().storage.granted_scopes.get(service.api_key, client.client_id,
                                                       subject)
    code = rc.GRANTED_SCOPES_FOUND if found else rc.GRANTED_SCOPES_NONE
    return json_response({
        **_result(code, client.client_id),
        # Python SDK 1.3.0 reads `serviceApikey` (reference §1.4); others read `serviceApiKey`.
        "serviceApiKey": service.api_key, "serviceApikey": service.api_key,
        "clientId": client.client_id, "subject": subject,
        "latestGrantedScopes": found.latest_scopes if found else None,
        "mergedGrantedScopes": found.merged_scopes if found else None,
        "modifiedAt": found.modified_at if found else 0})


@api(group="management", caller="service")
async def delete_granted_scopes(caller, client_id: str) -> Response:
    """Forgets the record only: existing tokens keep their scopes."""
    client = await resolve_client(caller.service, client_id)
    _, subject = await _body_and_subject()
    await context().storage.granted_scopes.delete(caller.service.api_key, client.client_id,
                                                  subject)
    return json_response(_result(rc.GRANTED_SCOPES_DELETED, client.client_id))


# --- Client authorizations ---------------------------------------------------------------------

@api(group="management", caller="service")
async def list_authorized_clients(caller, subject: str | None = None) -> Response:
    ctx, service = context(), caller.service
    body, subject = await _body_and_subject(subject)
    values = {**request.args.to_dict(), **body}
    developer = values.get("developer") or None
    start, end = _page_bounds(values)
    page = await ctx.storage.tokens.clients_of_subject(service.api_key, subject, developer,
                                                       start, end, now=ctx.clock.now_ms())
    clients = [await ctx.storage.clients.get(service.api_key, client_id)
               for client_id in page.items]
    return json_response({"start": start, "end": end, "developer": developer,
                          "subject": subject, "totalCount": page.total,
                          "clients": [management.client_json(c) for c in clients if c]})


@api(group="management", caller="service")
async def update_client_authorization(caller, client_id: str) -> Response:
    """The new scopes replace those of every token of the subject for the client; without
    `scopes` nothing changes."""
    service = caller.service
    client = await resolve_client(service, client_id)
    body, subject = await _body_and_subject()
    scopes = _scope_list(body.get("scopes"))
    count = 0 if scopes is None else await context().storage.tokens.update_scopes(
        service.api_key, client.client_id, subject, scopes)
    return json_response(_result(rc.CLIENT_AUTHORIZATION_UPDATED, client.client_id,
                                 count=count, api_key=service.api_key))


@api(group="management", caller="service")
async def delete_client_authorization(caller, client_id: str,
                                      subject: str | None = None) -> Response:
    service = caller.service
    client = await resolve_client(service, client_id)
    _, subject = await _body_and_subject(subject)
    count = await context().storage.tokens.revoke(service.api_key, client_id=client.client_id,
                                                  subject=subject)
    return json_response(_result(rc.CLIENT_AUTHORIZATION_DELETED, client.client_id,
                                 count=count, api_key=service.api_key))


# --- Request decoding --------------------------------------------------------------------------

async def _body_and_subject(in_path: str | None = None) -> tuple[dict, str]:
    body = await read_body()
    subject = in_path or body.get("subject") or request.args.get("subject")
    if not isinstance(subject, str) or not subject:
        raise ApiError(rc.GRANT_SUBJECT_MISSING)
    return body, subject


def _scope_list(value: object) -> list[str] | None:
    """A JSON array of scope names, or a space-separated string (a form field, reference §1.1)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = value.split()
    if not isinstance(value, list) or not all(isinstance(s, str) and s for s in value):
        raise ApiError(rc.VALUE_INVALID, key="scopes",
                       reason="it is not an array of scope names")
    return list(dict.fromkeys(value))


def _page_bounds(values: dict) -> tuple[int, int]:
    """`start`/`end` from the body or the query; 0 or absent `end` means a default page (the
    SDKs send every member, unset numbers as 0)."""
    start = _index(values, "start")
    end = _index(values, "end") or start + DEFAULT_PAGE_SIZE
    if end < start:
        raise ApiError(rc.VALUE_INVALID, key="end", reason=f"it is less than 'start' ({start})")
    return start, min(end, start + MAX_PAGE_SIZE)


def _index(values: dict, key: str) -> int:
    value = values.get(key)
    if value is None or value == "":
        return 0
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ApiError(rc.VALUE_INVALID, key=key, reason=f"{value!r} is not a non-negative integer")
    return value


def _result(code, client_id: int, **params) -> dict:
    return {"resultCode": code.code, "resultMessage": code.message(client_id=client_id, **params)}


def _register() -> None:
    both_styles(blueprint, "/client/granted_scopes/get/<client_id>", get_granted_scopes,
                ["GET", "POST"])
    both_styles(blueprint, "/client/granted_scopes/delete/<client_id>", delete_granted_scopes,
                ["DELETE", "POST"])
    prefix = "/client/authorization"
    both_styles(blueprint, f"{prefix}/get/list", list_authorized_clients, ["GET", "POST"])
    both_styles(blueprint, f"{prefix}/get/list/<path:subject>", list_authorized_clients,
                ["GET", "POST"])
    both_styles(blueprint, f"{prefix}/update/<client_id>", update_client_authorization,
                ["POST", "PUT"])
    both_styles(blueprint, f"{prefix}/delete/<client_id>", delete_client_authorization,
                ["DELETE", "POST"])
    both_styles(blueprint, f"{prefix}/delete/<client_id>/<path:subject>",
                delete_client_authorization, ["DELETE", "POST"])


_register()
