"""First-start bootstrap: the service owner, API access tokens, and the demo service."""

import json
import secrets
from dataclasses import dataclass
from pathlib import Path

import structlog

from app.config import Settings
from app.protocol import management
from app.protocol.ports import ClientRecord, OwnerRecord

_log = structlog.get_logger("tessera.bootstrap")


async def ensure_owner(storage, settings: Settings, now: int) -> OwnerRecord:
    """The owner from `[owner]` when configured, else the stored one, else a generated one."""
    if settings.owner.api_key and settings.owner.api_secret:
        return await storage.owners.ensure(settings.owner.api_key, settings.owner.api_secret, now)
    existing = await storage.owners.first()
    if existing is not None:
        return existing
    owner = await storage.owners.ensure(str(management.new_identifier()),
                                        management.new_secret(), now)
    _log.info("owner.created", api_key=owner.api_key)
    return owner


async def issue_access_token(storage, owner_id: int, service_api_key: int | None,
                             description: str, now: int) -> str:
    """A new v3 bearer credential; only its digest is stored, so show it once."""
    token = secrets.token_urlsafe(48)
    await storage.access_tokens.create(token, owner_id, service_api_key, description, now)
    _log.info("access_token.issued", service=service_api_key, description=description)
    return token


@dataclass(frozen=True)
class DemoCredentials:
    service_api_key: int
    service_api_secret: str
    service_access_token: str
    client_id: int
    client_secret: str

    def as_dict(self) -> dict:
        return self.__dict__.copy()


DEMO_SERVICE = {
    "serviceName": "Tessera demo",
    "issuer": "http://localhost:8000",
    "authorizationEndpoint": "http://localhost:8000/authorize",
    "tokenEndpoint": "http://localhost:8000/token",
    "jwksUri": "http://localhost:8000/jwks",
    "supportedScopes": [{"name": "openid"}, {"name": "profile"}, {"name": "email"}],
    "clientIdAliasEnabled": True,
}
DEMO_CLIENT = {
    "clientName": "Demo web client",
    "clientIdAlias": "demo-client",
    "clientIdAliasEnabled": True,
    "redirectUris": ["http://localhost:3000/callback"],
}


async def ensure_demo(storage, key_manager, owner: OwnerRecord, path: Path,
                      now: int) -> DemoCredentials:
    """Create the demo service and client once; later starts reuse the saved credentials."""
    if path.exists():
        saved = DemoCredentials(**json.loads(path.read_text()))
        if await storage.services.get(saved.service_api_key) is not None:
            return saved
    credentials = await _create_demo(storage, key_manager, owner, now)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(credentials.as_dict(), indent=2))
    path.chmod(0o600)
    return credentials


async def _create_demo(storage, key_manager, owner: OwnerRecord, now: int) -> DemoCredentials:
    document = management.service_document(DEMO_SERVICE, key_manager.algorithms(),
                                            creating=True)
    service = await storage.services.create(owner.id, management.new_identifier(),
                                            management.new_secret(), document, now)
    await key_manager.ensure_keys(service.api_key)
    fields = management.client_fields(DEMO_CLIENT)
    client = await storage.clients.create(ClientRecord(
        client_id=management.new_identifier(), number=0, service_api_key=service.api_key,
        client_secret=management.new_secret(), client_id_alias=fields.alias,
        developer=fields.developer, locked=False, document=fields.document,
        created_at=now, modified_at=now))
    token = await issue_access_token(storage, owner.id, service.api_key, "demo", now)
    _log.info("demo.created", service=service.api_key, client=client.client_id)
    return DemoCredentials(service.api_key, service.api_secret, token, client.client_id,
                           client.client_secret)
