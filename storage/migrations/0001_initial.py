from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='Lease',
            fields=[
                ('name', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=100)),
                ('holder', fields.CharField(max_length=100)),
                ('expires_at', fields.BigIntField()),
            ],
            options={'table': 'leases', 'app': 'tessera', 'pk_attr': 'name'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ServiceOwner',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('api_key', fields.CharField(unique=True, max_length=64)),
                ('api_secret_sealed', fields.TextField(unique=False)),
                ('created_at', fields.BigIntField()),
            ],
            options={'table': 'service_owners', 'app': 'tessera', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Service',
            fields=[
                ('number', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('api_key', fields.BigIntField(unique=True)),
                ('owner', fields.ForeignKeyField('tessera.ServiceOwner', source_field='owner_id', db_constraint=True, to_field='id', related_name='services', on_delete=OnDelete.CASCADE)),
                ('api_secret_sealed', fields.TextField(unique=False)),
                ('document', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.BigIntField()),
                ('modified_at', fields.BigIntField()),
            ],
            options={'table': 'services', 'app': 'tessera', 'pk_attr': 'number'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ApiAccessToken',
            fields=[
                ('digest', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64)),
                ('owner', fields.ForeignKeyField('tessera.ServiceOwner', source_field='owner_id', db_constraint=True, to_field='id', related_name='access_tokens', on_delete=OnDelete.CASCADE)),
                ('service', fields.ForeignKeyField('tessera.Service', source_field='service_id', null=True, db_constraint=True, to_field='api_key', related_name='access_tokens', on_delete=OnDelete.CASCADE)),
                ('description', fields.CharField(default='', max_length=200)),
                ('created_at', fields.BigIntField()),
            ],
            options={'table': 'api_access_tokens', 'app': 'tessera', 'pk_attr': 'digest', 'table_description': 'A v3 bearer credential: for one service, or owner-wide when `service` is null.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Client',
            fields=[
                ('number', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('client_id', fields.BigIntField(unique=True)),
                ('service', fields.ForeignKeyField('tessera.Service', source_field='service_id', db_index=True, db_constraint=True, to_field='api_key', related_name='clients', on_delete=OnDelete.CASCADE)),
                ('developer', fields.CharField(null=True, db_index=True, max_length=200)),
                ('client_id_alias', fields.CharField(null=True, max_length=200)),
                ('client_secret_sealed', fields.TextField(null=True, unique=False)),
                ('locked', fields.BooleanField(default=False)),
                ('document', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.BigIntField()),
                ('modified_at', fields.BigIntField()),
            ],
            options={'table': 'clients', 'app': 'tessera', 'unique_together': (('service', 'client_id_alias'),), 'pk_attr': 'number'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SigningKey',
            fields=[
                ('kid', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64)),
                ('service', fields.ForeignKeyField('tessera.Service', source_field='service_id', db_index=True, db_constraint=True, to_field='api_key', related_name='signing_keys', on_delete=OnDelete.CASCADE)),
                ('alg', fields.CharField(max_length=16)),
                ('state', fields.CharField(max_length=16)),
                ('public_jwk', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('private_jwk_sealed', fields.TextField(unique=False)),
                ('published_at', fields.BigIntField()),
                ('activated_at', fields.BigIntField(null=True)),
                ('retired_at', fields.BigIntField(null=True)),
                ('delete_after', fields.BigIntField(null=True)),
            ],
            options={'table': 'signing_keys', 'app': 'tessera', 'pk_attr': 'kid'},
            bases=['Model'],
        ),
    ]
