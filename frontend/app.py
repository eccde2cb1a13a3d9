"""The front-end's Quart-Trio application: its parts, session cookie and security headers."""

from dataclasses import dataclass
from datetime import timedelta

from quart import Response, current_app, render_template, request
from quart_trio import QuartTrio
from werkzeug.exceptions import HTTPException

from frontend.config import FrontendSettings
from frontend.responses import oauth_error, server_error
from frontend.tessera import TesseraClient, TesseraError
from frontend.throttle import LoginThrottle
from frontend.users import ResourceServers, Users
from frontend.views import authorization, metadata, resources, token
from frontend.views.plumbing import Refused, refused, to_response

# No script runs on these pages; styles come from /static only; images (client logos) may come
# from anywhere; no page may be framed (clickjacking of the consent page).
CONTENT_SECURITY_POLICY = ("default-src 'none'; style-src 'self'; img-src 'self' https: http: "
                           "data:; frame-ancestors 'none'; base-uri 'none'")


@dataclass(frozen=True)
class Parts:
    settings: FrontendSettings
    tessera: TesseraClient
    users: Users
    resource_servers: ResourceServers
    service_name: str
    throttle: LoginThrottle


class FrontendApp(QuartTrio):
    parts: Parts


def create_app(settings: FrontendSettings, service_name: str = "Tessera") -> FrontendApp:
    app = FrontendApp(__name__)
    app.parts = Parts(settings, TesseraClient(settings.tessera_url, settings.api_key,
                                              settings.api_secret, settings.tessera_timeout),
                      Users(settings.users), ResourceServers(settings.resource_servers),
                      service_name, LoginThrottle())
    app.config.update(
        SECRET_KEY=settings.session_secret,
        # Behind https the __Host- prefix pins the cookie to this host, path / and Secure.
        SESSION_COOKIE_NAME=("__Host-" if settings.secure_cookies else "") + "tessera_frontend",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",  # sent on the top-level redirect back from a client
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        PERMANENT_SESSION_LIFETIME=timedelta(seconds=settings.session_lifetime),
        MAX_CONTENT_LENGTH=64 * 1024,
    )
    for module in (authorization, token, resources, metadata):
        app.register_blueprint(module.blueprint)
    if settings.demo_callback:
        app.add_url_rule("/demo/callback", view_func=_demo_callback, methods=["GET", "POST"])
    app.after_request(_security_headers)
    app.register_error_handler(TesseraError, _tessera_failed)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Refused, refused)
    app.after_serving(app.parts.tessera.aclose)
    return app


# Endpoints a browser-based client (a single-page app, public with PKCE) calls from its own
# origin: they answer cross-origin requests. No cookie is involved at these endpoints.
CROSS_ORIGIN_PATHS = frozenset({"/token", "/revoke", "/userinfo", "/jwks",
                                "/.well-known/openid-configuration",
                                "/.well-known/oauth-authorization-server"})
# Endpoints whose callers are programs: their errors are OAuth JSON, never HTML pages.
API_PATHS = CROSS_ORIGIN_PATHS | {"/introspect"}


async def _security_headers(response: Response) -> Response:
    if request.path in CROSS_ORIGIN_PATHS:
        response.headers["Access-Control-Allow-Origin"] = "*"
        if request.method == "OPTIONS":   # a CORS preflight; Quart answers OPTIONS itself
            response.headers["Access-Control-Allow-Methods"] = "GET, POST"
            response.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type, DPoP"
            response.headers["Access-Control-Max-Age"] = "600"
        else:
            response.headers["Access-Control-Expose-Headers"] = "WWW-Authenticate, DPoP-Nonce"
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    if current_app.parts.settings.secure_cookies:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if response.mimetype == "text/html":
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("Cache-Control", "no-store")
    return response


async def _http_error(error: HTTPException):
    """Quart's own refusals (405, 413, a malformed body …): JSON for API callers, a page for
    people."""
    headers = await _unread_body_closes()
    if request.path in API_PATHS:
        response = to_response(oauth_error(error.code or 400, "invalid_request",
                                           f"{error.name}: {error.description}"))
        response.headers.update(headers)
        return response
    page = await render_template("error.html", service_name=current_app.parts.service_name,
                                 title=error.name, message=error.description or "")
    return page, error.code or 400, headers


async def _unread_body_closes() -> dict[str, str]:
    """Read what is left of the request body, so the connection can serve the next request;
    when it cannot be read (too large, broken), close the connection after this answer."""
    try:
        await request.get_data()
    except Exception:   # any failure to read means the rest of the stream is unusable
        return {"Connection": "close"}
    return {}


async def _tessera_failed(error: TesseraError):
    return to_response(server_error("the authorization service is unavailable"))


async def _demo_callback():
    """The demo clients' redirect URI: shows what the authorization response carried."""
    received = request.args if request.method == "GET" else await request.form  # form_post
    return await render_template("callback.html", service_name="Demo client",
                                 parameters=list(received.items(multi=True)))
