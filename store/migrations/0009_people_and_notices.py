"""Issue 17: how each person chooses to be reached (`/deal notify slack|email|both`)."""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("greenlight", "0008_crm_both_ways")]

    initial = False

    operations = [
        ops.CreateModel(
            name="PersonPrefRow",
            fields=[
                ("person", fields.CharField(primary_key=True, unique=True, db_index=True, max_length=128)),
                ("notify", fields.CharField(max_length=8)),
                ("updated_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "person_pref",
                "app": "greenlight",
                "pk_attr": "person",
                "table_description": "How a person chooses to be reached (`/deal notify slack|email|both`).",
            },
            bases=["Model"],
        ),
    ]
