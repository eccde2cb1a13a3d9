"""Persistence: Tortoise models and repositories, reached from trio through one bridge module."""

from contextlib import asynccontextmanager
from dataclasses import dataclass

from storage.clients import ClientRepository
from storage.database import open_database, run_migrations, tortoise_config
from storage.errors import ConflictError, NotFoundError, StorageError
from storage.granted_scopes import GrantedScopesRepository
from storage.grants import GrantRepository
from storage.keys import LeaseRepository, SigningKeyRepository
from storage.reaping import ReaperRepository
from storage.sealing import MasterKeyError, Sealer, generate_master_key, load_master_key
from storage.services import AccessTokenRepository, OwnerRepository, ServiceRepository
from storage.tokens import TokenRepository

__all__ = [
    "ConflictError", "MasterKeyError", "NotFoundError", "Sealer", "Storage", "StorageError",
    "generate_master_key", "load_master_key", "open_storage", "run_migrations", "tortoise_config",
]


@dataclass(frozen=True)
class Storage:
    owners: OwnerRepository
    services: ServiceRepository
    clients: ClientRepository
    access_tokens: AccessTokenRepository
    signing_keys: SigningKeyRepository
    leases: LeaseRepository
    reaper: ReaperRepository
    tokens: TokenRepository
    grants: GrantRepository
    granted_scopes: GrantedScopesRepository


@asynccontextmanager
async def open_storage(config: dict, sealer: Sealer, *, migrate_first: bool):
    """Open the database described by a `tortoise_config()` dict and yield the repositories."""
    async with open_database(config, migrate_first=migrate_first) as bridge:
        yield Storage(
            owners=OwnerRepository(bridge, sealer),
            services=ServiceRepository(bridge, sealer),
            clients=ClientRepository(bridge, sealer),
            access_tokens=AccessTokenRepository(bridge),
            signing_keys=SigningKeyRepository(bridge, sealer),
            leases=LeaseRepository(bridge),
            reaper=ReaperRepository(bridge),
            tokens=TokenRepository(bridge),
            grants=GrantRepository(bridge),
            granted_scopes=GrantedScopesRepository(bridge),
        )
