"""Client management APIs (reference §2.12), on both path styles with service credentials."""

from dataclasses import replace

from quart import Blueprint, Response, request

from app.http.guard import api
from app.http.plumbing import context, json_response, no_content, page_bounds, read_body
from app.http.routes import both_styles
from app.outbound import OutboundError, fetch_json
from app.protocol import management
from app.protocol import result_codes as rc
from app.protocol.errors import ApiError
from app.protocol.ports import ClientRecord, ServiceRecord, is_numeric_id
from storage.errors import ConflictError

blueprint = Blueprint("clients", __name__)


async def resolve_client(service: ServiceRecord, identifier: str) -> ClientRecord:
    """A client by numeric ID, or by alias when both the service and the client allow it."""
    clients = context().storage.clients
    if is_numeric_id(identifier):
        client = await clients.get(service.api_key, int(identifier))
        if client is not None:
            return client
    client = await clients.by_alias(service.api_key, identifier)
    if client is None:
        raise ApiError(rc.CLIENT_NOT_FOUND, client_id=identifier)
    if not (service.document.get("clientIdAliasEnabled")
            and client.document.get("clientIdAliasEnabled")):
        raise ApiError(rc.ALIAS_NOT_ALLOWED, identifier=identifier)
    return client


async def _check_alias_free(service: ServiceRecord, alias: str | None, client_id: int) -> None:
    if alias is None:
        return
    holder = await context().storage.clients.by_alias(service.api_key, alias)
    if holder is not None and holder.client_id != client_id:
        raise ApiError(rc.CLIENT_ALIAS_IN_USE, alias=alias)


async def _check_developer_quota(service: ServiceRecord, developer: str | None) -> None:
    limit = service.document.get("clientsPerDeveloper")
    if not limit or developer is None:
        return
    page = await context().storage.clients.page(service.api_key, developer, 0, 0)
    if page.total >= limit:
        raise ApiError(rc.CLIENTS_PER_DEVELOPER_EXCEEDED, developer=developer, limit=limit)


async def _check_sector_identifier(document: dict) -> None:
    """OIDC Core §8.1, Registration §5: the URI must list every redirect URI of the client."""
    uri = document.get("sectorIdentifierUri")
    if not uri:
        return
    try:
        listed = await fetch_json(uri, context().settings.outbound)
    except OutboundError as error:
        raise ApiError(rc.SECTOR_IDENTIFIER_INVALID, uri=uri, reason=str(error)) from None
    if not isinstance(listed, list) or not all(isinstance(item, str) for item in listed):
        raise ApiError(rc.SECTOR_IDENTIFIER_INVALID, uri=uri,
                       reason="its content is not a JSON array of strings")
    for redirect_uri in document.get("redirectUris", []):
        if redirect_uri not in listed:
            raise ApiError(rc.SECTOR_IDENTIFIER_INVALID, uri=uri,
                           reason=f"it does not list the redirect URI '{redirect_uri}'")


@api(group="management", caller="service")
async def create_client(caller) -> Response:
    ctx, service = context(), caller.service
    fields = management.client_fields(await read_body())
    await _check_sector_identifier(fields.document)
    await _check_alias_free(service, fields.alias, client_id=0)
    await _check_developer_quota(service, fields.developer)
    now = ctx.clock.now_ms()
    record = ClientRecord(
        client_id=management.new_identifier(), number=0, service_api_key=service.api_key,
        client_secret=management.new_secret(), client_id_alias=fields.alias,
        developer=fields.developer, locked=fields.locked, document=fields.document,
        created_at=now, modified_at=now)
    try:
        created = await ctx.storage.clients.create(record)
    except ConflictError:
        # The alias was taken between the check and the insert (or, rarely, the ID collided).
        raise ApiError(rc.CLIENT_ALIAS_IN_USE, alias=fields.alias) from None
    return json_response(management.client_json(created))


@api(group="management", caller="service")
async def get_client(caller, client_id: str) -> Response:
    return json_response(management.client_json(await resolve_client(caller.service, client_id)))


@api(group="management", caller="service")
async def list_clients(caller) -> Response:
    start, end = page_bounds()
    developer = request.args.get("developer") or None
    page = await context().storage.clients.page(caller.service.api_key, developer, start, end)
    return json_response({"start": start, "end": end, "developer": developer,
                          "totalCount": page.total,
                          "clients": [management.client_json(c) for c in page.items]})


@api(group="management", caller="service")
async def update_client(caller, client_id: str) -> Response:
    ctx, service = context(), caller.service
    current = await resolve_client(service, client_id)
    fields = management.client_fields(await read_body())
    await _check_sector_identifier(fields.document)
    await _check_alias_free(service, fields.alias, current.client_id)
    replacement = ClientRecord(
        client_id=current.client_id, number=current.number, service_api_key=service.api_key,
        client_secret=current.client_secret, client_id_alias=fields.alias,
        developer=fields.developer, locked=current.locked, document=fields.document,
        created_at=current.created_at, modified_at=ctx.clock.now_ms())
    try:
        updated = await ctx.storage.clients.update(replacement)
    except ConflictError:
        raise ApiError(rc.CLIENT_ALIAS_IN_USE, alias=fields.alias) from None
    if updated is None:
        raise ApiError(rc.CLIENT_NOT_FOUND, client_id=client_id)
    return json_response(management.client_json(updated))


@api(group="management", caller="service")
async def delete_client(caller, client_id: str) -> Response:
    client = await resolve_client(caller.service, client_id)
    if not await context().storage.clients.delete(caller.service.api_key, client.client_id):
        raise ApiError(rc.CLIENT_NOT_FOUND, client_id=client_id)
    return no_content()


@api(group="management", caller="service")
async def update_lock_flag(caller, client_id: str) -> Response:
    ctx = context()
    client = await resolve_client(caller.service, client_id)
    locked = (await read_body()).get("clientLocked")
    if isinstance(locked, str) and request.mimetype == "application/x-www-form-urlencoded":
        # Form fields are strings (reference §1.1): "true"/"false" is how a form says a boolean.
        locked = {"true": True, "false": False}.get(locked.lower(), locked)
    if not isinstance(locked, bool):
        raise ApiError(rc.VALUE_INVALID, key="clientLocked",
                       reason=f"{locked!r} is not a boolean")
    await ctx.storage.clients.set_locked(caller.service.api_key, client.client_id, locked,
                                         ctx.clock.now_ms())
    return _result(rc.CLIENT_LOCK_UPDATED, identifier=client_id)


@api(group="management", caller="service")
async def refresh_secret(caller, client_id: str) -> Response:
    client = await resolve_client(caller.service, client_id)
    return await _replace_secret(caller, client, management.new_secret(),
                                 rc.CLIENT_SECRET_REFRESHED)


@api(group="management", caller="service")
async def update_secret(caller, client_id: str) -> Response:
    client = await resolve_client(caller.service, client_id)
    secret = management.checked_client_secret((await read_body()).get("clientSecret"))
    return await _replace_secret(caller, client, secret, rc.CLIENT_SECRET_UPDATED)


async def _replace_secret(caller, client: ClientRecord, secret: str, code) -> Response:
    ctx = context()
    await ctx.storage.clients.set_secret(caller.service.api_key, client.client_id, secret,
                                         ctx.clock.now_ms())
    return _result(code, client_id=client.client_id, newClientSecret=secret,
                   oldClientSecret=client.client_secret)


@api(group="management", caller="service")
async def get_requestable_scopes(caller, client_id: str) -> Response:
    client = await resolve_client(caller.service, client_id)
    return _scopes_response(client.document)


@api(group="management", caller="service")
async def set_requestable_scopes(caller, client_id: str) -> Response:
    client = await resolve_client(caller.service, client_id)
    scopes = management.decode_scope_list(await read_body())
    document = management.with_requestable_scopes(client.document, scopes)
    await _store_document(client, document)
    return _scopes_response(document)


@api(group="management", caller="service")
async def delete_requestable_scopes(caller, client_id: str) -> Response:
    client = await resolve_client(caller.service, client_id)
    await _store_document(client, management.with_requestable_scopes(client.document, None))
    return no_content()


async def _store_document(client: ClientRecord, document: dict) -> None:
    ctx = context()
    updated = await ctx.storage.clients.update(
        replace(client, document=document, modified_at=ctx.clock.now_ms()))
    if updated is None:
        raise ApiError(rc.CLIENT_NOT_FOUND, client_id=client.client_id)


def _scopes_response(document: dict) -> Response:
    enabled = document.get("extension", {}).get("requestableScopesEnabled", False)
    scopes = management.requestable_scopes(document) if enabled else None
    return json_response({"requestableScopes": scopes})


def _result(code, *, client_id=None, identifier=None, **extra) -> Response:
    message = code.message(client_id=client_id, identifier=identifier)
    return json_response({"resultCode": code.code, "resultMessage": message, **extra})


def _register() -> None:
    both_styles(blueprint, "/client/create", create_client, ["POST"])
    both_styles(blueprint, "/client/get/list", list_clients, ["GET"])
    both_styles(blueprint, "/client/get/<client_id>", get_client, ["GET"])
    both_styles(blueprint, "/client/update/<client_id>", update_client, ["POST", "PUT"])
    both_styles(blueprint, "/client/delete/<client_id>", delete_client, ["DELETE"])
    both_styles(blueprint, "/client/lock_flag/update/<client_id>", update_lock_flag, ["POST"])
    both_styles(blueprint, "/client/secret/refresh/<client_id>", refresh_secret, ["GET", "POST"])
    both_styles(blueprint, "/client/secret/update/<client_id>", update_secret, ["POST"])
    prefix = "/client/extension/requestable_scopes"
    both_styles(blueprint, f"{prefix}/get/<client_id>", get_requestable_scopes, ["GET"])
    both_styles(blueprint, f"{prefix}/update/<client_id>", set_requestable_scopes,
                ["POST", "PUT"])
    both_styles(blueprint, f"{prefix}/delete/<client_id>", delete_requestable_scopes,
                ["DELETE"])


_register()
