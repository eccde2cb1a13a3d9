"""Persistence: Tortoise models and repositories, reached from trio through one bridge module."""

from contextlib import asynccontextmanager
from dataclasses import dataclass

import trio

from storage.cache import EntityCache
from storage.changes import ChangeRepository
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
    "ConflictError", "EntityCache", "MasterKeyError", "NotFoundError", "Sealer", "Storage",
    "StorageError",
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
    changes: ChangeRepository
    cache: EntityCache


@asynccontextmanager
async def open_storage(config: dict, sealer: Sealer, *, migrate_first: bool,
                       cache: EntityCache | None = None):
    """Open the database described by a `tortoise_config()` dict and yield the repositories.

    Without a `cache`, nothing is cached (commands and tests that write behind a node's back)."""
    cache = EntityCache(max_entries=0) if cache is None else cache
    async with open_database(config, migrate_first=migrate_first) as bridge, \
            trio.open_nursery() as batchers:
        tokens = TokenRepository(bridge)
        await tokens.start(batchers)
        yield Storage(
            owners=OwnerRepository(bridge, sealer),
            services=ServiceRepository(bridge, sealer, cache),
            clients=ClientRepository(bridge, sealer, cache),
            access_tokens=AccessTokenRepository(bridge, cache),
            signing_keys=SigningKeyRepository(bridge, sealer),
            leases=LeaseRepository(bridge),
            reaper=ReaperRepository(bridge),
            tokens=tokens,
            grants=GrantRepository(bridge),
            granted_scopes=GrantedScopesRepository(bridge),
            changes=ChangeRepository(bridge),
            cache=cache,
        )
        batchers.cancel_scope.cancel()
