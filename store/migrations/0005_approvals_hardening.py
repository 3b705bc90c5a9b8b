"""Issue 12: versions, ids and delegation bounds that hold under races and hostile data.

Replacements keep who made them and the seats they moved (for `/deal replacements` and its undo).
Delegation windows are indexed by their end date (only current and future ones are read).
Quote versions are 64-bit columns (crm-v1 §3: up to 2^53 - 1 on both databases). SQLite stores any
integer in 64 bits whatever the declared type, so only PostgreSQL's columns change type.
"""

import functools
from json import dumps, loads

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class WidenToBigInt(ops.AlterField):
    """ALTER COLUMN ... TYPE BIGINT on PostgreSQL (tortoise does not alter a column's type itself)."""

    def __init__(self, model_name: str, name: str, table: str) -> None:
        super().__init__(model_name, name, fields.BigIntField())
        self.table = table

    async def database_forward(self, app_label, old_state, new_state, state_editor=None) -> None:  # type: ignore[no-untyped-def]
        if state_editor is not None and state_editor.client.capabilities.dialect == "postgres":
            await state_editor._run_sql(f'ALTER TABLE "{self.table}" ALTER COLUMN "{self.name}" TYPE BIGINT')

    async def database_backward(self, app_label, old_state, new_state, state_editor=None) -> None:  # type: ignore[no-untyped-def]
        if state_editor is not None and state_editor.client.capabilities.dialect == "postgres":
            await state_editor._run_sql(f'ALTER TABLE "{self.table}" ALTER COLUMN "{self.name}" TYPE INT')


class Migration(migrations.Migration):
    dependencies = [("greenlight", "0004_outbox_topics_by_receiver")]

    initial = False

    operations = [
        WidenToBigInt("QuoteRow", "version", "quote"),
        WidenToBigInt("QuoteVersionRow", "version", "quote_version"),
        WidenToBigInt("SubmissionRow", "quote_version", "submission"),
        WidenToBigInt("AuditRow", "quote_version", "audit"),
        WidenToBigInt("OrderRow", "quote_version", "orders"),
        WidenToBigInt("ContractRow", "quote_version", "contract"),
        # A replacement remembers who made it and the seats it moved, so that it can be undone exactly.
        ops.AddField(model_name="ReplacementRow", name="created_by", field=fields.CharField(null=True, max_length=128)),
        ops.AddField(
            model_name="ReplacementRow",
            name="moved",
            field=fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(",", ":")), decoder=loads),
        ),
        # Only current and future delegation windows are read: found by their end date.
        ops.RunSQL(
            'CREATE INDEX IF NOT EXISTS "idx_delegation_end" ON "delegation" ("end")',
            reverse_sql='DROP INDEX IF EXISTS "idx_delegation_end"',
        ),
    ]
