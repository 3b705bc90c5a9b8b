"""Issue 17: how each person chooses to be reached (`/deal notify slack|email|both`), and people
added or changed by admins from chat (`/deal people set`)."""

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
        ops.CreateModel(
            name="PersonChangeRow",
            fields=[
                ("person", fields.CharField(primary_key=True, unique=True, db_index=True, max_length=128)),
                ("data", fields.JSONField(encoder=None, decoder=None)),
                ("changed_by", fields.CharField(max_length=128)),
                ("changed_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "person_change",
                "app": "greenlight",
                "pk_attr": "person",
                "table_description": (
                    "A person added or changed by an admin from chat (`/deal people set`), laid over the policy's"
                    " `people`."
                ),
            },
            bases=["Model"],
        ),
    ]
