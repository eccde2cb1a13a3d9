"""The end-users this front-end authenticates, and the claims it releases about them.

Users and their claims live here, in the front-end's configuration; Tessera learns a subject
and, at issue time only, the claims that go into an ID token or a userinfo response.
"""

import hashlib
import hmac

from frontend.config import ResourceServer, User
from frontend.passwords import DUMMY_HASH, verify_password


class Users:
    def __init__(self, users: tuple[User, ...]):
        self._by_username = {user.username: user for user in users}
        self._by_subject = {user.subject: user for user in users}

    def authenticate(self, username: str, password: str) -> User | None:
        user = self._by_username.get(username)
        # Verify against a dummy hash for unknown names, so timing does not reveal which exist.
        matches = verify_password(password, user.password_hash if user else DUMMY_HASH)
        return user if user and matches else None

    def by_username(self, username: str) -> User | None:
        return self._by_username.get(username)

    def by_subject(self, subject: str) -> User | None:
        return self._by_subject.get(subject)


def released_claims(user: User, names: list[str] | None) -> dict:
    """The user's values for the claim names Tessera asked for (OIDC Core §5.4, §5.5);
    names the user has no value for are left out, as §5.3.2 requires."""
    return {name: user.claims[name] for name in names or () if name in user.claims}


class ResourceServers:
    def __init__(self, servers: tuple[ResourceServer, ...]):
        self._by_id = {server.client_id: server for server in servers}
        # SHA-256 of (id, secret) pairs already checked against the scrypt hash: introspection
        # is called for every API request a resource server serves; scrypt each time would cap
        # the front-end at about a dozen introspections a second.
        self._verified: set[bytes] = set()

    def known(self, client_id: str, secret: str) -> bool:
        return _pair_digest(client_id, secret) in self._verified

    def authenticate(self, client_id: str, secret: str) -> bool:
        """The slow check (run it in a worker thread); remembers a success."""
        server = self._by_id.get(client_id)
        matches = verify_password(secret, server.secret_hash if server else DUMMY_HASH)
        if server and matches:
            self._verified.add(_pair_digest(client_id, secret))
        return bool(server) and matches


def _pair_digest(client_id: str, secret: str) -> bytes:
    return hashlib.sha256(f"{client_id}\n{secret}".encode()).digest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
