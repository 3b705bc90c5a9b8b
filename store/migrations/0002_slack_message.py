from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('greenlight', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='SlackMessageRow',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('key', fields.CharField(unique=True, max_length=255)),
                ('person', fields.CharField(db_index=True, max_length=128)),
                ('channel', fields.CharField(max_length=64)),
                ('ts', fields.CharField(max_length=32)),
                ('submission_ref', fields.CharField(db_index=True, max_length=96)),
                ('rule', fields.CharField(null=True, max_length=128)),
                ('kind', fields.CharField(max_length=32)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'slack_message', 'app': 'greenlight', 'pk_attr': 'id', 'table_description': 'A message Greenlight posted, so that a later change updates it instead of posting again.'},
            bases=['Model'],
        ),
    ]
