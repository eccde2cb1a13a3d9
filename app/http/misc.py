"""`/api/info`, echo, health and readiness."""

from quart import Blueprint, Response, request

from app.http.guard import api
from app.http.plumbing import context, json_response

blueprint = Blueprint("misc", __name__)


@api(group="misc", caller="none")
async def info() -> Response:
    ctx = context()
    return json_response({
        "name": "Tessera",
        "version": ctx.version,
        "apiVersions": ["V2", "V3"],
        "signingAlgorithms": ctx.key_manager.algorithms(),
    })


@api(group="misc", caller="any")
async def echo(caller) -> Response:
    return json_response(dict(request.args.items()))


@api(group="misc", caller="none")
async def liveness() -> Response:
    return json_response({"status": "ok"})


@api(group="misc", caller="none")
async def readiness() -> Response:
    """Ready when start-up has finished and the database answers."""
    ctx = context()
    if not ctx.ready:
        return json_response({"status": "starting"}, 503)
    try:
        await ctx.storage.owners.first()
    except Exception:  # any storage failure means not ready; the cause is logged by storage
        return json_response({"status": "database unavailable"}, 503)
    return json_response({"status": "ready"})


blueprint.add_url_rule("/api/info", view_func=info, methods=["GET"])
blueprint.add_url_rule("/misc/echo", view_func=echo, methods=["GET"])
blueprint.add_url_rule("/api/misc/echo", view_func=echo, methods=["GET"])
blueprint.add_url_rule("/api/lifecycle/healthcheck", view_func=liveness, methods=["GET"])
blueprint.add_url_rule("/health", view_func=liveness, methods=["GET"])
blueprint.add_url_rule("/ready", view_func=readiness, methods=["GET"])
