"""Issue 14: where each CRM connector has read up to (its watermark), kept across restarts."""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("greenlight", "0007_order_amendments")]

    initial = False

    operations = [
        ops.CreateModel(
            name="CrmWatermarkRow",
            fields=[
                ("name", fields.CharField(primary_key=True, max_length=64)),
                ("value", fields.CharField(max_length=64)),
                ("updated_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "crm_watermark",
                "app": "greenlight",
                "pk_attr": "name",
                "table_description": "How far a CRM connector has read its changed quotes.",
            },
            bases=["Model"],
        ),
    ]
