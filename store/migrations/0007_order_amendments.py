"""Issue 13: amendments as deltas, contract terms and renewals.

A quote's one contract (amended by its newer versions) gets its number, first and last day as
columns beside its data, and when its renewal reminder went out; the renewal sweep reads them.
"""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("greenlight", "0006_live_policy")]

    initial = False

    operations = [
        ops.AddField(model_name="ContractRow", name="number", field=fields.CharField(null=True, max_length=96)),
        ops.AddField(model_name="ContractRow", name="start_date", field=fields.DateField(null=True)),
        ops.AddField(model_name="ContractRow", name="end_date", field=fields.DateField(null=True, db_index=True)),
        ops.AddField(model_name="ContractRow", name="renewal_sent_at", field=fields.DatetimeField(null=True)),
    ]
