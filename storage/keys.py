"""Signing keys (private JWKs sealed) and leases that let one node at a time do cluster work."""

import json

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from app.protocol.ports import SigningKeyRecord
from storage.bridge import Bridge
from storage.errors import ConflictError
from storage.models import Lease, SigningKey
from storage.sealing import Sealer


class SigningKeyRepository:
    def __init__(self, bridge: Bridge, sealer: Sealer) -> None:
        self._bridge = bridge
        self._sealer = sealer

    async def all(self) -> list[SigningKeyRecord]:
        return await self._bridge.call(self._all)

    async def insert(self, record: SigningKeyRecord) -> None:
        await self._bridge.call(self._insert, record)

    async def rotate(self, *, next_kid: str, successor: SigningKeyRecord, now: int,
                     retire_until: int) -> bool:
        """Promote `next_kid` to current, retire the old current, publish `successor` as next.

        One transaction; False (and nothing written) when `next_kid` is no longer the next key,
        i.e. another node rotated first.
        """
        return await self._bridge.call(self._rotate, next_kid, successor, now, retire_until)

    async def delete_expired(self, now: int) -> int:
        return await self._bridge.call(self._delete_expired, now)

    async def _all(self) -> list[SigningKeyRecord]:
        rows = await SigningKey.all().order_by("published_at", "kid")
        return [self._record(row) for row in rows]

    async def _insert(self, record: SigningKeyRecord) -> None:
        await SigningKey.create(**self._columns(record))

    async def _rotate(self, next_kid, successor, now, retire_until) -> bool:
        async with in_transaction():
            promoted = await SigningKey.filter(kid=next_kid, state="next").update(
                state="current", activated_at=now)
            if not promoted:
                return False
            await SigningKey.filter(
                service_id=successor.service_api_key, alg=successor.alg, state="current",
            ).exclude(kid=next_kid).update(state="retired", retired_at=now,
                                            delete_after=retire_until)
            await SigningKey.create(**self._columns(successor))
            return True

    async def _delete_expired(self, now: int) -> int:
        return await SigningKey.filter(state="retired", delete_after__lte=now).delete()

    def _columns(self, record: SigningKeyRecord) -> dict:
        return dict(
            kid=record.kid, service_id=record.service_api_key, alg=record.alg, state=record.state,
            public_jwk=record.public_jwk,
            private_jwk_sealed=self._sealer.seal(json.dumps(record.private_jwk),
                                                 f"key:{record.kid}"),
            published_at=record.published_at, activated_at=record.activated_at,
            retired_at=record.retired_at, delete_after=record.delete_after,
        )

    def _record(self, row: SigningKey) -> SigningKeyRecord:
        private = json.loads(self._sealer.open(row.private_jwk_sealed, f"key:{row.kid}"))
        return SigningKeyRecord(
            kid=row.kid, service_api_key=row.service_id, alg=row.alg, state=row.state,
            public_jwk=row.public_jwk, private_jwk=private, published_at=row.published_at,
            activated_at=row.activated_at, retired_at=row.retired_at,
            delete_after=row.delete_after,
        )


class LeaseRepository:
    def __init__(self, bridge: Bridge) -> None:
        self._bridge = bridge

    async def acquire(self, name: str, holder: str, now: int, duration_ms: int) -> bool:
        """Take or renew lease `name` for `holder`; False while another holder's lease is live."""
        try:
            return await self._bridge.call(self._acquire, name, holder, now, duration_ms)
        except ConflictError:
            return False  # another node inserted the lease row at the same moment

    async def release(self, name: str, holder: str) -> None:
        await self._bridge.call(self._release, name, holder)

    async def _acquire(self, name, holder, now, duration_ms) -> bool:
        # One conditional UPDATE: it succeeds only for the holder or once the lease has lapsed.
        taken = await Lease.filter(Q(holder=holder) | Q(expires_at__lt=now), name=name).update(
            holder=holder, expires_at=now + duration_ms)
        if taken:
            return True
        if await Lease.exists(name=name):
            return False
        await Lease.create(name=name, holder=holder, expires_at=now + duration_ms)
        return True

    async def _release(self, name: str, holder: str) -> None:
        await Lease.filter(name=name, holder=holder).delete()
