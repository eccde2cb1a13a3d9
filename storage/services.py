"""Service owners, services and v3 API access tokens."""

import hashlib

from tortoise.transactions import in_transaction

from app.protocol.ports import OwnerRecord, Page, ServiceRecord
from storage.bridge import Bridge
from storage.cache import EntityCache, clients_topic, service_topic
from storage.changes import record_changes
from storage.models import ApiAccessToken, Service, ServiceOwner
from storage.sealing import Sealer

CREDENTIALS_TOPIC = "credentials"


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class OwnerRepository:
    def __init__(self, bridge: Bridge, sealer: Sealer) -> None:
        self._bridge = bridge
        self._sealer = sealer

    async def ensure(self, api_key: str, api_secret: str, now: int) -> OwnerRecord:
        """The owner with `api_key`, created if absent; a different `api_secret` replaces it."""
        return await self._bridge.call(self._ensure, api_key, api_secret, now)

    async def first(self) -> OwnerRecord | None:
        return await self._bridge.call(self._first)

    async def by_api_key(self, api_key: str) -> OwnerRecord | None:
        return await self._bridge.call(self._by_api_key, api_key)

    async def _ensure(self, api_key: str, api_secret: str, now: int) -> OwnerRecord:
        row = await ServiceOwner.get_or_none(api_key=api_key)
        sealed = self._sealer.seal(api_secret, f"owner:{api_key}")
        if row is None:
            row = await ServiceOwner.create(api_key=api_key, api_secret_sealed=sealed,
                                            created_at=now)
        elif self._open(row) != api_secret:
            row.api_secret_sealed = sealed
            await row.save(update_fields=["api_secret_sealed"])
        return self._record(row)

    async def _first(self) -> OwnerRecord | None:
        row = await ServiceOwner.all().order_by("id").first()
        return self._record(row) if row else None

    async def _by_api_key(self, api_key: str) -> OwnerRecord | None:
        row = await ServiceOwner.get_or_none(api_key=api_key)
        return self._record(row) if row else None

    def _open(self, row: ServiceOwner) -> str:
        return self._sealer.open(row.api_secret_sealed, f"owner:{row.api_key}")

    def _record(self, row: ServiceOwner) -> OwnerRecord:
        return OwnerRecord(id=row.id, api_key=row.api_key, api_secret=self._open(row))


class ServiceRepository:
    def __init__(self, bridge: Bridge, sealer: Sealer, cache: EntityCache) -> None:
        self._bridge = bridge
        self._sealer = sealer
        self._cache = cache

    async def create(self, owner_id: int, api_key: int, api_secret: str, document: dict,
                     now: int) -> ServiceRecord:
        return await self._bridge.call(self._create, owner_id, api_key, api_secret, document, now)

    async def get(self, api_key: int) -> ServiceRecord | None:
        """From the cache when this node has read it lately (storage/cache.py)."""
        return await self._cache.through(("service", api_key), service_topic(api_key),
                                         lambda: self._bridge.call(self._get, api_key))

    async def page(self, owner_id: int, start: int, end: int) -> Page:
        return await self._bridge.call(self._page, owner_id, start, end)

    async def all_api_keys(self) -> list[int]:
        return await self._bridge.call(self._all_api_keys)

    async def update(self, api_key: int, document: dict, now: int) -> ServiceRecord | None:
        try:
            return await self._bridge.call(self._update, api_key, document, now)
        finally:
            self._cache.evict(service_topic(api_key))

    async def delete(self, api_key: int) -> bool:
        try:
            return await self._bridge.call(self._delete, api_key)
        finally:
            self._cache.evict(service_topic(api_key))
            self._cache.evict(clients_topic(api_key))

    async def _create(self, owner_id, api_key, api_secret, document, now) -> ServiceRecord:
        row = await Service.create(
            owner_id=owner_id, api_key=api_key, document=document, created_at=now, modified_at=now,
            api_secret_sealed=self._sealer.seal(api_secret, f"service:{api_key}"),
        )
        return self._record(row)

    async def _get(self, api_key: int) -> ServiceRecord | None:
        row = await Service.get_or_none(api_key=api_key)
        return self._record(row) if row else None

    async def _page(self, owner_id: int, start: int, end: int) -> Page:
        query = Service.filter(owner_id=owner_id)
        total = await query.count()
        rows = await query.order_by("number").offset(start).limit(max(end - start, 0))
        return Page(start, end, total, [self._record(row) for row in rows])

    async def _all_api_keys(self) -> list[int]:
        return list(await Service.all().order_by("number").values_list("api_key", flat=True))

    async def _update(self, api_key: int, document: dict, now: int) -> ServiceRecord | None:
        async with in_transaction():
            updated = await Service.filter(api_key=api_key).update(document=document,
                                                                   modified_at=now)
            if not updated:
                return None
            await record_changes(service_topic(api_key))
            return await self._get(api_key)

    async def _delete(self, api_key: int) -> bool:
        async with in_transaction():
            row = await Service.get_or_none(api_key=api_key)
            if row is None:
                return False
            await row.delete()  # its clients, keys and tokens go with it (ON DELETE CASCADE)
            await record_changes(service_topic(api_key), clients_topic(api_key))
            return True

    def _record(self, row: Service) -> ServiceRecord:
        return ServiceRecord(
            api_key=row.api_key, number=row.number, owner_id=row.owner_id,
            api_secret=self._sealer.open(row.api_secret_sealed, f"service:{row.api_key}"),
            document=row.document, created_at=row.created_at, modified_at=row.modified_at,
        )


class AccessTokenRepository:
    """v3 bearer credentials, stored only as SHA-256 digests."""

    def __init__(self, bridge: Bridge, cache: EntityCache) -> None:
        self._bridge = bridge
        self._cache = cache

    async def create(self, token: str, owner_id: int, service_api_key: int | None,
                     description: str, now: int) -> None:
        await self._bridge.call(self._create, token_digest(token), owner_id, service_api_key,
                          description, now)

    async def resolve(self, token: str) -> tuple[int, int | None] | None:
        """(owner id, service api key or None) for a token, or None when unknown."""
        digest = token_digest(token)
        return await self._cache.through(("credential", digest), CREDENTIALS_TOPIC,
                                         lambda: self._bridge.call(self._resolve, digest))

    async def _create(self, digest, owner_id, service_api_key, description, now) -> None:
        await ApiAccessToken.create(digest=digest, owner_id=owner_id, created_at=now,
                                    service_id=service_api_key, description=description)

    async def _resolve(self, digest: str) -> tuple[int, int | None] | None:
        row = await ApiAccessToken.get_or_none(digest=digest)
        return (row.owner_id, row.service_id) if row else None
