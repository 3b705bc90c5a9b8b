"""Issue 16: fewer indexes to write with every decision.

A decision inserts a row into `outbox` for each topic of each of its events (five for an approval
that approves the quote), and every index of the table takes an entry for every row. Three of the
indexes were never read, or read for a handful of rows that a small index serves as well:

- `outbox.next_attempt_at`: no query looks rows up by it; a claim finds its rows through
  `idx_outbox_open` (0013) and checks the time on each.
- `outbox.status`: only the rows that failed or died are looked up by status (the outbox gauge,
  with the open ones through `idx_outbox_open`). `idx_outbox_failed` holds just those, so a new
  (pending) row or a sent one writes nothing to it.
- `submission.owner`: `idx_submission_owner_submitted` (owner, then submission time) serves every
  lookup by owner.

The indexes are dropped by name on both databases: tortoise's own way of altering a field on
SQLite copies the table into a new one (see 0014).
"""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops

FAILED = (
    'CREATE INDEX IF NOT EXISTS "idx_outbox_failed" ON "outbox" ("status") '
    "WHERE \"status\" IN ('failed', 'dead')"
)


class DropIndex(ops.AlterField):
    """tortoise's AlterField for a field that loses its index, done with `DROP INDEX` (and undone with
    `CREATE INDEX`) instead of tortoise's copy of the table."""

    def __init__(self, model_name: str, name: str, field: fields.Field, index: str) -> None:  # type: ignore[type-arg]
        super().__init__(model_name=model_name, name=name, field=field)
        self.index = index

    async def database_forward(self, app_label, old_state, new_state, state_editor=None) -> None:  # type: ignore[no-untyped-def]
        if state_editor is not None:
            await state_editor._run_sql(f'DROP INDEX IF EXISTS "{self.index}"')

    async def database_backward(self, app_label, old_state, new_state, state_editor=None) -> None:  # type: ignore[no-untyped-def]
        if state_editor is None:
            return
        table = old_state.apps.get_model(f"{app_label}.{self.model_name}")._meta.db_table
        await state_editor._run_sql(f'CREATE INDEX IF NOT EXISTS "{self.index}" ON "{table}" ("{self.name}")')


class Migration(migrations.Migration):
    dependencies = [("greenlight", "0014_submission_snapshot")]

    initial = False

    operations = [
        ops.RunSQL([FAILED], reverse_sql=['DROP INDEX IF EXISTS "idx_outbox_failed"']),
        DropIndex(
            model_name="OutboxRow",
            name="status",
            field=fields.CharField(default="pending", max_length=16),
            index="idx_outbox_status_9c8966",
        ),
        DropIndex(
            model_name="OutboxRow",
            name="next_attempt_at",
            field=fields.DatetimeField(auto_now=False, auto_now_add=False),
            index="idx_outbox_next_at_59be67",
        ),
        DropIndex(
            model_name="SubmissionRow",
            name="owner",
            field=fields.CharField(max_length=128),
            index="idx_submission_owner_b3b604",
        ),
    ]
