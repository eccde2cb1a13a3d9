"""Authorization tickets, authorization codes and replay records: single-use values, each
consumed by one conditional statement so that two concurrent redemptions cannot both win."""

from app.protocol.ports import CodeRecord, TicketRecord
from storage.bridge import Bridge
from storage.errors import ConflictError
from storage.models import AuthorizationCode, AuthorizationTicket, ReplayRecord

_TICKET_COLUMNS = ("digest", "client_id", "payload", "context", "created_at", "expires_at")
_CODE_COLUMNS = ("digest", "client_id", "subject", "grant_id", "payload", "created_at",
                 "expires_at", "consumed_at")


class GrantRepository:
    def __init__(self, bridge: Bridge) -> None:
        self._bridge = bridge

    async def create_ticket(self, ticket: TicketRecord) -> None:
        await self._bridge.call(self._create, AuthorizationTicket, ticket, _TICKET_COLUMNS)

    async def ticket(self, service_api_key: int, digest: str, now: int) -> TicketRecord | None:
        """A live ticket (not expired), without consuming it."""
        return await self._bridge.call(self._ticket, service_api_key, digest, now)

    async def update_ticket_context(self, service_api_key: int, digest: str, context: str | None,
                                    now: int) -> bool:
        return await self._bridge.call(self._update_context, service_api_key, digest, context,
                                       now)

    async def consume_ticket(self, service_api_key: int, digest: str, now: int,
                             kind: str | None = None) -> TicketRecord | None:
        """Take a live ticket (of `kind`, when given) exactly once: the DELETE that removes it
        decides who wins. A ticket of another kind is left alone."""
        return await self._bridge.call(self._consume_ticket, service_api_key, digest, now,
                                       kind)

    async def create_code(self, code: CodeRecord) -> None:
        await self._bridge.call(self._create, AuthorizationCode, code, _CODE_COLUMNS)

    async def redeem_code(self, service_api_key: int, digest: str, client_id: int,
                          now: int) -> tuple[CodeRecord | None, bool]:
        """(the code, True) on its first redemption by its own client; (the code, False) when
        it was already redeemed (RFC 6749 §4.1.2: the caller then revokes what it issued) or
        belongs to another client (which cannot use it up); (None, False) when unknown."""
        return await self._bridge.call(self._redeem_code, service_api_key, digest, client_id,
                                       now)

    async def first_use(self, service_api_key: int, kind: str, value_digest: str,
                        expires_at: int) -> bool:
        """Record a value as seen; False when it had been seen before (replay)."""
        try:
            await self._bridge.call(self._remember, service_api_key, kind, value_digest,
                                    expires_at)
        except ConflictError:
            return False
        return True

    async def _create(self, model, record, columns) -> None:
        values = {name: getattr(record, name) for name in columns}
        await model.create(service_id=record.service_api_key, **values)

    async def _ticket(self, service_api_key, digest, now) -> TicketRecord | None:
        row = await AuthorizationTicket.get_or_none(service_id=service_api_key, digest=digest,
                                                    expires_at__gt=now)
        return _record(TicketRecord, row, _TICKET_COLUMNS) if row else None

    async def _update_context(self, service_api_key, digest, context, now) -> bool:
        return bool(await AuthorizationTicket.filter(
            service_id=service_api_key, digest=digest, expires_at__gt=now).update(context=context))

    async def _consume_ticket(self, service_api_key, digest, now, kind) -> TicketRecord | None:
        row = await AuthorizationTicket.get_or_none(service_id=service_api_key, digest=digest,
                                                    expires_at__gt=now)
        if row is None or (kind is not None and row.payload.get("kind") != kind):
            return None
        taken = await AuthorizationTicket.filter(digest=digest).delete()
        return _record(TicketRecord, row, _TICKET_COLUMNS) if taken == 1 else None

    async def _redeem_code(self, service_api_key, digest, client_id, now):
        row = await AuthorizationCode.get_or_none(service_id=service_api_key, digest=digest)
        if row is None:
            return None, False
        # The conditional UPDATE decides the one redemption. It also empties the payload: a
        # redeemed code is kept only to detect a replay (its grant_id), and the payload holds
        # the end-user's claims, which Tessera must not keep once the ID token is issued.
        claimed = await AuthorizationCode.filter(
            service_id=service_api_key, digest=digest, client_id=client_id,
            consumed_at=None).update(consumed_at=now, payload={})
        return _record(CodeRecord, row, _CODE_COLUMNS), claimed == 1

    async def _remember(self, service_api_key, kind, value_digest, expires_at) -> None:
        await ReplayRecord.create(service_id=service_api_key, kind=kind,
                                  value_digest=value_digest, expires_at=expires_at)


def _record(cls, row, columns):
    return cls(service_api_key=row.service_id, **{name: getattr(row, name) for name in columns})
