"""Request decoding and response encoding shared by every API blueprint (reference §1.4, §6)."""

import json
from urllib.parse import parse_qsl

from quart import Response, current_app, request

from app.protocol import result_codes as rc
from app.protocol.errors import ApiError

JSON_TYPE = "application/json;charset=UTF-8"


def context():
    return current_app.config["TESSERA"]


def api_path() -> str:
    """The API path as the reference's messages name it: without `/api` and the service ID."""
    path = request.path
    if path.startswith("/api/"):
        path = path[4:]
        head, _, rest = path[1:].partition("/")
        if head.isascii() and head.isdigit() and rest:
            path = "/" + rest
    return path


def json_response(body: object, status: int = 200, *, pretty: bool = False) -> Response:
    text = json.dumps(body, indent=2) if pretty else json.dumps(body, separators=(",", ":"))
    return raw_json_response(text, status)


def raw_json_response(text: str, status: int = 200) -> Response:
    response = Response(text, status=status, content_type=JSON_TYPE)
    response.headers["Cache-Control"] = "no-store"
    return response


def error_response(error: ApiError) -> Response:
    return json_response(error.body(api_path()), error.code.status)


async def read_body() -> dict:
    """The request body as a dict: JSON, or flat form fields (reference §1.1). Empty → {}."""
    raw = await request.get_data(as_text=False)
    if not raw.strip():
        return {}
    if (request.mimetype or "") == "application/x-www-form-urlencoded":
        return dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise ApiError(rc.BODY_NOT_JSON, reason=str(error).split(":")[0]) from None
    if not isinstance(body, dict):
        raise ApiError(rc.BODY_NOT_JSON, reason=f"it is a JSON {type(body).__name__}")
    return body


def query_bool(name: str, default: bool) -> bool:
    """Booleans arrive as `True`/`False` (Python SDK) or `true`/`false` (Java): any case."""
    value = request.args.get(name)
    if value is None or value == "":
        return default
    lowered = value.lower()
    if lowered not in ("true", "false", "1", "0"):
        raise ApiError(rc.QUERY_INVALID, key=name, value=value, reason="expected true or false")
    return lowered in ("true", "1")


def query_int(name: str, default: int, *, minimum: int = 0) -> int:
    value = request.args.get(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ApiError(rc.QUERY_INVALID, key=name, value=value,
                       reason="expected an integer") from None
    if number < minimum:
        raise ApiError(rc.QUERY_INVALID, key=name, value=value,
                       reason=f"must be at least {minimum}")
    return number


def page_bounds(default_size: int = 100, max_size: int = 1000) -> tuple[int, int]:
    start = query_int("start", 0)
    end = query_int("end", start + default_size)
    if end < start:
        raise ApiError(rc.QUERY_INVALID, key="end", value=str(end),
                       reason=f"must not be less than 'start' ({start})")
    return start, min(end, start + max_size)


def no_content() -> Response:
    # An explicit empty body: Quart wraps a missing body in an iterable that it drains through
    # asyncio's executor, which does not exist under trio.
    return Response(b"", status=204)
