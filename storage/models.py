"""Tortoise models. Times are epoch milliseconds; secrets and private keys are sealed (see sealing).

Service and Client keep the reference's whole field set: the columns below are the ones lookups,
uniqueness and sealing need; every other field lives, normalised, in `document`.
"""

from tortoise import fields
from tortoise.models import Model


class ServiceOwner(Model):
    id = fields.BigIntField(primary_key=True)
    api_key = fields.CharField(max_length=64, unique=True)
    api_secret_sealed = fields.TextField()
    created_at = fields.BigIntField()

    class Meta:
        table = "service_owners"


class Service(Model):
    number = fields.BigIntField(primary_key=True)
    api_key = fields.BigIntField(unique=True)
    owner = fields.ForeignKeyField(
        "tessera.ServiceOwner", related_name="services", on_delete=fields.CASCADE
    )
    api_secret_sealed = fields.TextField()
    document = fields.JSONField()
    created_at = fields.BigIntField()
    modified_at = fields.BigIntField()

    class Meta:
        table = "services"


class Client(Model):
    number = fields.BigIntField(primary_key=True)
    client_id = fields.BigIntField(unique=True)
    service = fields.ForeignKeyField(
        "tessera.Service", related_name="clients", on_delete=fields.CASCADE,
        to_field="api_key", db_index=True,
    )
    developer = fields.CharField(max_length=200, null=True, db_index=True)
    client_id_alias = fields.CharField(max_length=200, null=True)
    client_secret_sealed = fields.TextField(null=True)
    locked = fields.BooleanField(default=False)
    document = fields.JSONField()
    created_at = fields.BigIntField()
    modified_at = fields.BigIntField()

    class Meta:
        table = "clients"
        unique_together = (("service", "client_id_alias"),)


class SigningKey(Model):
    kid = fields.CharField(max_length=64, primary_key=True)
    service = fields.ForeignKeyField(
        "tessera.Service", related_name="signing_keys", on_delete=fields.CASCADE,
        to_field="api_key", db_index=True,
    )
    alg = fields.CharField(max_length=16)
    state = fields.CharField(max_length=16)
    public_jwk = fields.JSONField()
    private_jwk_sealed = fields.TextField()
    published_at = fields.BigIntField()
    activated_at = fields.BigIntField(null=True)
    retired_at = fields.BigIntField(null=True)
    delete_after = fields.BigIntField(null=True)

    class Meta:
        table = "signing_keys"


class Lease(Model):
    name = fields.CharField(max_length=100, primary_key=True)
    holder = fields.CharField(max_length=100)
    expires_at = fields.BigIntField()

    class Meta:
        table = "leases"


class ApiAccessToken(Model):
    """A v3 bearer credential: for one service, or owner-wide when `service` is null."""

    digest = fields.CharField(max_length=64, primary_key=True)
    owner = fields.ForeignKeyField(
        "tessera.ServiceOwner", related_name="access_tokens", on_delete=fields.CASCADE
    )
    service = fields.ForeignKeyField(
        "tessera.Service", related_name="access_tokens", on_delete=fields.CASCADE,
        to_field="api_key", null=True,
    )
    description = fields.CharField(max_length=200, default="")
    created_at = fields.BigIntField()

    class Meta:
        table = "api_access_tokens"


# --- OAuth artefacts (core flows). Every token-like value is stored as its SHA-256 digest. ------


class AuthorizationTicket(Model):
    # An authorization request waiting for the front-end's issue/fail call (single use).

    digest = fields.CharField(max_length=64, primary_key=True)
    service = fields.ForeignKeyField(
        "tessera.Service", related_name="authorization_tickets", on_delete=fields.CASCADE,
        to_field="api_key")
    client_id = fields.BigIntField()
    payload = fields.JSONField()
    context = fields.TextField(null=True)
    created_at = fields.BigIntField()
    expires_at = fields.BigIntField(db_index=True)

    class Meta:
        table = "authorization_tickets"


class AuthorizationCode(Model):
    # RFC 6749 §4.1.2: single use; a second presentation revokes the grant it produced.

    digest = fields.CharField(max_length=64, primary_key=True)
    service = fields.ForeignKeyField(
        "tessera.Service", related_name="authorization_codes", on_delete=fields.CASCADE,
        to_field="api_key")
    client_id = fields.BigIntField()
    subject = fields.CharField(max_length=255)
    grant_id = fields.CharField(max_length=32)
    payload = fields.JSONField()
    created_at = fields.BigIntField()
    expires_at = fields.BigIntField(db_index=True)
    consumed_at = fields.BigIntField(null=True)

    class Meta:
        table = "authorization_codes"


class AccessToken(Model):
    digest = fields.CharField(max_length=64, primary_key=True)
    service = fields.ForeignKeyField(
        "tessera.Service", related_name="access_tokens_issued", on_delete=fields.CASCADE,
        to_field="api_key")
    client_id = fields.BigIntField(db_index=True)
    subject = fields.CharField(max_length=255, null=True, db_index=True)
    grant_id = fields.CharField(max_length=32, db_index=True)
    grant_type = fields.CharField(max_length=40)
    scopes = fields.JSONField()
    payload = fields.JSONField()
    refresh_digest = fields.CharField(max_length=64, null=True, db_index=True)
    created_at = fields.BigIntField()
    expires_at = fields.BigIntField(db_index=True)

    class Meta:
        table = "access_tokens"


class RefreshToken(Model):
    # Rotated refresh tokens stay (with `rotated_at`) until they expire, so that a replayed old
    # one is recognised and its whole family revoked (RFC 9700 §4.14.2).

    digest = fields.CharField(max_length=64, primary_key=True)
    service = fields.ForeignKeyField(
        "tessera.Service", related_name="refresh_tokens", on_delete=fields.CASCADE,
        to_field="api_key")
    client_id = fields.BigIntField(db_index=True)
    subject = fields.CharField(max_length=255, null=True, db_index=True)
    grant_id = fields.CharField(max_length=32, db_index=True)
    scopes = fields.JSONField()
    payload = fields.JSONField()
    created_at = fields.BigIntField()
    expires_at = fields.BigIntField(db_index=True)
    rotated_at = fields.BigIntField(null=True)

    class Meta:
        table = "refresh_tokens"


class GrantedScopes(Model):
    # What a subject has granted a client: the latest grant and the union of all grants.

    id = fields.BigIntField(primary_key=True)
    service = fields.ForeignKeyField(
        "tessera.Service", related_name="granted_scopes", on_delete=fields.CASCADE,
        to_field="api_key")
    client_id = fields.BigIntField()
    subject = fields.CharField(max_length=255)
    latest_scopes = fields.JSONField()
    merged_scopes = fields.JSONField()
    modified_at = fields.BigIntField()

    class Meta:
        table = "granted_scopes"
        unique_together = (("service", "client_id", "subject"),)


class ReplayRecord(Model):
    # A value seen once (the jti of a client assertion), remembered until it could no longer
    # be accepted anyway.

    id = fields.BigIntField(primary_key=True)
    service = fields.ForeignKeyField(
        "tessera.Service", related_name="replay_records", on_delete=fields.CASCADE,
        to_field="api_key")
    kind = fields.CharField(max_length=16)
    value_digest = fields.CharField(max_length=64)
    expires_at = fields.BigIntField(db_index=True)

    class Meta:
        table = "replay_records"
        unique_together = (("service", "kind", "value_digest"),)


# --- Node coordination ------------------------------------------------------------------------


class ChangeEvent(Model):
    # A write to a row that nodes cache (a service, its clients, an API credential). Each node
    # polls these and drops its cached copies of the topic (storage/cache.py). Reaped once
    # expired, well after every node has seen it.

    id = fields.BigIntField(primary_key=True)
    topic = fields.CharField(max_length=80)
    created_at = fields.BigIntField(db_index=True)
    expires_at = fields.BigIntField(db_index=True)

    class Meta:
        table = "change_events"
