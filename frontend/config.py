"""The front-end's settings: `frontend.toml`, validated once at start-up.

A bad or missing value stops start-up with a message naming the setting. Secrets may come
from the environment instead of the file: `TESSERA_FRONTEND_API_SECRET` and
`TESSERA_FRONTEND_SESSION_SECRET`.
"""

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from frontend.passwords import check_hash


class ConfigError(ValueError):
    """A setting is missing or wrong; the message names it."""


@dataclass(frozen=True)
class User:
    username: str
    password_hash: str
    subject: str
    claims: dict = field(default_factory=dict)  # OIDC Core §5.1 standard claims, by name


@dataclass(frozen=True)
class ResourceServer:
    """A resource server allowed to call the introspection endpoint (RFC 7662 §2.1)."""
    client_id: str
    secret_hash: str


@dataclass(frozen=True)
class FrontendSettings:
    bind: str
    public_url: str              # the issuer: where clients and browsers reach this front-end
    tessera_url: str             # Tessera's base URL, e.g. http://127.0.0.1:8080
    api_key: str                 # the service's API key and secret (v2 API, HTTP Basic)
    api_secret: str
    session_secret: str          # signs the session cookie
    session_lifetime: int = 8 * 3600   # seconds a login lasts
    tessera_timeout: float = 10.0
    users: tuple[User, ...] = ()
    resource_servers: tuple[ResourceServer, ...] = ()
    demo_callback: bool = False  # serve /demo/callback, which shows the code it receives
    log_level: str = "info"

    @property
    def secure_cookies(self) -> bool:
        return self.public_url.startswith("https://")


def load(path: Path, environ=os.environ) -> FrontendSettings:
    try:
        raw = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"cannot read {path}: {error}") from error
    return from_dict(raw, environ)


def from_dict(raw: dict, environ=os.environ) -> FrontendSettings:
    server, tessera = _section(raw, "server"), _section(raw, "tessera")
    session = _section(raw, "session")
    settings = FrontendSettings(
        bind=_text(server, "server.bind", "127.0.0.1:8000"),
        public_url=_url(_text(server, "server.public_url"), "server.public_url").rstrip("/"),
        tessera_url=_url(_text(tessera, "tessera.url"), "tessera.url").rstrip("/"),
        api_key=_text(tessera, "tessera.api_key"),
        api_secret=environ.get("TESSERA_FRONTEND_API_SECRET")
        or _text(tessera, "tessera.api_secret"),
        tessera_timeout=_number(tessera, "tessera.timeout", 10.0),
        session_secret=environ.get("TESSERA_FRONTEND_SESSION_SECRET")
        or _text(session, "session.secret"),
        session_lifetime=int(_number(session, "session.lifetime", 8 * 3600)),
        users=tuple(_user(entry, index) for index, entry in _tables(raw, "users")),
        resource_servers=tuple(_resource_server(entry, index)
                               for index, entry in _tables(raw, "resource_servers")),
        demo_callback=bool(_section(raw, "demo").get("callback", False)),
        log_level=_choice(_section(raw, "log"), "log.level", "info", LOG_LEVELS),
    )
    _check(settings)
    return settings


def _check(settings: FrontendSettings) -> None:
    if len(settings.session_secret) < 32:
        raise ConfigError("session.secret must be at least 32 characters (random)")
    if settings.session_lifetime <= 0:
        raise ConfigError("session.lifetime must be a positive number of seconds")
    for attribute in ("username", "subject"):
        names = [getattr(user, attribute) for user in settings.users]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ConfigError(f"users: {attribute} {duplicates[0]!r} appears more than once")
    if urlsplit(settings.public_url).path not in ("", "/"):
        raise ConfigError("server.public_url must not have a path: the endpoints are served "
                          f"at the root (/authorize, /token, …), not {settings.public_url!r}")
    host, _, port = settings.bind.rpartition(":")
    if not host or not port.isdigit() or int(port) > 65535:
        raise ConfigError(f"server.bind must be 'host:port', not {settings.bind!r}")


LOG_LEVELS = ("debug", "info", "warning", "error")
# Claims Tessera sets itself in an ID token (OIDC Core §2); a user's claims must not carry them.
RESERVED_CLAIMS = frozenset({"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr",
                             "amr", "azp", "at_hash", "c_hash", "jti"})


def _tables(raw: dict, name: str) -> list[tuple[int, dict]]:
    entries = raw.get(name, [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise ConfigError(f"{name} must be an array of tables ([[{name}]])")
    return list(enumerate(entries))


def _choice(table: dict, name: str, default: str, allowed: tuple[str, ...]) -> str:
    value = _text(table, name, default)
    if value not in allowed:
        raise ConfigError(f"{name} must be one of {', '.join(allowed)}, not {value!r}")
    return value


def _section(raw: dict, name: str) -> dict:
    value = raw.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(f"[{name}] must be a table")
    return value


def _text(table: dict, name: str, default: str | None = None) -> str:
    value = table.get(name.rsplit(".", 1)[-1], default)
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{name} must be a non-empty string")
    return value


def _number(table: dict, name: str, default: float) -> float:
    value = table.get(name.rsplit(".", 1)[-1], default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConfigError(f"{name} must be a positive number, not {value!r}")
    return float(value)


def _url(value: str, name: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ConfigError(f"{name} must be an http(s) URL without query or fragment, "
                          f"not {value!r}")
    return value


def _user(entry: dict, index: int) -> User:
    where = f"users[{index}]"
    username = _text(entry, f"{where}.username")
    password_hash = _text(entry, f"{where}.password_hash")
    problem = check_hash(password_hash)
    if problem:
        raise ConfigError(f"{where}.password_hash: {problem}")
    claims = entry.get("claims", {})
    if not isinstance(claims, dict):
        raise ConfigError(f"{where}.claims must be a table of claim names and values")
    reserved = sorted(RESERVED_CLAIMS & set(claims))
    if reserved:
        raise ConfigError(f"{where}.claims must not set {reserved[0]!r}: Tessera sets it")
    subject = _text(entry, f"{where}.subject", username)
    return User(username, password_hash, subject, dict(claims))


def _resource_server(entry: dict, index: int) -> ResourceServer:
    where = f"resource_servers[{index}]"
    secret_hash = _text(entry, f"{where}.secret_hash")
    problem = check_hash(secret_hash)
    if problem:
        raise ConfigError(f"{where}.secret_hash: {problem}")
    return ResourceServer(_text(entry, f"{where}.client_id"), secret_hash)
