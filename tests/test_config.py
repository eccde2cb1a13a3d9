"""Deployment settings: config.toml, TESSERA__* environment overrides, one-line errors."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.config import BucketSettings, ConfigError, Settings, load_settings
from tests.support import ROOT

SHIPPED = ROOT / "config.toml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def config_error(path: Path | None, environ: dict | None = None) -> str:
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ or {})
    message = str(caught.value)
    assert "\n" not in message, f"a configuration error must be one line: {message!r}"
    return message


def test_shipped_config_documents_exactly_the_defaults():
    assert load_settings(SHIPPED, {}) == Settings()


def test_no_file_means_defaults():
    assert load_settings(None, {}) == Settings()


def test_environment_overrides_every_kind_of_value():
    environ = {
        "TESSERA__DATABASE__URL": "postgres://tessera@db:5432/tessera",        # str
        "TESSERA__DATABASE__SQLITE_BUSY_TIMEOUT_MS": "750",                    # int
        "TESSERA__SERVER__GRACE_PERIOD": "2.5",                                # float
        "TESSERA__DEMO__ENABLED": "true",                                      # bool
        "TESSERA__DATABASE__MIGRATE_ON_START": "0",                            # bool
        "TESSERA__KEYS__ALGORITHMS": "RS256, ES256,EdDSA",                     # list
        "TESSERA__RATE_LIMIT__AUTH__RATE": "500",                              # nested table
        "TESSERA__RATE_LIMIT__AUTH__BURST": "9",
        "UNRELATED": "ignored",
    }
    settings = load_settings(SHIPPED, environ)
    assert settings.database.url == "postgres://tessera@db:5432/tessera"
    assert settings.database.sqlite_busy_timeout_ms == 750
    assert settings.server.grace_period == 2.5
    assert settings.demo.enabled is True
    assert settings.database.migrate_on_start is False
    assert settings.keys.algorithms == ["RS256", "ES256", "EdDSA"]
    assert settings.rate_limit.auth == BucketSettings(rate=500.0, burst=9)
    assert isinstance(settings.rate_limit.auth.rate, float)
    # Untouched members of the same tables keep the file's values.
    assert settings.rate_limit.owner == Settings().rate_limit.owner
    assert settings.server.bind == "127.0.0.1:8080"


def test_environment_beats_the_file(tmp_path):
    path = write(tmp_path, '[log]\nformat = "json"\nlevel = "debug"\n')
    settings = load_settings(path, {"TESSERA__LOG__LEVEL": "error"})
    assert (settings.log.format, settings.log.level) == ("json", "error")


def test_file_values_are_read(tmp_path):
    path = write(tmp_path, '[server]\nbind = "0.0.0.0:9000"\ngrace_period = 3\n'
                           "[rate_limit.misc]\nrate = 2\nburst = 4\n")
    settings = load_settings(path, {})
    assert settings.server.bind == "0.0.0.0:9000"
    assert settings.server.grace_period == 3.0  # an integer is accepted for a float
    assert settings.rate_limit.misc == BucketSettings(2.0, 4)


@pytest.mark.parametrize(("text", "fragments"), [
    ("[server]\nbogus = 1\n", ["'server.bogus'", "unknown"]),
    ("[bogus]\nx = 1\n", ["'bogus'", "unknown"]),
    ("[rate_limit.auth]\nspeed = 1\n", ["'rate_limit.auth.speed'", "unknown"]),
    ('[server]\nkeep_alive_timeout = "5"\n', ["'server.keep_alive_timeout'", "'5'"]),
    ('[database]\nsqlite_busy_timeout_ms = "5000"\n', ["'database.sqlite_busy_timeout_ms'",
                                                       "'5000'"]),
    ("[demo]\nenabled = 1\n", ["'demo.enabled'", "boolean", "1"]),
    ("[server]\nworkers = true\n", ["'server.workers'", "True"]),
    ('[keys]\nalgorithms = "RS256"\n', ["'keys.algorithms'", "list"]),
    ('[keys]\nalgorithms = ["HS256"]\n', ["'keys.algorithms'", "HS256"]),
    ('[log]\nformat = "xml"\n', ["'log.format'", "json, console", "'xml'"]),
    ('[log]\nlevel = "verbose"\n', ["'log.level'", "'verbose'"]),
    ("[server]\nworkers = 65\n", ["'server.workers'", "at most 64", "65"]),
    ("[server]\nworkers = 0\n", ["'server.workers'", "greater than zero"]),
    ("[cache]\nlookback = 0.4\n", ["'cache.lookback'", "'cache.poll_interval'"]),
    ('[server]\nbind = "8080"\n', ["'server.bind'", "host:port"]),
    ('[database]\nurl = "mysql://x"\n', ["'database.url'"]),
    ("[keys]\nrsa_key_size = 1024\n", ["'keys.rsa_key_size'", "2048"]),
    ("server = 1\n", ["[server]", "table"]),
], ids=["unknown-key", "unknown-section", "unknown-nested-key", "string-for-float",
        "string-for-int", "int-for-bool", "bool-for-int", "string-for-list",
        "unsupported-algorithm", "bad-log-format", "bad-log-level", "too-many-workers",
        "no-workers", "cache-lookback-below-poll",
        "bind-without-port", "unsupported-database", "short-rsa-key", "section-not-table"])
def test_invalid_file_is_refused_in_one_line_naming_the_key(tmp_path, text, fragments):
    message = config_error(write(tmp_path, text))
    for fragment in fragments:
        assert fragment in message


@pytest.mark.parametrize(("environ", "fragments"), [
    ({"TESSERA__DEMO__ENABLED": "maybe"}, ["'demo.enabled'", "boolean", "'maybe'"]),
    ({"TESSERA__SERVER__WORKERS": "two"}, ["'server.workers'", "'two'"]),
    ({"TESSERA__SERVER__GRACE_PERIOD": "soon"}, ["'server.grace_period'", "'soon'"]),
    ({"TESSERA__RATE_LIMIT__AUTH__BURST": "1.5"}, ["'rate_limit.auth.burst'", "'1.5'"]),
    ({"TESSERA__SERVER__BOGUS": "1"}, ["'server.bogus'"]),
    ({"TESSERA__NOPE__X": "1"}, ["'nope'"]),
    ({"TESSERA__SERVER__WORKERS": "300"}, ["'server.workers'", "at most 64"]),
    ({"TESSERA__LOG__FORMAT": "yaml"}, ["'log.format'", "'yaml'"]),
], ids=["bool", "int", "float", "int-given-float", "unknown-key", "unknown-section",
        "workers", "choice"])
def test_invalid_environment_is_refused_in_one_line_naming_the_key(environ, fragments):
    message = config_error(SHIPPED, environ)
    for fragment in fragments:
        assert fragment in message


def test_missing_file_names_the_path(tmp_path):
    missing = tmp_path / "absent.toml"
    message = config_error(missing)
    assert str(missing) in message and "cannot read" in message


def test_unreadable_file_names_the_path(tmp_path):
    # A directory cannot be read as a file, whoever runs the tests (root ignores mode bits).
    message = config_error(tmp_path)
    assert str(tmp_path) in message and "cannot read" in message


def test_invalid_toml_names_the_file_and_position(tmp_path):
    path = write(tmp_path, "[server\nbind = 1\n")
    message = config_error(path)
    assert str(path) in message and "not valid TOML" in message and "line 1" in message


def test_serve_with_a_bad_config_exits_2_naming_the_key(tmp_path):
    path = write(tmp_path, "[server]\nworkers = 100\n[log]\nformat = \"json\"\n")
    result = subprocess.run([sys.executable, "-m", "app", "--config", str(path), "serve"],
                            cwd=ROOT, capture_output=True, text=True, timeout=60,
                            env=_clean_environment())
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "configuration error: " in lines[0] and "'server.workers'" in lines[0]
    assert result.stdout == ""


def test_bad_environment_override_stops_the_cli_naming_the_key(tmp_path):
    path = write(tmp_path, "")
    env = {**_clean_environment(), "TESSERA__RATE_LIMIT__AUTH__RATE": "fast"}
    result = subprocess.run([sys.executable, "-m", "app", "--config", str(path), "migrate"],
                            cwd=ROOT, capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 2
    assert "configuration error: " in result.stderr
    assert "'rate_limit.auth.rate'" in result.stderr and "'fast'" in result.stderr


def _clean_environment() -> dict:
    return {name: value for name, value in os.environ.items()
            if not name.startswith("TESSERA__")}
