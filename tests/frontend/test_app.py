"""frontend/app.py settings that depend on the deployment: https gets a __Host- cookie and
HSTS, plain http (the demo) does not."""

from quart import session

from frontend.app import create_app
from frontend.config import from_dict


def _settings(public_url: str):
    return from_dict({"server": {"public_url": public_url},
                      "tessera": {"url": "http://127.0.0.1:9", "api_key": "1",
                                  "api_secret": "x"},
                      "session": {"secret": "s" * 40}}, environ={})


async def _cookie_and_hsts(public_url: str) -> tuple[str, str | None]:
    app = create_app(_settings(public_url))

    @app.get("/probe")
    async def probe():
        session["probe"] = True
        return "ok"

    response = await app.test_client().get("/probe")
    return response.headers["Set-Cookie"], response.headers.get("Strict-Transport-Security")


async def test_https_gets_a_host_only_secure_cookie_and_hsts():
    cookie, hsts = await _cookie_and_hsts("https://login.example")
    assert cookie.startswith("__Host-tessera_frontend=")
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Path=/" in cookie and "Domain" not in cookie
    assert hsts == "max-age=31536000"


async def test_plain_http_gets_a_plain_cookie_and_no_hsts():
    cookie, hsts = await _cookie_and_hsts("http://localhost:8000")
    assert cookie.startswith("tessera_frontend=")
    assert "Secure" not in cookie
    assert hsts is None
