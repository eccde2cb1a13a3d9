"""The Quart-Trio application: blueprints, error mapping, request ids, rate-limit headers."""

import secrets
import time

import structlog
from quart import Response, g, request
from quart_trio import QuartTrio
from werkzeug.exceptions import HTTPException

from actors.mailbox import ActorUnavailable
from app.http import authorization, client_grants, clients, discovery, misc, services, tokens
from app.http.connection import SingleTaskHTTPConnection
from app.http.context import NodeContext
from app.http.guard import rate_limit_headers
from app.http.plumbing import api_path, error_response, json_response
from app.protocol import result_codes as rc
from app.protocol.errors import ApiError
from storage.errors import StorageError

_log = structlog.get_logger("tessera.http")
MAX_BODY_BYTES = 1024 * 1024


class TesseraApp(QuartTrio):
    asgi_http_class = SingleTaskHTTPConnection  # one task per request (app/http/connection.py)


def create_app(context: NodeContext) -> QuartTrio:
    app = TesseraApp("tessera")
    app.config["TESSERA"] = context
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.config["PROVIDE_AUTOMATIC_OPTIONS"] = False
    for module in (services, clients, client_grants, discovery, misc, tokens, authorization):
        app.register_blueprint(module.blueprint)
    app.before_request(_begin)
    app.after_request(_finish)
    _register_error_handlers(app)
    return app


async def _begin() -> None:
    g.started = time.perf_counter()
    g.request_id = request.headers.get("X-Request-Id", "")[:64] or secrets.token_hex(8)
    structlog.contextvars.bind_contextvars(request_id=g.request_id)


async def _finish(response: Response) -> Response:
    decision = g.get("rate_limit")
    if decision is not None:
        response.headers.update(rate_limit_headers(decision))
    response.headers["X-Request-Id"] = g.get("request_id", "")
    _log.info("api.request", method=request.method, path=request.path,
              status=response.status_code,
              duration_ms=round((time.perf_counter() - g.get("started", 0.0)) * 1000, 2))
    return response


def _register_error_handlers(app: QuartTrio) -> None:
    app.register_error_handler(ApiError, _api_error)
    app.register_error_handler(StorageError, _storage_error)
    app.register_error_handler(ActorUnavailable, _actor_unavailable)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)


async def _api_error(error: ApiError) -> Response:
    response = error_response(error)
    if error.code is rc.TOO_MANY_REQUESTS:
        response.headers.update(rate_limit_headers(error.decision))
    return response


async def _storage_error(error: StorageError) -> Response:
    return error_response(ApiError(rc.STORAGE_UNAVAILABLE))


async def _actor_unavailable(error: ActorUnavailable) -> Response:
    _log.error("actor.unavailable", error=str(error))
    return error_response(ApiError(rc.ACTOR_UNAVAILABLE))


async def _http_error(error: HTTPException) -> Response:
    if error.code == 404:
        return error_response(ApiError(rc.NOT_FOUND))
    if error.code == 405:
        return error_response(ApiError(rc.METHOD_NOT_ALLOWED, method=request.method))
    if error.code == 413:
        too_large = ApiError(rc.BODY_TOO_LARGE, limit=MAX_BODY_BYTES)
        response = error_response(too_large)
        # The unread body leaves the connection unusable and the server closes it: say so, or a
        # client reuses it and loses its next request (RFC 9112 §9.6).
        response.headers["Connection"] = "close"
        return response
    body = {"resultCode": rc.SERVER_ERROR.code,
            "resultMessage": f"[{rc.SERVER_ERROR.code}] {api_path()}, {error.name}."}
    return json_response(body, error.code or 500)


async def _unexpected(error: Exception) -> Response:
    _log.exception("api.unexpected_error", error_type=type(error).__name__)
    return error_response(ApiError(rc.SERVER_ERROR))
