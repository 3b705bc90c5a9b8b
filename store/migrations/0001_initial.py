import functools
from json import dumps, loads

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name="ApprovalRow",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("submission_id", fields.IntField(db_index=True)),
                ("quote_id", fields.CharField(max_length=64)),
                ("rule", fields.CharField(max_length=128)),
                ("chain", fields.CharField(max_length=128)),
                ("step", fields.IntField()),
                ("status", fields.CharField(max_length=16)),
                ("requested_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("decided_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("acted_by", fields.CharField(null=True, max_length=128)),
            ],
            options={
                "table": "approval",
                "app": "greenlight",
                "unique_together": (("submission_id", "rule"),),
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="AssignmentRow",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("approval_id", fields.IntField(db_index=True)),
                ("person", fields.CharField(db_index=True, max_length=128)),
            ],
            options={
                "table": "assignment",
                "app": "greenlight",
                "pk_attr": "id",
                "table_description": "Who holds a place in a requested approval (delegates are found through delegations).",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="AuditRow",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("at", fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ("kind", fields.CharField(max_length=32)),
                ("quote_id", fields.CharField(db_index=True, max_length=64)),
                ("quote_version", fields.IntField()),
                ("submission", fields.IntField()),
                ("rule", fields.CharField(null=True, max_length=128)),
                ("actor", fields.CharField(null=True, max_length=128)),
                ("on_behalf_of", fields.CharField(null=True, max_length=128)),
                ("comment", fields.TextField(null=True, unique=False)),
                (
                    "people",
                    fields.JSONField(
                        default=list, encoder=functools.partial(dumps, separators=(",", ":")), decoder=loads
                    ),
                ),
                (
                    "detail",
                    fields.JSONField(
                        default=dict, encoder=functools.partial(dumps, separators=(",", ":")), decoder=loads
                    ),
                ),
            ],
            options={"table": "audit", "app": "greenlight", "pk_attr": "id"},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="DelegationRow",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("delegator", fields.CharField(db_index=True, max_length=128)),
                ("delegate", fields.CharField(max_length=128)),
                ("start", fields.DateField()),
                ("end", fields.DateField()),
                ("created_by", fields.CharField(max_length=128)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={"table": "delegation", "app": "greenlight", "pk_attr": "id"},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="OutboxRow",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("topic", fields.CharField(db_index=True, max_length=32)),
                ("key", fields.CharField(unique=True, max_length=255)),
                ("payload", fields.JSONField(encoder=functools.partial(dumps, separators=(",", ":")), decoder=loads)),
                ("status", fields.CharField(default="pending", db_index=True, max_length=16)),
                ("attempts", fields.IntField(default=0)),
                ("next_attempt_at", fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ("lease_until", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("lease_owner", fields.CharField(null=True, max_length=64)),
                ("last_error", fields.TextField(null=True, unique=False)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("sent_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "outbox",
                "app": "greenlight",
                "pk_attr": "id",
                "table_description": "Something that must leave the process (Slack, email, ERP), written with its cause.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="QuoteRow",
            fields=[
                ("id", fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64)),
                ("version", fields.IntField()),
                ("owner", fields.CharField(db_index=True, max_length=128)),
                ("account_id", fields.CharField(null=True, db_index=True, max_length=128)),
                ("content_hash", fields.CharField(max_length=64)),
                ("data", fields.JSONField(encoder=functools.partial(dumps, separators=(",", ":")), decoder=loads)),
                ("received_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={"table": "quote", "app": "greenlight", "pk_attr": "id"},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="QuoteVersionRow",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("quote_id", fields.CharField(max_length=64)),
                ("version", fields.IntField()),
                ("content_hash", fields.CharField(max_length=64)),
                ("data", fields.JSONField(encoder=functools.partial(dumps, separators=(",", ":")), decoder=loads)),
                ("received_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "quote_version",
                "app": "greenlight",
                "unique_together": (("quote_id", "version"),),
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="ReplacementRow",
            fields=[
                ("old", fields.CharField(primary_key=True, unique=True, db_index=True, max_length=128)),
                ("new", fields.CharField(max_length=128)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={"table": "replacement", "app": "greenlight", "pk_attr": "old"},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="RequestKeyRow",
            fields=[
                ("key", fields.CharField(primary_key=True, unique=True, db_index=True, max_length=255)),
                ("answer", fields.JSONField(encoder=functools.partial(dumps, separators=(",", ":")), decoder=loads)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "request_key",
                "app": "greenlight",
                "pk_attr": "key",
                "table_description": "A request already handled (an idempotency key), with the answer it got.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="SubmissionRow",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("quote_id", fields.CharField(max_length=64)),
                ("number", fields.IntField()),
                ("quote_version", fields.IntField()),
                ("owner", fields.CharField(db_index=True, max_length=128)),
                ("status", fields.CharField(db_index=True, max_length=16)),
                ("revision", fields.IntField(default=0)),
                ("submitted_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("decided_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("due_at", fields.DatetimeField(null=True, db_index=True, auto_now=False, auto_now_add=False)),
                ("state", fields.JSONField(encoder=functools.partial(dumps, separators=(",", ":")), decoder=loads)),
            ],
            options={
                "table": "submission",
                "app": "greenlight",
                "unique_together": (("quote_id", "number"),),
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
    ]
