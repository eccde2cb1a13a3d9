"""Encryption at rest for client secrets, API secrets and private keys (AES-256-GCM).

The master key comes from an environment variable (base64url, 32 bytes). Without it, and only when
`[security] allow_dev_key` is true, a development key is generated once into a file beside the
database and a loud warning is logged: anyone who can read that file can decrypt the secrets.
Each ciphertext is bound to its purpose and row through the GCM associated data, so a sealed value
copied into another row or column does not decrypt.
"""

import base64
import os
import secrets
from pathlib import Path

import structlog
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_VERSION = "v1"
_log = structlog.get_logger("tessera.storage")


class MasterKeyError(Exception):
    """No usable master key; start-up must stop."""


class Sealer:
    """Seals and opens short secrets under the master key."""

    def __init__(self, master_key: bytes) -> None:
        if len(master_key) != 32:
            raise MasterKeyError("the master key must be 32 bytes")
        self._aead = AESGCM(master_key)

    def seal(self, plaintext: str, context: str) -> str:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), context.encode())
        return f"{_VERSION}.{_b64(nonce)}.{_b64(sealed)}"

    def open(self, token: str, context: str) -> str:
        version, _, rest = token.partition(".")
        nonce_text, _, sealed_text = rest.partition(".")
        if version != _VERSION or not sealed_text:
            raise MasterKeyError(f"sealed value for {context} has an unknown format")
        try:
            plain = self._aead.decrypt(_unb64(nonce_text), _unb64(sealed_text), context.encode())
        except InvalidTag:
            raise MasterKeyError(
                f"sealed value for {context} does not open with this master key"
            ) from None
        return plain.decode()


def load_master_key(env_name: str, dev_key_file: str, allow_dev_key: bool,
                    environ: dict | None = None) -> bytes:
    """The master key from the environment, else the development key file when allowed."""
    environ = os.environ if environ is None else environ
    encoded = environ.get(env_name, "").strip()
    if encoded:
        return _decode_master_key(encoded, f"environment variable {env_name}")
    if not allow_dev_key:
        raise MasterKeyError(
            f"environment variable {env_name} is not set and [security] allow_dev_key is false"
        )
    return _development_key(Path(dev_key_file))


def _development_key(path: Path) -> bytes:
    if path.exists():
        key = _decode_master_key(path.read_text().strip(), f"file {path}")
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_bytes(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(_b64(key))
    _log.warning("security.dev_master_key", path=str(path),
                 hint="set the master key environment variable in production")
    return key


def _decode_master_key(encoded: str, source: str) -> bytes:
    try:
        key = _unb64(encoded)
    except ValueError:
        raise MasterKeyError(f"the master key in {source} is not base64url") from None
    if len(key) != 32:
        raise MasterKeyError(f"the master key in {source} must decode to 32 bytes")
    return key


def generate_master_key() -> str:
    return _b64(secrets.token_bytes(32))


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
