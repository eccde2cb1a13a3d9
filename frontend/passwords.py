"""Password hashes for the configured users: scrypt (RFC 7914) with a random salt.

Format: ``scrypt$<log2 N>$<r>$<p>$<salt, base64url>$<hash, base64url>``, so the cost can rise
later without invalidating stored hashes.
"""

import base64
import hashlib
import hmac
import secrets

_LOG2_N, _R, _P = 15, 8, 1
_LENGTH = 32


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, _LOG2_N, _R, _P)
    return "$".join(["scrypt", str(_LOG2_N), str(_R), str(_P), _b64(salt), _b64(digest)])


def verify_password(password: str, encoded: str) -> bool:
    """Constant-time check; a malformed hash never matches."""
    if check_hash(encoded):
        return False
    _, log2_n, r, p, salt, expected = encoded.split("$")
    try:
        digest = _scrypt(password, _unb64(salt), int(log2_n), int(r), int(p))
        return hmac.compare_digest(digest, _unb64(expected))
    except ValueError:  # bad base64 (binascii.Error), or parameters scrypt refuses
        return False


def check_hash(encoded: str) -> str | None:
    """Why `encoded` is not a usable hash, or None."""
    parts = encoded.split("$")
    if len(parts) != 6 or parts[0] != "scrypt":
        return ("expected 'scrypt$<log2 N>$<r>$<p>$<salt>$<hash>' "
                "(see `python -m frontend hash-password`)")
    if not all(part.isdigit() and int(part) > 0 for part in parts[1:4]):
        return "the scrypt parameters must be positive integers"
    try:
        _unb64(parts[4]), _unb64(parts[5])
    except ValueError:
        return "the salt and the hash must be base64url"
    return None


def _scrypt(password: str, salt: bytes, log2_n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=2**log2_n, r=r, p=p,
                          maxmem=256 * 1024 * 1024, dklen=_LENGTH)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# A hash of nothing anybody knows, checked for unknown usernames so that a wrong username costs
# the same time as a wrong password (no user enumeration by timing).
DUMMY_HASH = hash_password(secrets.token_urlsafe(16))
