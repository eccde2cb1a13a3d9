"""The front-end's settings (frontend/config.py) and password hashes (frontend/passwords.py).

A bad value stops start-up with a `ConfigError` whose message names the setting; secrets may
come from the environment. Password hashes are salted scrypt (RFC 7914).
"""

import copy
import re
import tomllib

import pytest

from frontend.config import ConfigError, FrontendSettings, ResourceServer, User, from_dict, load
from frontend.passwords import check_hash, hash_password, verify_password
from tests.support import ROOT

SESSION_SECRET = "s" * 32


@pytest.fixture(scope="module")
def alice_hash() -> str:
    return hash_password("correct horse battery staple")


@pytest.fixture(scope="module")
def good(alice_hash) -> dict:
    """A complete, valid configuration, as tomllib would return it."""
    return {
        "server": {"bind": "0.0.0.0:9000", "public_url": "https://login.example/"},
        "tessera": {"url": "http://127.0.0.1:8080", "api_key": "key-1", "api_secret": "secret-1",
                    "timeout": 5},
        "session": {"secret": SESSION_SECRET, "lifetime": 600},
        "users": [{"username": "alice", "password_hash": alice_hash, "subject": "alice-sub",
                   "claims": {"name": "Alice", "email": "alice@example.com"}},
                  {"username": "bob", "password_hash": alice_hash}],
        "resource_servers": [{"client_id": "rs1", "secret_hash": alice_hash}],
        "demo": {"callback": True},
        "log": {"level": "debug"},
    }


def changed(raw: dict, path: str, value) -> dict:
    """A copy of `raw` with the setting at dotted `path` (list indexes allowed) set to
    `value`, or removed when `value` is REMOVE."""
    raw = copy.deepcopy(raw)
    *parents, last = path.split(".")
    node = raw
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    if value is REMOVE:
        del node[last]
    else:
        node[int(last) if last.isdigit() else last] = value
    return raw


REMOVE = object()


def test_a_good_config_loads(good, alice_hash):
    settings = from_dict(good, environ={})

    assert settings == FrontendSettings(
        bind="0.0.0.0:9000", public_url="https://login.example", tessera_url="http://127.0.0.1:8080",
        api_key="key-1", api_secret="secret-1", session_secret=SESSION_SECRET,
        session_lifetime=600, tessera_timeout=5.0,
        users=(User("alice", alice_hash, "alice-sub",
                    {"name": "Alice", "email": "alice@example.com"}),
               User("bob", alice_hash, "bob", {})),          # subject defaults to the username
        resource_servers=(ResourceServer("rs1", alice_hash),),
        demo_callback=True, log_level="debug")
    assert settings.secure_cookies


def test_a_minimal_config_gets_the_defaults():
    settings = from_dict({"server": {"public_url": "http://localhost:8000"},
                          "tessera": {"url": "http://127.0.0.1:8080", "api_key": "k",
                                      "api_secret": "s"},
                          "session": {"secret": SESSION_SECRET}}, environ={})

    assert settings.bind == "127.0.0.1:8000"
    assert settings.session_lifetime == 8 * 3600
    assert settings.tessera_timeout == 10.0
    assert settings.users == () and settings.resource_servers == ()
    assert settings.demo_callback is False and settings.log_level == "info"
    assert not settings.secure_cookies


def test_load_reads_toml(tmp_path, alice_hash):
    path = tmp_path / "frontend.toml"
    path.write_text(f"""
[server]
public_url = "https://login.example"
[tessera]
url = "http://127.0.0.1:8080"
api_key = "k"
api_secret = "s"
[session]
secret = "{SESSION_SECRET}"
[[users]]
username = "alice"
password_hash = "{alice_hash}"
claims = {{ name = "Alice" }}
""")

    settings = load(path, environ={})

    assert settings.public_url == "https://login.example"
    assert settings.users == (User("alice", alice_hash, "alice", {"name": "Alice"}),)


@pytest.mark.parametrize("text", [None, "[server\npublic_url = 1"], ids=["missing", "not-toml"])
def test_an_unreadable_file_names_the_file(tmp_path, text):
    path = tmp_path / "frontend.toml"
    if text is not None:
        path.write_text(text)

    with pytest.raises(ConfigError, match=re.escape("frontend.toml")):
        load(path, environ={})


# (id, setting path, bad value, the setting the message must name)
BAD = [
    ("missing-server.public_url", "server.public_url", REMOVE, "server.public_url"),
    ("empty-server.public_url", "server.public_url", "", "server.public_url"),
    ("server.public_url-with-query", "server.public_url", "https://login.example/?a=1",
     "server.public_url"),
    ("server.public_url-with-fragment", "server.public_url", "https://login.example/#f",
     "server.public_url"),
    ("server.public_url-not-http", "server.public_url", "ftp://login.example",
     "server.public_url"),
    ("tessera.url-with-query", "tessera.url", "http://127.0.0.1:8080/?x=y", "tessera.url"),
    ("missing-tessera.api_key", "tessera.api_key", REMOVE, "tessera.api_key"),
    ("tessera.timeout-not-a-number", "tessera.timeout", "soon", "tessera.timeout"),
    ("short-session.secret", "session.secret", "s" * 31, "session.secret"),
    ("missing-session.secret", "session.secret", REMOVE, "session.secret"),
    ("session.lifetime-negative", "session.lifetime", -1, "session.lifetime"),
    ("server-not-a-table", "server", "https://login.example", "server"),
    ("malformed-password_hash", "users.0.password_hash", "plaintext-password",
     "users[0].password_hash"),
    ("password_hash-bad-parameters", "users.1.password_hash", "scrypt$x$8$1$c2FsdA$aGFzaA",
     "users[1].password_hash"),
    ("missing-username", "users.1.username", REMOVE, "users[1].username"),
    ("duplicate-usernames", "users.1.username", "alice", "alice"),
    ("claims-not-a-table", "users.0.claims", ["name", "Alice"], "users[0].claims"),
    ("malformed-resource-server-secret_hash", "resource_servers.0.secret_hash", "x",
     "resource_servers[0].secret_hash"),
    ("duplicate-subjects", "users.1.subject", "alice-sub", "subject 'alice-sub'"),
    ("subject-not-a-string", "users.0.subject", 7, "users[0].subject"),
    ("claims-set-sub", "users.0.claims", {"sub": "root"}, "users[0].claims"),
    ("users-not-an-array", "users", {"username": "alice"}, "users"),
    ("unknown-log-level", "log", {"level": "loud"}, "log.level"),
    ("server.public_url-with-path", "server.public_url", "https://login.example/as",
     "server.public_url"),
    ("server.bind-without-port", "server.bind", "localhost", "server.bind"),
]


@pytest.mark.parametrize(("path", "value", "named"),
                         [pytest.param(*row[1:], id=row[0]) for row in BAD])
def test_a_bad_value_names_the_setting(good, path, value, named):
    with pytest.raises(ConfigError) as caught:
        from_dict(changed(good, path, value), environ={})

    assert named in str(caught.value)
    assert "\n" not in str(caught.value)


def test_duplicate_usernames_name_the_users_setting(good):
    with pytest.raises(ConfigError, match=r"^users: username 'alice'"):
        from_dict(changed(good, "users.1.username", "alice"), environ={})


def test_environment_overrides_the_session_secret(good):
    env_secret = "e" * 40

    settings = from_dict(good, environ={"TESSERA_FRONTEND_SESSION_SECRET": env_secret})

    assert settings.session_secret == env_secret


def test_environment_supplies_a_session_secret_missing_from_the_file(good):
    raw = changed(good, "session.secret", REMOVE)

    settings = from_dict(raw, environ={"TESSERA_FRONTEND_SESSION_SECRET": "e" * 32})

    assert settings.session_secret == "e" * 32


def test_a_short_session_secret_from_the_environment_is_refused(good):
    with pytest.raises(ConfigError, match=re.escape("session.secret")):
        from_dict(good, environ={"TESSERA_FRONTEND_SESSION_SECRET": "short"})


def test_environment_overrides_the_api_secret(good):
    settings = from_dict(good, environ={"TESSERA_FRONTEND_API_SECRET": "from-env"})

    assert settings.api_secret == "from-env"


# --- passwords ----------------------------------------------------------------------------

def test_hash_and_verify_round_trip(alice_hash):
    assert verify_password("correct horse battery staple", alice_hash)
    assert check_hash(alice_hash) is None


def test_a_wrong_password_fails(alice_hash):
    assert not verify_password("correct horse battery stapler", alice_hash)
    assert not verify_password("", alice_hash)


def test_two_hashes_of_one_password_differ_by_their_salt(alice_hash):
    again = hash_password("correct horse battery staple")

    assert again != alice_hash
    assert again.split("$")[4] != alice_hash.split("$")[4]
    assert verify_password("correct horse battery staple", again)


def test_a_non_ascii_password_round_trips():
    encoded = hash_password("pässwörd ☃")

    assert verify_password("pässwörd ☃", encoded)
    assert not verify_password("passwort ☃", encoded)


MALFORMED = {
    "empty": "",
    "not-a-hash": "plaintext-password",
    "other-scheme": "bcrypt$15$8$1$c2FsdA$aGFzaA",
    "too-few-fields": "scrypt$15$8$1$c2FsdA",
    "too-many-fields": "scrypt$15$8$1$c2FsdA$aGFzaA$extra",
    "non-integer-cost": "scrypt$x$8$1$c2FsdA$aGFzaA",
    "impossible-cost": "scrypt$40$8$1$c2FsdA$aGFzaA",
    "zero-parallelism": "scrypt$15$8$0$c2FsdA$aGFzaA",
    "negative-cost": "scrypt$-1$8$1$c2FsdA$aGFzaA",
    "bad-base64-salt": "scrypt$15$8$1$A$aGFzaA",
    "bad-base64-hash": "scrypt$15$8$1$c2FsdA$A",
}


@pytest.mark.parametrize("encoded", list(MALFORMED.values()), ids=list(MALFORMED))
def test_a_malformed_hash_never_matches_and_never_raises(encoded):
    assert verify_password("anything", encoded) is False


@pytest.mark.parametrize("cut", [1, 2, 3])
def test_a_truncated_hash_does_not_match(alice_hash, cut):
    """E.g. a hash pasted into frontend.toml without its last characters."""
    assert verify_password("correct horse battery staple", alice_hash[:-cut]) is False


def test_the_example_configuration_needs_its_secrets_set():
    """The example ships no usable session secret: a copied file must not sign cookies with a
    published key."""
    example = ROOT / "frontend" / "frontend.example.toml"
    with pytest.raises(ConfigError, match=r"session\.secret"):
        load(example, environ={})
    settings = load(example, environ={"TESSERA_FRONTEND_SESSION_SECRET": "s" * 40})
    assert settings.public_url == "http://localhost:8000"
    # its user and resource server are commented out: their passwords are published
    assert settings.users == () and settings.resource_servers == ()


def test_the_example_entries_load_once_uncommented():
    text = (ROOT / "frontend" / "frontend.example.toml").read_text()
    text = text.replace("# [[users]]", "[[users]]").replace("# [users.claims]", "[users.claims]")
    text = text.replace("# [[resource_servers]]", "[[resource_servers]]")
    for key in ("username", "password_hash", "subject", "name", "email", "email_verified",
                "client_id", "secret_hash"):
        text = text.replace(f"# {key} =", f"{key} =")
    settings = from_dict(tomllib.loads(text), environ={"TESSERA_FRONTEND_SESSION_SECRET":
                                                       "s" * 40})
    assert [user.username for user in settings.users] == ["alice"]
    assert verify_password("change-me", settings.users[0].password_hash)
    assert settings.resource_servers[0].client_id == "my-resource-server"
