"""Deleting expired OAuth artefacts in small batches (the token reaper's storage side).

A batch is two short statements in one bridge crossing and no transaction: select up to `limit`
primary keys of expired rows (oldest first, through the `expires_at` index), then delete those
rows. Each statement commits on its own, so no lock outlives one batch however large the backlog.
Tortoise silently drops `LIMIT` from a DELETE on SQLite and PostgreSQL, hence the select.
"""

from tortoise.models import Model

from storage.bridge import Bridge
from storage.models import (
    AccessToken,
    AuthorizationCode,
    AuthorizationTicket,
    ChangeEvent,
    RefreshToken,
    ReplayRecord,
)

# Every table whose rows are useless once `expires_at` has passed. A rotated refresh token stays
# until it expires (replay detection, RFC 9700 §4.14.2), and after that it is useless too.
# Change events expire once every node has long seen them (storage/changes.py).
REAPED_MODELS: dict[str, type[Model]] = {
    model._meta.db_table: model
    for model in (AuthorizationTicket, AuthorizationCode, AccessToken, RefreshToken, ReplayRecord,
                  ChangeEvent)
}
REAPED_TABLES: tuple[str, ...] = tuple(REAPED_MODELS)


class ReaperRepository:
    def __init__(self, bridge: Bridge) -> None:
        self._bridge = bridge

    async def delete_expired_batch(self, table: str, now: int, limit: int) -> int:
        """Delete at most `limit` rows of `table` with `expires_at <= now`; return how many went.

        ValueError for a table that is not reaped or a limit below 1.
        """
        model = REAPED_MODELS.get(table)
        if model is None:
            raise ValueError(f"'{table}' is not a reaped table ({', '.join(REAPED_TABLES)})")
        if limit < 1:
            raise ValueError(f"batch limit must be at least 1, got {limit}")
        return await self._bridge.call(_delete_expired_batch, model, now, limit)


async def _delete_expired_batch(model: type[Model], now: int, limit: int) -> int:
    pk_name = model._meta.pk_attr
    keys = await (model.filter(expires_at__lte=now).order_by("expires_at").limit(limit)
                  .values_list(pk_name, flat=True))
    if not keys:
        return 0
    # `expires_at` again: a row is deleted only if it is still expired when the delete runs.
    return await model.filter(**{f"{pk_name}__in": list(keys)}, expires_at__lte=now).delete()
