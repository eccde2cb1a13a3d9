"""Access and refresh tokens, stored as SHA-256 digests (a database dump issues no token).

The two hottest operations, storing a newly issued token and looking one up by digest, go through
batchers (storage/batching.py): concurrent calls share one bridge crossing, and concurrent
stores share one transaction (group commit). `start()` runs the batchers' tasks.
"""

from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from app.protocol.ports import AccessTokenRecord, Page, RefreshTokenRecord
from storage.batching import Batcher, per_item
from storage.bridge import Bridge
from storage.models import AccessToken, Client, RefreshToken

_ACCESS_COLUMNS = ("digest", "client_id", "subject", "grant_id", "grant_type", "scopes",
                   "payload", "refresh_digest", "created_at", "expires_at")
_REFRESH_COLUMNS = ("digest", "client_id", "subject", "grant_id", "scopes", "payload",
                    "created_at", "expires_at", "rotated_at")


class TokenRepository:
    def __init__(self, bridge: Bridge) -> None:
        self._bridge = bridge
        self._stores = Batcher(bridge, self._store_batch)
        self._lookups = Batcher(bridge, _access_token_batch)

    async def start(self, nursery) -> None:
        await nursery.start(self._stores.run)
        await nursery.start(self._lookups.run)

    def store_stats(self) -> tuple[int, int]:
        """(transactions, tokens) written by group commit since start (metrics, tests)."""
        return self._stores.batches, self._stores.items

    async def store(self, access: AccessTokenRecord, refresh: RefreshTokenRecord | None) -> None:
        """Write an access token and, when given, its refresh token in one transaction (shared
        with concurrent stores); returns once committed."""
        await self._stores.submit((access, refresh))

    async def access_token(self, service_api_key: int, digest: str) -> AccessTokenRecord | None:
        return await self._lookups.submit((service_api_key, digest))

    async def refresh_token(self, service_api_key: int, digest: str) -> RefreshTokenRecord | None:
        return await self._bridge.call(self._refresh_token, service_api_key, digest)

    async def delete_access_token(self, service_api_key: int, digest: str, *,
                                  with_refresh: bool = True) -> int:
        """Delete one access token (by digest) and, unless told otherwise, its refresh token."""
        return await self._bridge.call(self._delete_access_token, service_api_key, digest,
                                       with_refresh)

    async def revoke(self, service_api_key: int, *, client_id: int | None = None,
                     subject: str | None = None, grant_id: str | None = None) -> int:
        """Delete the access tokens (and their refresh tokens) matching every given filter."""
        return await self._bridge.call(self._revoke, service_api_key, client_id, subject, grant_id)

    async def refresh(self, service_api_key: int, digest: str, now: int,
                      access: AccessTokenRecord, successor: RefreshTokenRecord | None,
                      kept_expires_at: int | None = None) -> str:
        """Use refresh token `digest` once: replace its access tokens with `access` and, when a
        `successor` is given, rotate to it. Returns "ok", "reused" (an already rotated token was
        presented again: the whole grant is revoked, RFC 9700 §4.14.2), "expired" or
        "unknown"."""
        return await self._bridge.call(self._refresh, service_api_key, digest, now, access,
                                       successor, kept_expires_at)

    async def page(self, service_api_key: int, client_id: int | None, subject: str | None,
                   start: int, end: int) -> Page:
        return await self._bridge.call(self._page, service_api_key, client_id, subject, start,
                                       end)

    async def update_access_token(self, record: AccessTokenRecord) -> bool:
        """Replace the scopes, payload and expiry of an access token (token management)."""
        return await self._bridge.call(self._update_access_token, record)

    async def _update_access_token(self, record: AccessTokenRecord) -> bool:
        return bool(await AccessToken.filter(
            service_id=record.service_api_key, digest=record.digest).update(
            scopes=record.scopes, payload=record.payload, expires_at=record.expires_at))

    async def _store_batch(self, items: list) -> list:
        return await per_item(items, self._store_all, self._store_one)

    @staticmethod
    async def _store_all(items: list) -> list:
        async with in_transaction():
            refresh_rows = [_refresh_row(refresh) for _, refresh in items if refresh is not None]
            if refresh_rows:
                await RefreshToken.bulk_create(refresh_rows)
            await AccessToken.bulk_create([_access_row(access) for access, _ in items])
        return [None] * len(items)

    @staticmethod
    async def _store_one(item) -> None:
        access, refresh = item
        async with in_transaction():
            if refresh is not None:
                await _refresh_row(refresh).save(force_create=True)
            await _access_row(access).save(force_create=True)

    async def _refresh_token(self, service_api_key: int, digest: str):
        row = await RefreshToken.get_or_none(service_id=service_api_key, digest=digest)
        return _refresh_record(row) if row else None

    async def _delete_access_token(self, service_api_key: int, digest: str,
                                   with_refresh: bool) -> int:
        async with in_transaction():
            row = await AccessToken.get_or_none(service_id=service_api_key, digest=digest)
            if row is None:
                return 0
            if row.refresh_digest and with_refresh:
                await RefreshToken.filter(digest=row.refresh_digest).delete()
            return await AccessToken.filter(digest=digest).delete()

    async def _revoke(self, service_api_key, client_id, subject, grant_id) -> int:
        filters = _filters(service_api_key, client_id, subject, grant_id)
        async with in_transaction():
            await RefreshToken.filter(filters).delete()
            return await AccessToken.filter(filters).delete()

    async def _refresh(self, service_api_key, digest, now, access, successor,
                       kept_expires_at) -> str:
        async with in_transaction():
            live = RefreshToken.filter(service_id=service_api_key, digest=digest,
                                       rotated_at=None, expires_at__gt=now)
            if successor is None:
                won = await live.update(**({"expires_at": kept_expires_at}
                                           if kept_expires_at else {"expires_at": F("expires_at")}))
            else:
                won = await live.update(rotated_at=now)
            if not won:
                return await self._refresh_refused(service_api_key, digest, now)
            await AccessToken.filter(service_id=service_api_key, refresh_digest=digest).delete()
            if successor is not None:
                await RefreshToken.create(service_id=service_api_key,
                                          **_columns(successor, _REFRESH_COLUMNS))
            await AccessToken.create(service_id=service_api_key,
                                     **_columns(access, _ACCESS_COLUMNS))
            return "ok"

    async def _refresh_refused(self, service_api_key, digest, now) -> str:
        row = await RefreshToken.get_or_none(service_id=service_api_key, digest=digest)
        if row is None:
            return "unknown"
        if row.rotated_at is None:
            return "expired" if row.expires_at <= now else "unknown"
        await self._revoke(service_api_key, None, None, row.grant_id)
        return "reused"

    async def _page(self, service_api_key, client_id, subject, start, end) -> Page:
        query = AccessToken.filter(_filters(service_api_key, client_id, subject, None))
        total = await query.count()
        rows = await query.order_by("created_at", "digest").offset(start).limit(
            max(end - start, 0))
        return Page(start, end, total, [_access_record(row) for row in rows])

    # --- Client authorizations: the tokens one end-user gave one client (reference §2.12) ----

    async def clients_of_subject(self, service_api_key: int, subject: str,
                                 developer: str | None, start: int, end: int, *,
                                 now: int) -> Page:
        """A page of the IDs of the clients (of `developer`, when given) holding a live access
        token or a live refresh token of `subject`, in client creation order."""
        return await self._bridge.call(self._clients_of_subject, service_api_key, subject,
                                       developer, start, end, now)

    async def update_scopes(self, service_api_key: int, client_id: int, subject: str,
                            scopes: list[str]) -> int:
        """Give every token of `subject` for the client the scopes `scopes` (refresh tokens
        too, so a refresh does not bring the old ones back). Returns the access tokens
        changed."""
        return await self._bridge.call(self._update_scopes, service_api_key, client_id,
                                       subject, scopes)

    async def revoke_others(self, service_api_key: int, client_id: int, subject: str,
                            keep_digest: str) -> int:
        """`singleAccessTokenPerSubject` (reference §3): delete the subject's access tokens of
        the client issued before the one kept, with their refresh tokens (a surviving refresh
        token would mint a second live access token). Tokens without a subject (client
        credentials) are never touched. Returns the access tokens deleted."""
        return await self._bridge.call(self._revoke_others, service_api_key, client_id,
                                       subject, keep_digest)

    async def _clients_of_subject(self, service_api_key, subject, developer, start, end,
                                  now) -> Page:
        of_subject = Q(service_id=service_api_key, subject=subject, expires_at__gt=now)
        holders = set(await AccessToken.filter(of_subject).distinct()
                      .values_list("client_id", flat=True))
        holders |= set(await RefreshToken.filter(of_subject, rotated_at=None).distinct()
                       .values_list("client_id", flat=True))
        if not holders:
            return Page(start, end, 0, [])
        query = Client.filter(service_id=service_api_key, client_id__in=sorted(holders))
        if developer is not None:
            query = query.filter(developer=developer)
        total = await query.count()
        ids = await query.order_by("number").offset(start).limit(max(end - start, 0)) \
            .values_list("client_id", flat=True)
        return Page(start, end, total, list(ids))

    async def _update_scopes(self, service_api_key, client_id, subject, scopes) -> int:
        of_subject = Q(service_id=service_api_key, client_id=client_id, subject=subject)
        async with in_transaction():
            await RefreshToken.filter(of_subject).update(scopes=scopes)
            return await AccessToken.filter(of_subject).update(scopes=scopes)

    async def _revoke_others(self, service_api_key, client_id, subject, keep_digest) -> int:
        of_subject = Q(service_id=service_api_key, client_id=client_id, subject=subject)
        async with in_transaction():
            kept = await AccessToken.get_or_none(service_id=service_api_key, digest=keep_digest)
            if kept is None:
                return 0  # a newer token already revoked it
            # Older = (created_at, digest) below the kept token's: a total order, so two tokens
            # issued concurrently cannot revoke each other; the later one survives.
            older = of_subject & (Q(created_at__lt=kept.created_at)
                                  | Q(created_at=kept.created_at, digest__lt=keep_digest))
            coupled = await AccessToken.filter(older).exclude(refresh_digest=None) \
                .values_list("refresh_digest", flat=True)
            deleted = await AccessToken.filter(older).delete()
            in_use = await AccessToken.filter(of_subject).exclude(refresh_digest=None) \
                .values_list("refresh_digest", flat=True)
            orphaned = Q(digest__in=list(coupled)) | Q(created_at__lt=kept.created_at)
            await RefreshToken.filter(of_subject & orphaned).exclude(digest__in=list(in_use)) \
                .delete()
            return deleted


async def _access_token_batch(keys: list[tuple[int, str]]) -> list:
    """One query for the access tokens of every (service API key, digest) in `keys`."""
    rows = await AccessToken.filter(digest__in=list({digest for _, digest in keys}))
    by_digest = {row.digest: row for row in rows}
    outcomes: list = []
    for service_api_key, digest in keys:
        row = by_digest.get(digest)
        outcomes.append(_access_record(row) if row and row.service_id == service_api_key
                        else None)
    return outcomes


def _access_row(access: AccessTokenRecord) -> AccessToken:
    return AccessToken(service_id=access.service_api_key, **_columns(access, _ACCESS_COLUMNS))


def _refresh_row(refresh: RefreshTokenRecord) -> RefreshToken:
    return RefreshToken(service_id=refresh.service_api_key, **_columns(refresh, _REFRESH_COLUMNS))


def _filters(service_api_key, client_id, subject, grant_id) -> Q:
    condition = Q(service_id=service_api_key)
    for column, value in (("client_id", client_id), ("subject", subject),
                          ("grant_id", grant_id)):
        if value is not None:
            condition &= Q(**{column: value})
    return condition


def _columns(record, names: tuple[str, ...]) -> dict:
    # Not dataclasses.asdict: that deep-copies every payload, on the hottest write path.
    return {name: getattr(record, name) for name in names}


def _access_record(row: AccessToken) -> AccessTokenRecord:
    return AccessTokenRecord(service_api_key=row.service_id,
                             **{name: getattr(row, name) for name in _ACCESS_COLUMNS})


def _refresh_record(row: RefreshToken) -> RefreshTokenRecord:
    return RefreshTokenRecord(service_api_key=row.service_id,
                              **{name: getattr(row, name) for name in _REFRESH_COLUMNS})
