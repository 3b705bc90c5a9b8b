"""Issue 15: the policy shared by every replica (the version each submission was evaluated by is in
the submission's own state document)."""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("greenlight", "0005_approvals_hardening")]

    initial = False

    operations = [
        ops.CreateModel(
            name="PolicyVersionRow",
            fields=[
                ("version", fields.IntField(generated=False, primary_key=True, unique=True, db_index=True)),
                ("digest", fields.CharField(max_length=64)),
                ("text", fields.TextField(unique=False)),
                ("source", fields.CharField(max_length=255)),
                ("applied_by", fields.CharField(max_length=128)),
                ("applied_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "policy_version",
                "app": "greenlight",
                "pk_attr": "version",
                "table_description": "A policy every replica applies: its text as validated, numbered 1, 2, 3 ... "
                "(the newest is in force).",
            },
            bases=["Model"],
        ),
    ]
