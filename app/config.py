"""Deployment settings: `config.toml` plus environment overrides, validated once at start-up.

Every key has a typed default in the dataclasses below; `config.toml` at the repository root
documents each one. An environment variable `TESSERA__<SECTION>__<KEY>` (upper case, `__`
between path segments, e.g. `TESSERA__DATABASE__URL`, `TESSERA__RATE_LIMIT__AUTH__RATE`)
overrides the file. An unknown key, a
value of the wrong type or an unreadable file raises `ConfigError` with one line naming the key.
"""

import dataclasses
import os
import tomllib
import typing
from dataclasses import dataclass, field
from pathlib import Path

ENV_PREFIX = "TESSERA__"


class ConfigError(Exception):
    """A setting that stops start-up; the message is one line naming the key and the problem."""


@dataclass(frozen=True)
class ServerSettings:
    bind: str = "127.0.0.1:8080"
    workers: int = 1
    grace_period: float = 10.0
    keep_alive_timeout: float = 5.0
    read_timeout: float = 10.0
    public_url: str = ""


@dataclass(frozen=True)
class DatabaseSettings:
    url: str = "sqlite://./.tessera/tessera.sqlite3"
    migrate_on_start: bool = True
    sqlite_synchronous: str = "FULL"
    sqlite_busy_timeout_ms: int = 5000


@dataclass(frozen=True)
class SecuritySettings:
    master_key_env: str = "TESSERA_MASTER_KEY"
    dev_key_file: str = "./.tessera/master.key"
    allow_dev_key: bool = True


@dataclass(frozen=True)
class OwnerSettings:
    api_key: str = ""
    api_secret: str = ""


@dataclass(frozen=True)
class KeySettings:
    algorithms: list[str] = field(default_factory=lambda: ["RS256", "PS256", "ES256"])
    rotation_interval: float = 30 * 86400.0
    lead_time: float = 86400.0
    retention: float = 86400.0
    check_interval: float = 60.0
    refresh_interval: float = 30.0
    lease_duration: float = 120.0
    rsa_key_size: int = 2048


@dataclass(frozen=True)
class ReaperSettings:
    enabled: bool = True
    interval: float = 60.0
    batch_size: int = 500
    max_batches_per_pass: int = 100
    pause: float = 0.01
    lease_duration: float = 120.0

    def __post_init__(self) -> None:
        for name in ("interval", "batch_size", "max_batches_per_pass", "pause", "lease_duration"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"'reaper.{name}' must be greater than zero")
        # The lease holder renews it on every pass; a lease shorter than the interval would lapse.
        if self.interval >= self.lease_duration:
            raise ConfigError(f"'reaper.interval' ({self.interval}) must be less than "
                              f"'reaper.lease_duration' ({self.lease_duration})")


@dataclass(frozen=True)
class BucketSettings:
    rate: float = 100.0
    burst: int = 200


@dataclass(frozen=True)
class RateLimitSettings:
    enabled: bool = True
    owner: BucketSettings = field(default_factory=lambda: BucketSettings(20.0, 40))
    management: BucketSettings = field(default_factory=lambda: BucketSettings(50.0, 100))
    auth: BucketSettings = field(default_factory=lambda: BucketSettings(1000.0, 2000))
    misc: BucketSettings = field(default_factory=lambda: BucketSettings(50.0, 100))


@dataclass(frozen=True)
class CacheSettings:
    enabled: bool = True
    ttl: float = 60.0
    max_entries: int = 10_000
    poll_interval: float = 0.5
    lookback: float = 30.0

    def __post_init__(self) -> None:
        for name in ("ttl", "max_entries", "poll_interval", "lookback"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"'cache.{name}' must be greater than zero")
        if self.lookback <= self.poll_interval:
            raise ConfigError(f"'cache.lookback' ({self.lookback}) must exceed "
                              f"'cache.poll_interval' ({self.poll_interval})")


@dataclass(frozen=True)
class LogSettings:
    format: str = "console"
    level: str = "info"


@dataclass(frozen=True)
class DemoSettings:
    enabled: bool = False
    credentials_file: str = "./.tessera/demo.json"


@dataclass(frozen=True)
class OutboundSettings:
    allow_private_targets: bool = False
    timeout: float = 5.0
    max_bytes: int = 65536
    ca_file: str = ""


@dataclass(frozen=True)
class Settings:
    server: ServerSettings = field(default_factory=ServerSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    security: SecuritySettings = field(default_factory=SecuritySettings)
    owner: OwnerSettings = field(default_factory=OwnerSettings)
    keys: KeySettings = field(default_factory=KeySettings)
    reaper: ReaperSettings = field(default_factory=ReaperSettings)
    rate_limit: RateLimitSettings = field(default_factory=RateLimitSettings)
    cache: CacheSettings = field(default_factory=CacheSettings)
    log: LogSettings = field(default_factory=LogSettings)
    demo: DemoSettings = field(default_factory=DemoSettings)
    outbound: OutboundSettings = field(default_factory=OutboundSettings)


_CHOICES = {
    "log.format": ("json", "console"),
    "log.level": ("debug", "info", "warning", "error"),
    "database.sqlite_synchronous": ("FULL", "NORMAL", "EXTRA"),
}
MAX_WORKERS = 64
_SUPPORTED_KEY_ALGS = ("RS256", "PS256", "ES256", "EdDSA")


def load_settings(path: str | Path | None,
                  environ: typing.Mapping[str, str] = os.environ) -> Settings:
    """Read `path` (None: defaults only), apply environment overrides, validate."""
    raw = _read_file(Path(path)) if path is not None else {}
    _apply_environment(raw, environ)
    settings = _build(Settings, raw, "")
    _check_semantics(settings)
    return settings


def _read_file(path: Path) -> dict:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except OSError as error:
        raise ConfigError(f"cannot read config file {path}: {error.strerror}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"config file {path} is not valid TOML: {error}") from None


def _apply_environment(raw: dict, environ: typing.Mapping[str, str]) -> None:
    for name, text in environ.items():
        if not name.startswith(ENV_PREFIX):
            continue
        segments = [part.lower() for part in name[len(ENV_PREFIX):].split("__")]
        target = raw
        for segment in segments[:-1]:
            target = target.setdefault(segment, {})
            if not isinstance(target, dict):
                raise ConfigError(f"environment variable {name} does not name a setting")
        target[segments[-1]] = _EnvText(text)


class _EnvText(str):
    """A value from the environment: converted to the setting's type instead of type-checked."""


def _build(cls: type, raw: typing.Any, prefix: str) -> typing.Any:
    if not isinstance(raw, dict):
        raise ConfigError(f"[{prefix.rstrip('.')}] must be a table")
    known = {f.name: f for f in dataclasses.fields(cls)}
    for key in raw:
        if key not in known:
            raise ConfigError(f"unknown setting '{prefix}{key}'")
    values = {}
    for name, spec in known.items():
        if name in raw:
            values[name] = _convert(spec.type, raw[name], f"{prefix}{name}")
    return cls(**values)


def _convert(kind: typing.Any, value: typing.Any, key: str) -> typing.Any:
    if dataclasses.is_dataclass(kind):
        return _build(kind, value, key + ".")
    if isinstance(value, _EnvText):
        value = _parse_env(kind, str(value), key)
    if typing.get_origin(kind) is list:
        return _convert_list(value, key)
    return _convert_scalar(kind, value, key)


def _parse_env(kind: typing.Any, text: str, key: str) -> typing.Any:
    if typing.get_origin(kind) is list:
        return [item.strip() for item in text.split(",") if item.strip()]
    if kind is bool:
        lowered = text.strip().lower()
        if lowered not in ("true", "false", "1", "0", "yes", "no"):
            raise ConfigError(f"'{key}' must be a boolean, got '{text}'")
        return lowered in ("true", "1", "yes")
    if kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            expected = _article(_type_name(kind))
            raise ConfigError(f"'{key}' must be {expected}, got '{text}'") from None
    return text


def _convert_list(value: typing.Any, key: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigError(f"'{key}' must be a list of strings, got {value!r}")
    return list(value)


def _convert_scalar(kind: type, value: typing.Any, key: str) -> typing.Any:
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if type(value) is not kind and not (kind is str and isinstance(value, str)):
        raise ConfigError(f"'{key}' must be {_article(_type_name(kind))}, got {value!r}")
    return value


def _article(noun: str) -> str:
    return f"an {noun}" if noun[0] in "aeiou" else f"a {noun}"


def _type_name(kind: type) -> str:
    return {str: "string", int: "integer", float: "number", bool: "boolean"}.get(
        kind, getattr(kind, "__name__", str(kind))
    )


def _check_semantics(settings: Settings) -> None:
    for key, allowed in _CHOICES.items():
        value = _lookup(settings, key)
        if value not in allowed:
            raise ConfigError(f"'{key}' must be one of {', '.join(allowed)}, got '{value}'")
    for alg in settings.keys.algorithms:
        if alg not in _SUPPORTED_KEY_ALGS:
            raise ConfigError(f"'keys.algorithms' contains unsupported algorithm '{alg}'")
    _check_positive(settings)
    if settings.server.workers > MAX_WORKERS:
        raise ConfigError(f"'server.workers' must be at most {MAX_WORKERS}, "
                          f"got {settings.server.workers}")
    if ":" not in settings.server.bind:
        raise ConfigError(f"'server.bind' must be host:port, got '{settings.server.bind}'")
    if not settings.database.url.startswith(("sqlite://", "postgres://", "postgresql://")):
        raise ConfigError("'database.url' must start with sqlite:// or postgres://")


def _check_positive(settings: Settings) -> None:
    for key in ("server.workers", "server.keep_alive_timeout", "server.read_timeout",
                "keys.rotation_interval", "keys.check_interval", "keys.refresh_interval",
                "keys.lease_duration"):
        if _lookup(settings, key) <= 0:
            raise ConfigError(f"'{key}' must be greater than zero")
    if settings.keys.lead_time < 0 or settings.keys.retention < 0:
        raise ConfigError("'keys.lead_time' and 'keys.retention' must not be negative")
    if settings.keys.rsa_key_size < 2048:
        raise ConfigError("'keys.rsa_key_size' must be at least 2048")
    _check_key_timing(settings.keys)


def _check_key_timing(keys: KeySettings) -> None:
    # Other nodes publish a new key up to one refresh later; it must be public before it signs.
    if keys.lead_time < keys.refresh_interval:
        raise ConfigError(f"'keys.lead_time' ({keys.lead_time}) must be at least "
                          f"'keys.refresh_interval' ({keys.refresh_interval})")
    # The lease holder renews within its checks; a lease shorter than a check would lapse.
    if keys.check_interval >= keys.lease_duration:
        raise ConfigError(f"'keys.check_interval' ({keys.check_interval}) must be less than "
                          f"'keys.lease_duration' ({keys.lease_duration})")


def _lookup(settings: Settings, dotted: str) -> typing.Any:
    value: typing.Any = settings
    for part in dotted.split("."):
        value = getattr(value, part)
    return value


def redacted(settings: Settings) -> dict:
    """The settings as a dict for logging, with credentials masked."""
    flat = dataclasses.asdict(settings)
    if flat["owner"]["api_secret"]:
        flat["owner"]["api_secret"] = "***"  # noqa: S105 - a mask, not a password
    flat["database"]["url"] = _mask_password(flat["database"]["url"])
    return flat


def _mask_password(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    userinfo, at, host = rest.rpartition("@")
    if not at or ":" not in userinfo:
        return url
    return f"{scheme}{sep}{userinfo.split(':', 1)[0]}:***@{host}"


def replace(settings: Settings, **sections: typing.Any) -> Settings:
    """A copy of `settings` with whole sections or `section__key` values replaced (tests, CLI)."""
    changes: dict[str, dict] = {}
    for name, value in sections.items():
        section, _, key = name.partition("__")
        changes.setdefault(section, {})[key] = value
    return dataclasses.replace(settings, **{
        section: dataclasses.replace(getattr(settings, section), **values)
        for section, values in changes.items()
    })

