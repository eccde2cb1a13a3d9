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
