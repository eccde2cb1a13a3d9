"""What each end-user has granted each client (reference §2.12): the scopes of the latest grant
and the union of every grant so far, one row per (service, client, subject)."""

from dataclasses import dataclass

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from storage.bridge import Bridge
from storage.models import GrantedScopes


@dataclass(frozen=True)
class GrantedScopesRecord:
    service_api_key: int
    client_id: int
    subject: str
    latest_scopes: list[str]
    merged_scopes: list[str]
    modified_at: int


class GrantedScopesRepository:
    def __init__(self, bridge: Bridge) -> None:
        self._bridge = bridge

    async def record(self, service_api_key: int, client_id: int, subject: str,
                     scopes: list[str], now: int) -> GrantedScopesRecord:
        """Remember a grant: `scopes` become the latest ones and join the merged ones. Two
        concurrent grants both land in the union, whichever row write comes first."""
        return await self._bridge.call(self._record, service_api_key, client_id, subject,
                                       list(dict.fromkeys(scopes)), now)

    async def get(self, service_api_key: int, client_id: int,
                  subject: str) -> GrantedScopesRecord | None:
        return await self._bridge.call(self._get, service_api_key, client_id, subject)

    async def delete(self, service_api_key: int, client_id: int, subject: str) -> bool:
        return await self._bridge.call(self._delete, service_api_key, client_id, subject)

    async def _record(self, service_api_key, client_id, subject, scopes, now):
        key = {"service_id": service_api_key, "client_id": client_id, "subject": subject}
        try:
            # The first grant is one INSERT; the unique key turns a racing twin into an update.
            row = await GrantedScopes.create(**key, latest_scopes=scopes, merged_scopes=scopes,
                                             modified_at=now)
            return _record(row)
        except IntegrityError:
            pass
        async with in_transaction():
            # FOR UPDATE on PostgreSQL; SQLite transactions are serialised by Tortoise's lock.
            row = await GrantedScopes.filter(**key).select_for_update().get_or_none()
            if row is None:  # deleted since the INSERT failed
                return _record(await GrantedScopes.create(
                    **key, latest_scopes=scopes, merged_scopes=scopes, modified_at=now))
            row.latest_scopes = scopes
            row.merged_scopes = row.merged_scopes + [s for s in scopes
                                                     if s not in row.merged_scopes]
            row.modified_at = now
            await row.save(update_fields=["latest_scopes", "merged_scopes", "modified_at"])
            return _record(row)

    async def _get(self, service_api_key, client_id, subject) -> GrantedScopesRecord | None:
        row = await GrantedScopes.get_or_none(service_id=service_api_key, client_id=client_id,
                                              subject=subject)
        return _record(row) if row else None

    async def _delete(self, service_api_key, client_id, subject) -> bool:
        return bool(await GrantedScopes.filter(service_id=service_api_key, client_id=client_id,
                                               subject=subject).delete())


def _record(row: GrantedScopes) -> GrantedScopesRecord:
    return GrantedScopesRecord(service_api_key=row.service_id, client_id=row.client_id,
                               subject=row.subject, latest_scopes=list(row.latest_scopes),
                               merged_scopes=list(row.merged_scopes),
                               modified_at=row.modified_at)
