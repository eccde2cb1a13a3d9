"""Clients of a service. Client secrets are sealed; the alias is unique per service."""

from tortoise.transactions import in_transaction

from app.protocol.ports import ClientRecord, Page
from storage.bridge import Bridge
from storage.cache import EntityCache, clients_topic
from storage.changes import record_changes
from storage.models import Client
from storage.sealing import Sealer


class ClientRepository:
    """Reads of one client come from the cache when this node has read it lately
    (storage/cache.py); every write evicts the service's cached clients, here and, through the
    change feed, on every node."""

    def __init__(self, bridge: Bridge, sealer: Sealer, cache: EntityCache) -> None:
        self._bridge = bridge
        self._sealer = sealer
        self._cache = cache

    async def create(self, record: ClientRecord) -> ClientRecord:
        return await self._bridge.call(self._create, record)

    async def get(self, service_api_key: int, client_id: int) -> ClientRecord | None:
        return await self._cache.through(
            ("client", service_api_key, client_id), clients_topic(service_api_key),
            lambda: self._bridge.call(self._get, service_api_key, client_id))

    async def by_alias(self, service_api_key: int, alias: str) -> ClientRecord | None:
        return await self._cache.through(
            ("alias", service_api_key, alias), clients_topic(service_api_key),
            lambda: self._bridge.call(self._by_alias, service_api_key, alias))

    async def page(self, service_api_key: int, developer: str | None, start: int,
                   end: int) -> Page:
        return await self._bridge.call(self._page, service_api_key, developer, start, end)

    async def update(self, record: ClientRecord) -> ClientRecord | None:
        """Replace every mutable column of the client; None when it no longer exists."""
        return await self._write(record.service_api_key, self._update, record)

    async def set_locked(self, service_api_key: int, client_id: int, locked: bool,
                         now: int) -> bool:
        return await self._write(service_api_key, self._set_locked, service_api_key, client_id,
                                 locked, now)

    async def set_secret(self, service_api_key: int, client_id: int, secret: str,
                         now: int) -> bool:
        return await self._write(service_api_key, self._set_secret, service_api_key, client_id,
                                 secret, now)

    async def delete(self, service_api_key: int, client_id: int) -> bool:
        return await self._write(service_api_key, self._delete, service_api_key, client_id)

    async def _write(self, service_api_key: int, change, *args):
        """Run `change(*args)` and record the change in one transaction, then evict."""
        try:
            return await self._bridge.call(self._recorded, service_api_key, change, *args)
        finally:
            self._cache.evict(clients_topic(service_api_key))

    @staticmethod
    async def _recorded(service_api_key: int, change, *args):
        async with in_transaction():
            result = await change(*args)
            if result:
                await record_changes(clients_topic(service_api_key))
            return result

    async def _create(self, record: ClientRecord) -> ClientRecord:
        row = await Client.create(
            client_id=record.client_id, service_id=record.service_api_key,
            developer=record.developer, client_id_alias=record.client_id_alias,
            client_secret_sealed=self._seal(record.client_id, record.client_secret),
            locked=record.locked, document=record.document,
            created_at=record.created_at, modified_at=record.modified_at,
        )
        return self._record(row)

    async def _get(self, service_api_key: int, client_id: int) -> ClientRecord | None:
        row = await Client.get_or_none(service_id=service_api_key, client_id=client_id)
        return self._record(row) if row else None

    async def _by_alias(self, service_api_key: int, alias: str) -> ClientRecord | None:
        row = await Client.get_or_none(service_id=service_api_key, client_id_alias=alias)
        return self._record(row) if row else None

    async def _page(self, service_api_key, developer, start, end) -> Page:
        query = Client.filter(service_id=service_api_key)
        if developer is not None:
            query = query.filter(developer=developer)
        total = await query.count()
        rows = await query.order_by("number").offset(start).limit(max(end - start, 0))
        return Page(start, end, total, [self._record(row) for row in rows])

    async def _update(self, record: ClientRecord) -> ClientRecord | None:
        updated = await Client.filter(
            service_id=record.service_api_key, client_id=record.client_id
        ).update(
            developer=record.developer, client_id_alias=record.client_id_alias,
            client_secret_sealed=self._seal(record.client_id, record.client_secret),
            locked=record.locked, document=record.document, modified_at=record.modified_at,
        )
        return await self._get(record.service_api_key, record.client_id) if updated else None

    async def _set_locked(self, service_api_key, client_id, locked, now) -> bool:
        return bool(await Client.filter(service_id=service_api_key, client_id=client_id).update(
            locked=locked, modified_at=now))

    async def _set_secret(self, service_api_key, client_id, secret, now) -> bool:
        return bool(await Client.filter(service_id=service_api_key, client_id=client_id).update(
            client_secret_sealed=self._seal(client_id, secret), modified_at=now))

    async def _delete(self, service_api_key: int, client_id: int) -> bool:
        return bool(await Client.filter(service_id=service_api_key, client_id=client_id).delete())

    def _seal(self, client_id: int, secret: str | None) -> str | None:
        return self._sealer.seal(secret, f"client:{client_id}") if secret else None

    def _record(self, row: Client) -> ClientRecord:
        secret = (self._sealer.open(row.client_secret_sealed, f"client:{row.client_id}")
                  if row.client_secret_sealed else None)
        return ClientRecord(
            client_id=row.client_id, number=row.number, service_api_key=row.service_id,
            client_secret=secret, client_id_alias=row.client_id_alias, developer=row.developer,
            locked=row.locked, document=row.document,
            created_at=row.created_at, modified_at=row.modified_at,
        )
