"""Service management APIs (reference §2.13): service-owner credentials in v2, Bearer in v3."""

from quart import Blueprint, Response

from app.http.guard import api
from app.http.plumbing import context, json_response, no_content, page_bounds, read_body
from app.protocol import management
from app.protocol import result_codes as rc
from app.protocol.errors import ApiError
from app.protocol.ports import ServiceRecord
from storage.errors import ConflictError

blueprint = Blueprint("services", __name__)


async def _owned_service(caller, api_key: int) -> ServiceRecord:
    if caller.token_service is not None and caller.token_service != api_key:
        raise ApiError(rc.SERVICE_MISMATCH, api_key=api_key)
    service = await context().storage.services.get(api_key)
    if service is None or service.owner_id != caller.owner_id:
        raise ApiError(rc.SERVICE_NOT_FOUND, api_key=api_key)
    return service


@api(group="owner", caller="owner")
async def create_service(caller) -> Response:
    ctx = context()
    document = management.service_document(await read_body(), ctx.key_manager.algorithms(),
                                            creating=True)
    now = ctx.clock.now_ms()
    for _attempt in range(3):
        try:
            record = await ctx.storage.services.create(
                caller.owner_id, management.new_identifier(), management.new_secret(), document,
                now)
            break
        except ConflictError:
            continue  # a random API key collided; draw another
    else:
        raise ApiError(rc.SERVER_ERROR)
    await ctx.key_manager.ensure_keys(record.api_key)
    return json_response(management.service_json(record))


@api(group="owner", caller="owner")
async def list_services(caller) -> Response:
    start, end = page_bounds()
    if caller.token_service is not None:
        # A token bound to one service sees only that service (its secret included).
        services = [await _owned_service(caller, caller.token_service)][start:end]
        total = 1
    else:
        page = await context().storage.services.page(caller.owner_id, start, end)
        services, total = page.items, page.total
    return json_response({"start": start, "end": end, "totalCount": total,
                          "services": [management.service_json(s) for s in services]})


@api(group="owner", caller="owner")
async def get_service(caller, api_key: int) -> Response:
    return json_response(management.service_json(await _owned_service(caller, api_key)))


@api(group="owner", caller="owner")
async def update_service(caller, api_key: int) -> Response:
    ctx = context()
    current = await _owned_service(caller, api_key)
    document = management.service_document(await read_body(), ctx.key_manager.algorithms(),
                                            creating=False, current=current.document)
    record = await ctx.storage.services.update(api_key, document, ctx.clock.now_ms())
    if record is None:
        raise ApiError(rc.SERVICE_NOT_FOUND, api_key=api_key)
    return json_response(management.service_json(record))


@api(group="owner", caller="owner")
async def delete_service(caller, api_key: int) -> Response:
    ctx = context()
    await _owned_service(caller, api_key)
    if not await ctx.storage.services.delete(api_key):
        raise ApiError(rc.SERVICE_NOT_FOUND, api_key=api_key)
    await ctx.key_manager.forget_service(api_key)
    return no_content()


@api(group="owner", caller="owner")
async def rotate_keys(caller, api_key: int) -> Response:
    ctx = context()
    await _owned_service(caller, api_key)
    result = await ctx.key_manager.rotate_now(api_key)
    code = rc.KEYS_ROTATED
    message = code.message(api_key=api_key, rotated=", ".join(result.rotated) or "none",
                           pending=", ".join(result.pending) or "none")
    return json_response({"resultCode": code.code, "resultMessage": message,
                          "rotated": list(result.rotated), "pending": dict(result.pending)})


def _v3(view):
    """v3 paths carry the service ID as `service_id`; the view expects `api_key`."""
    async def bound(service_id: int) -> Response:
        return await view(api_key=service_id)
    bound.__name__ = view.__name__ + "_v3"
    return bound


def _register() -> None:
    add = blueprint.add_url_rule
    add("/api/service/create", view_func=create_service, methods=["POST"])
    add("/api/service/get/list", view_func=list_services, methods=["GET"])
    add("/api/service/get/<int:api_key>", view_func=get_service, methods=["GET"])
    add("/api/service/update/<int:api_key>", view_func=update_service, methods=["POST", "PUT"])
    add("/api/service/delete/<int:api_key>", view_func=delete_service, methods=["DELETE"])
    add("/api/service/keys/rotate/<int:api_key>", view_func=rotate_keys, methods=["POST"])
    add("/api/<int:service_id>/service/get", view_func=_v3(get_service), methods=["GET"])
    add("/api/<int:service_id>/service/update", view_func=_v3(update_service),
        methods=["POST", "PUT"])
    add("/api/<int:service_id>/service/delete", view_func=_v3(delete_service),
        methods=["DELETE"])
    add("/api/<int:service_id>/service/keys/rotate", view_func=_v3(rotate_keys),
        methods=["POST"])


_register()
