from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('tessera', '0002_oauth_artefacts')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ChangeEvent',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('topic', fields.CharField(max_length=80)),
                ('created_at', fields.BigIntField(db_index=True)),
                ('expires_at', fields.BigIntField(db_index=True)),
            ],
            options={'table': 'change_events', 'app': 'tessera', 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
