from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('tessera', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='AccessToken',
            fields=[
                ('digest', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64)),
                ('service', fields.ForeignKeyField('tessera.Service', source_field='service_id', db_constraint=True, to_field='api_key', related_name='access_tokens_issued', on_delete=OnDelete.CASCADE)),
                ('client_id', fields.BigIntField(db_index=True)),
                ('subject', fields.CharField(null=True, db_index=True, max_length=255)),
                ('grant_id', fields.CharField(db_index=True, max_length=32)),
                ('grant_type', fields.CharField(max_length=40)),
                ('scopes', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('payload', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('refresh_digest', fields.CharField(null=True, db_index=True, max_length=64)),
                ('created_at', fields.BigIntField()),
                ('expires_at', fields.BigIntField(db_index=True)),
            ],
            options={'table': 'access_tokens', 'app': 'tessera', 'pk_attr': 'digest'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AuthorizationCode',
            fields=[
                ('digest', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64)),
                ('service', fields.ForeignKeyField('tessera.Service', source_field='service_id', db_constraint=True, to_field='api_key', related_name='authorization_codes', on_delete=OnDelete.CASCADE)),
                ('client_id', fields.BigIntField()),
                ('subject', fields.CharField(max_length=255)),
                ('grant_id', fields.CharField(max_length=32)),
                ('payload', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.BigIntField()),
                ('expires_at', fields.BigIntField(db_index=True)),
                ('consumed_at', fields.BigIntField(null=True)),
            ],
            options={'table': 'authorization_codes', 'app': 'tessera', 'pk_attr': 'digest'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AuthorizationTicket',
            fields=[
                ('digest', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64)),
                ('service', fields.ForeignKeyField('tessera.Service', source_field='service_id', db_constraint=True, to_field='api_key', related_name='authorization_tickets', on_delete=OnDelete.CASCADE)),
                ('client_id', fields.BigIntField()),
                ('payload', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('context', fields.TextField(null=True, unique=False)),
                ('created_at', fields.BigIntField()),
                ('expires_at', fields.BigIntField(db_index=True)),
            ],
            options={'table': 'authorization_tickets', 'app': 'tessera', 'pk_attr': 'digest'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='GrantedScopes',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('service', fields.ForeignKeyField('tessera.Service', source_field='service_id', db_constraint=True, to_field='api_key', related_name='granted_scopes', on_delete=OnDelete.CASCADE)),
                ('client_id', fields.BigIntField()),
                ('subject', fields.CharField(max_length=255)),
                ('latest_scopes', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('merged_scopes', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('modified_at', fields.BigIntField()),
            ],
            options={'table': 'granted_scopes', 'app': 'tessera', 'unique_together': (('service', 'client_id', 'subject'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='RefreshToken',
            fields=[
                ('digest', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64)),
                ('service', fields.ForeignKeyField('tessera.Service', source_field='service_id', db_constraint=True, to_field='api_key', related_name='refresh_tokens', on_delete=OnDelete.CASCADE)),
                ('client_id', fields.BigIntField(db_index=True)),
                ('subject', fields.CharField(null=True, db_index=True, max_length=255)),
                ('grant_id', fields.CharField(db_index=True, max_length=32)),
                ('scopes', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('payload', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.BigIntField()),
                ('expires_at', fields.BigIntField(db_index=True)),
                ('rotated_at', fields.BigIntField(null=True)),
            ],
            options={'table': 'refresh_tokens', 'app': 'tessera', 'pk_attr': 'digest'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ReplayRecord',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('service', fields.ForeignKeyField('tessera.Service', source_field='service_id', db_constraint=True, to_field='api_key', related_name='replay_records', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharField(max_length=16)),
                ('value_digest', fields.CharField(max_length=64)),
                ('expires_at', fields.BigIntField(db_index=True)),
            ],
            options={'table': 'replay_records', 'app': 'tessera', 'unique_together': (('service', 'kind', 'value_digest'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
