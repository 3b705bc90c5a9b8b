from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('greenlight', '0002_slack_message')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ContractRow',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account_id', fields.CharField(null=True, db_index=True, max_length=128)),
                ('quote_id', fields.CharField(max_length=64)),
                ('quote_version', fields.IntField()),
                ('data', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'contract', 'app': 'greenlight', 'unique_together': (('quote_id', 'quote_version'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='OrderRow',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('number', fields.CharField(unique=True, max_length=96)),
                ('quote_id', fields.CharField(db_index=True, max_length=64)),
                ('quote_version', fields.IntField()),
                ('account_id', fields.CharField(null=True, db_index=True, max_length=128)),
                ('status', fields.CharField(db_index=True, max_length=16)),
                ('release_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('released_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('erp_reference', fields.CharField(null=True, max_length=128)),
                ('revision', fields.IntField(default=0)),
                ('data', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'orders', 'app': 'greenlight', 'pk_attr': 'id', 'table_description': 'An order of an approved quote (orders-v1), its data holding the lines as approved.'},
            bases=['Model'],
        ),
    ]
