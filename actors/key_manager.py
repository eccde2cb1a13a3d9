"""The key manager actor: every service's signing keys, their rotation, and the JWKS it publishes.

Lifecycle per (service, algorithm): *next* (published, not yet signing) → *current* (signing) →
*retired* (published, no longer signing) → deleted. A service has one current and one next key for
every algorithm in `KeySettings.algorithms`.

Invariant 1 — publish before signing. A key signs only once it has been published for `lead_time`:
promotion requires `published_at + lead_time <= now`. Clients cache the JWKS and refetch it only
when they meet an unknown kid (OpenID Connect Core §10.1.1), so a key must be in every cache before
it signs; `lead_time` should therefore cover `refresh_interval` (how late other nodes publish a new
key) plus the JWKS cache lifetime clients use. The one exception: `ensure_keys` on a service with no
keys at all creates its current and next keys at once, because no key of that service has ever been
published — there is no token to verify and no cached JWKS that could lack the key.

Invariant 2 — keep verifying until everything signed has expired. On rotation the old current key is
retired with `delete_after = now + max(retention, longest token lifetime of the service +
allowableClockSkew) + refresh_interval`. The service's lifetimes are `accessTokenDuration`,
`idTokenDuration` and `authorizationResponseDuration` (seconds; missing counts as 0) and
`retention` is the floor. `refresh_interval` is added because other nodes keep signing with the old
key until their next reload, so the last token it signs may be that much younger than the rotation.

Cluster: the node holding lease "key-manager" does the scheduled work (rotations when due, keys for
services that lack them, deleting expired retired keys); every node reloads its view from the
database every `refresh_interval`, and any node carries out `rotate_now` requests it receives.
Safety does not rest on the lease: a rotation is one conditional statement
(`SigningKeyRepository.rotate`) and creating a service's keys is serialised by a per-service lease,
so two nodes that both believe they lead can neither rotate twice nor create two current keys.
Pending `rotate_now` requests live in the memory of the node that took them.

Readers (`jwks`, `signing_key`) read an immutable snapshot that the actor replaces wholesale after
every change; everything else is touched only by the actor task. Private keys stay in memory and in
storage (sealed there); they are never logged.
"""

import contextlib
from collections.abc import Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, NamedTuple

import structlog
import trio
from joserfc.jwk import ECKey, OKPKey, RSAKey

from actors.lease import release_quietly
from actors.mailbox import Envelope, Mailbox, answer, answer_error
from app.config import KeySettings
from app.protocol.ports import Clock, SigningKeyRecord
from storage.errors import ConflictError, NotFoundError, StorageError

_log = structlog.get_logger("tessera.keys")

LEASE_NAME = "key-manager"
# Creating a new service's keys means several RSA keys; the default ask timeout is too tight on a
# loaded node.
ASK_TIMEOUT = 30.0
# How long to wait before retrying a per-service lease another node holds while creating keys.
_LEASE_RETRY = 0.25
_STATE_ORDER = ("next", "current", "retired")
_TOKEN_LIFETIMES = ("accessTokenDuration", "idTokenDuration", "authorizationResponseDuration")

_GENERATORS: dict[str, Callable[[int], Any]] = {
    "RS256": lambda size: RSAKey.generate_key(size),
    "PS256": lambda size: RSAKey.generate_key(size),
    "ES256": lambda _size: ECKey.generate_key("P-256"),
    "EdDSA": lambda _size: OKPKey.generate_key("Ed25519"),
}


def generate_jwk(alg: str, rsa_key_size: int) -> tuple[dict, dict]:
    """(public JWK, private JWK) of a fresh key for `alg`; the kid is its RFC 7638 thumbprint."""
    key = _GENERATORS[alg](rsa_key_size)
    members = {"kid": key.thumbprint(), "alg": alg, "use": "sig"}
    return key.as_dict(private=False, **members), key.as_dict(private=True, **members)


@dataclass(frozen=True)
class RotationResult:
    """`rotated`: kids current as of now; `pending`: alg → epoch ms when its next key takes over."""

    rotated: list[str] = field(default_factory=list)
    pending: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class _EnsureKeys:
    service_api_key: int


@dataclass(frozen=True)
class _RotateNow:
    service_api_key: int


@dataclass(frozen=True)
class _ForgetService:
    service_api_key: int


class _Promotion(NamedTuple):
    service_api_key: int
    alg: str
    upcoming: SigningKeyRecord
    at: int


@dataclass(frozen=True)
class _Published:
    """One service's keys as readers see them."""

    jwks: tuple[Mapping[str, Any], ...]
    signing: Mapping[str, SigningKeyRecord]


def _ms(seconds: float) -> int:
    return int(seconds * 1000)


def _latest(rows: list[SigningKeyRecord], alg: str, state: str) -> SigningKeyRecord | None:
    matches = [row for row in rows if row.alg == alg and row.state == state]
    return matches[-1] if matches else None


def _published(rows: list[SigningKeyRecord], algorithms: list[str]) -> _Published:
    rank = {alg: index for index, alg in enumerate(algorithms)}
    ordered = sorted(rows, key=lambda row: (
        _STATE_ORDER.index(row.state), rank.get(row.alg, len(rank)), row.published_at))
    signing = {alg: _latest(rows, alg, "current") for alg in algorithms}
    return _Published(
        jwks=tuple(MappingProxyType(dict(row.public_jwk)) for row in ordered),
        signing=MappingProxyType({alg: key for alg, key in signing.items() if key is not None}),
    )


def _record(api_key: int, alg: str, state: str, jwk_pair: tuple[dict, dict], now: int,
            activated_at: int | None = None) -> SigningKeyRecord:
    public, private = jwk_pair
    return SigningKeyRecord(
        kid=public["kid"], service_api_key=api_key, alg=alg, state=state, public_jwk=public,
        private_jwk=private, published_at=now, activated_at=activated_at,
    )


class KeyManager:
    def __init__(self, storage, settings: KeySettings, clock: Clock, node_id: str, *,
                 run_in_thread: Callable = trio.to_thread.run_sync,
                 ask_timeout: float = ASK_TIMEOUT) -> None:
        self.mailbox = Mailbox("key-manager")
        self._storage = storage
        self._settings = settings
        self._clock = clock
        self._node_id = node_id
        # Key generation (RSA especially) takes long enough to stall every request on the node.
        self._run_in_thread = run_in_thread
        self._ask_timeout = ask_timeout
        self._snapshot: Mapping[int, _Published] = MappingProxyType({})
        self._rows: dict[int, list[SigningKeyRecord]] = {}
        self._pending: dict[tuple[int, str], str] = {}  # (service, alg) → kid to promote
        self._leader = False
        self._next_check = self._next_refresh = 0.0  # trio times
        self._attempted_until = 0  # epoch ms: due work up to here has been attempted
        self._handlers = {_EnsureKeys: self._ensure_keys, _RotateNow: self._rotate_now,
                          _ForgetService: self._forget}

    # -- public API: asks go through the mailbox, reads come from the snapshot --------------------

    async def ensure_keys(self, service_api_key: int) -> None:
        """Return once the service has keys, creating them if needed (NotFoundError: no service)."""
        published = self._snapshot.get(service_api_key)
        if published is not None and len(published.signing) == len(self._settings.algorithms):
            return
        await self.mailbox.ask(_EnsureKeys(service_api_key), self._ask_timeout)

    async def rotate_now(self, service_api_key: int) -> RotationResult:
        return await self.mailbox.ask(_RotateNow(service_api_key), self._ask_timeout)

    async def forget_service(self, service_api_key: int) -> None:
        """Drop a deleted service from the view (its rows went with it; a live one would return)."""
        await self.mailbox.ask(_ForgetService(service_api_key), self._ask_timeout)

    def jwks(self, service_api_key: int) -> dict:
        published = self._snapshot.get(service_api_key)
        keys = published.jwks if published is not None else ()
        return {"keys": [dict(jwk) for jwk in keys]}

    def signing_key(self, service_api_key: int, alg: str) -> SigningKeyRecord | None:
        published = self._snapshot.get(service_api_key)
        return published.signing.get(alg) if published is not None else None

    def algorithms(self) -> list[str]:
        return list(self._settings.algorithms)

    # -- the actor loop ---------------------------------------------------------------------------

    async def run(self, task_status=trio.TASK_STATUS_IGNORED) -> None:
        try:
            await self._reload()
            await self._cluster_check()
            task_status.started()
            while True:
                envelope = await self.mailbox.receive_until(self._next_wake())
                if envelope is None:
                    await self._tick()
                else:
                    await self._serve(envelope)
        finally:
            await self._step_down()

    async def _serve(self, envelope: Envelope) -> None:
        handler = self._handlers[type(envelope.message)]
        try:
            result = await handler(envelope.message.service_api_key)
        except StorageError as error:
            # The caller learns the database failed; the view is untouched, so keep serving.
            await answer_error(envelope, error)
        except BaseException as error:  # a bug, or the actor stopping
            await answer_error(envelope, error)
            raise  # a bug: crash, and let the supervisor restart the actor
        else:
            await answer(envelope, result)

    async def _tick(self) -> None:
        now = trio.current_time()
        if now >= self._next_check:
            await self._cluster_check()
        if now >= self._next_refresh:
            await self._reload()
        if await self._do_due_work():
            await self._reload()

    def _next_wake(self) -> float:
        """The trio time of the next check, refresh, promotion or deletion, whichever is first."""
        # Work that was due at the last attempt and is still there (its state did not change)
        # waits for the next check or refresh instead of spinning.
        waiting = [at for at in self._due_times() if at > self._attempted_until]
        wake = min(self._next_check, self._next_refresh)
        if waiting:
            delay_ms = max(0, min(waiting) - self._clock.now_ms())
            wake = min(wake, trio.current_time() + delay_ms / 1000)
        return wake

    def _due_times(self) -> list[int]:
        times = [promotion.at for promotion in self._promotions()]
        return times + (self._deletion_times() if self._leader else [])

    async def _step_down(self) -> None:
        """Hand the lease back on the way out so another node takes over now, not when it lapses."""
        if not self._leader:
            return
        self._leader = False
        await release_quietly(self._storage.leases, LEASE_NAME, self._node_id)

    # -- the view: rows from the database, the snapshot readers see -------------------------------

    async def _reload(self) -> None:
        grouped: dict[int, list[SigningKeyRecord]] = {}
        for row in await self._storage.signing_keys.all():
            grouped.setdefault(row.service_api_key, []).append(row)
        self._rows = grouped
        self._next_refresh = trio.current_time() + self._settings.refresh_interval
        # A request is satisfied once its key stopped being next, whoever promoted it.
        self._pending = {slot: kid for slot, kid in self._pending.items()
                         if getattr(self._upcoming(*slot), "kid", None) == kid}
        self._publish()

    def _publish(self) -> None:
        algorithms = self._settings.algorithms
        self._snapshot = MappingProxyType(
            {api_key: _published(rows, algorithms) for api_key, rows in self._rows.items()})

    def _upcoming(self, api_key: int, alg: str) -> SigningKeyRecord | None:
        return _latest(self._rows.get(api_key, []), alg, "next")

    def _needs_keys(self, api_key: int) -> bool:
        rows = self._rows.get(api_key, [])
        algorithms = self._settings.algorithms
        return not rows or any(_latest(rows, alg, "next") is None for alg in algorithms)

    # -- cluster duties ---------------------------------------------------------------------------

    async def _cluster_check(self) -> None:
        # Renewing at half the lease at the latest keeps a live leader's lease from lapsing.
        period = min(self._settings.check_interval, self._settings.lease_duration / 2)
        self._next_check = trio.current_time() + period
        self._leader = await self._storage.leases.acquire(
            LEASE_NAME, self._node_id, self._clock.now_ms(), _ms(self._settings.lease_duration))
        if self._leader:
            await self._ensure_all_services()

    async def _ensure_all_services(self) -> None:
        for api_key in await self._storage.services.all_api_keys():
            if self._needs_keys(api_key):
                # ConflictError: the service was deleted after it was listed (foreign key).
                with contextlib.suppress(ConflictError):
                    await self._ensure_service(api_key)

    async def _ensure_service(self, api_key: int) -> None:
        async with self._service_lease(api_key):
            rows = [row for row in await self._storage.signing_keys.all()
                    if row.service_api_key == api_key]
            if rows:
                await self._create_missing_next(api_key, rows)
            else:
                await self._create_first_keys(api_key)
        await self._reload()

    @asynccontextmanager
    async def _service_lease(self, api_key: int):
        """Only one node at a time creates a service's keys (else: two current keys per alg)."""
        name = f"{LEASE_NAME}:{api_key}"
        duration = _ms(self._settings.lease_duration)
        while not await self._storage.leases.acquire(name, self._node_id, self._clock.now_ms(),
                                                     duration):
            await trio.sleep(_LEASE_RETRY)
        try:
            yield
        finally:
            await self._storage.leases.release(name, self._node_id)

    async def _create_first_keys(self, api_key: int) -> None:
        # Invariant 1's exception (module docstring): nothing of this service was ever published.
        pairs = {}
        for alg in self._settings.algorithms:
            pairs[alg] = (await self._generate(alg), await self._generate(alg))
        now = self._clock.now_ms()
        for alg, (current, upcoming) in pairs.items():
            await self._insert(_record(api_key, alg, "current", current, now, activated_at=now))
            await self._insert(_record(api_key, alg, "next", upcoming, now))

    async def _create_missing_next(self, api_key: int, rows: list[SigningKeyRecord]) -> None:
        # An algorithm added to the configuration gets only a next key: it signs after lead_time.
        for alg in self._settings.algorithms:
            if _latest(rows, alg, "next") is None:
                pair = await self._generate(alg)
                await self._insert(_record(api_key, alg, "next", pair, self._clock.now_ms()))

    async def _generate(self, alg: str) -> tuple[dict, dict]:
        return await self._run_in_thread(generate_jwk, alg, self._settings.rsa_key_size)

    async def _insert(self, record: SigningKeyRecord) -> None:
        await self._storage.signing_keys.insert(record)
        _log.info("key.created", service=record.service_api_key, alg=record.alg, kid=record.kid,
                  state=record.state)

    # -- rotation ---------------------------------------------------------------------------------

    def _promotions(self) -> list[_Promotion]:
        """Every promotion this node is to make, each at the earliest time invariant 1 allows."""
        lead = _ms(self._settings.lead_time)
        promotions = []
        for api_key, rows in self._rows.items():
            for alg in self._settings.algorithms:
                upcoming, wanted = _latest(rows, alg, "next"), self._wanted_at(api_key, alg, rows)
                if upcoming is not None and wanted is not None:
                    at = max(wanted, upcoming.published_at + lead)
                    promotions.append(_Promotion(api_key, alg, upcoming, at))
        return promotions

    def _wanted_at(self, api_key: int, alg: str, rows: list[SigningKeyRecord]) -> int | None:
        """When this node wants (service, alg) rotated: at once if asked, on schedule if leader."""
        if (api_key, alg) in self._pending:
            return 0
        if not self._leader:
            return None
        current = _latest(rows, alg, "current")
        if current is None:
            return 0
        activated_at = current.activated_at or current.published_at
        return activated_at + _ms(self._settings.rotation_interval)

    async def _do_due_work(self) -> bool:
        """Promote and delete what is due; True when something was attempted (reload the view)."""
        now = self._attempted_until = self._clock.now_ms()
        due = [promotion for promotion in self._promotions() if promotion.at <= now]
        for promotion in due:
            service = await self._storage.services.get(promotion.service_api_key)
            if service is not None:  # else deleted, and its keys with it
                await self._promote(promotion, service.document)
        expired = self._leader and any(at <= now for at in self._deletion_times())
        if expired:
            await self._delete_expired(now)
        return bool(due) or expired

    async def _promote(self, promotion: _Promotion, document: dict) -> None:
        api_key, alg, upcoming, _ = promotion
        pair = await self._generate(alg)
        now = self._clock.now_ms()  # read after generation: the successor is published from here
        previous = _latest(self._rows.get(api_key, []), alg, "current")
        promoted = await self._storage.signing_keys.rotate(
            next_kid=upcoming.kid, successor=_record(api_key, alg, "next", pair, now), now=now,
            retire_until=now + self._retention_ms(document))
        self._pending.pop((api_key, alg), None)  # done, by us or by the node that beat us to it
        if promoted:
            _log.info("key.created", service=api_key, alg=alg, kid=pair[0]["kid"], state="next")
            _log.info("key.rotated", service=api_key, alg=alg, kid=upcoming.kid,
                      retired=previous.kid if previous else None, next=pair[0]["kid"])

    def _retention_ms(self, document: dict) -> int:
        """How long a key retired now stays published (invariant 2, module docstring)."""
        longest = max(int(document.get(name) or 0) for name in _TOKEN_LIFETIMES)
        signed_lifetime = longest + int(document.get("allowableClockSkew") or 0)
        settings = self._settings
        return max(_ms(settings.retention), _ms(signed_lifetime)) + _ms(settings.refresh_interval)

    def _retired(self) -> list[SigningKeyRecord]:
        return [row for rows in self._rows.values() for row in rows
                if row.state == "retired" and row.delete_after is not None]

    def _deletion_times(self) -> list[int]:
        return [row.delete_after for row in self._retired()]

    async def _delete_expired(self, now: int) -> None:
        kids = [row.kid for row in self._retired() if row.delete_after <= now]
        deleted = await self._storage.signing_keys.delete_expired(now)
        if deleted:
            _log.info("key.deleted", count=deleted, kids=kids)

    # -- message handlers -------------------------------------------------------------------------

    async def _ensure_keys(self, api_key: int) -> None:
        if not self._needs_keys(api_key):
            return
        await self._require_service(api_key)
        await self._ensure_service(api_key)

    async def _rotate_now(self, api_key: int) -> RotationResult:
        service = await self._require_service(api_key)
        await self._reload()  # act on the database's state, not on a view up to a refresh old
        if self._needs_keys(api_key):
            await self._ensure_service(api_key)
        rotated, pending = [], {}
        for alg in self._settings.algorithms:
            upcoming = self._upcoming(api_key, alg)
            if upcoming is None:
                continue
            at = await self._rotate_or_defer(api_key, alg, upcoming, service.document)
            if at is None:
                rotated.append(upcoming.kid)
            else:
                pending[alg] = at
        await self._reload()
        return RotationResult(rotated, pending)

    async def _rotate_or_defer(self, api_key: int, alg: str, upcoming: SigningKeyRecord,
                               document: dict) -> int | None:
        """Promote `upcoming` now if invariant 1 allows; else remember the request, return when."""
        eligible_at = upcoming.published_at + _ms(self._settings.lead_time)
        if eligible_at <= self._clock.now_ms():
            # If another node promoted it first, `upcoming` is current all the same.
            await self._promote(_Promotion(api_key, alg, upcoming, eligible_at), document)
            return None
        self._pending[(api_key, alg)] = upcoming.kid
        _log.info("key.rotation_pending", service=api_key, alg=alg, kid=upcoming.kid,
                  rotate_at=eligible_at)
        return eligible_at

    async def _forget(self, api_key: int) -> None:
        self._rows.pop(api_key, None)
        self._pending = {slot: kid for slot, kid in self._pending.items() if slot[0] != api_key}
        self._publish()

    async def _require_service(self, api_key: int):
        service = await self._storage.services.get(api_key)
        if service is None:
            raise NotFoundError(f"service {api_key} does not exist")
        return service
