"""Issue 16: a decision costs the same whatever the size of the quote.

`submission_snapshot`: the quote as submitted (`snapshot`) and without its lines (`heading`), one row
per submission keyed by its id, written once with the submission. They were columns of `submission`
(0011, 0012), and SQLite rewrites the whole record on every UPDATE: each decision on a large quote
wrote its snapshot again, overflow pages and all. Now a decision rewrites a row that holds the state.

Existing rows are copied; a submission stored before 0011 (its snapshot inside `state`, the column
NULL) gets none: the store reads its snapshot from the state, and gives it a row when it next changes.

On SQLite the table is written by hand: the key is the rowid (`INTEGER PRIMARY KEY`, not tortoise's
`INT`, which adds a second index), and `heading` comes before `snapshot`, so that a list reads the
heading without walking the snapshot's overflow pages. The columns leave `submission` with SQLite's
`DROP COLUMN` (3.35+), not tortoise's way of copying the table into a new one, which loses the table's
indexes (the unique quote and number among them) and, dropping the old table, would delete the
snapshots just copied through the foreign key's ON DELETE CASCADE.
"""

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.migrations import operations as ops

TABLE = {
    "sqlite": 'CREATE TABLE "submission_snapshot" ('
    '"submission_id" INTEGER NOT NULL PRIMARY KEY REFERENCES "submission" ("id") ON DELETE CASCADE, '
    '"heading" JSON, "snapshot" JSON NOT NULL)',
    "postgres": 'CREATE TABLE "submission_snapshot" ('
    '"submission_id" INT NOT NULL PRIMARY KEY REFERENCES "submission" ("id") ON DELETE CASCADE, '
    '"heading" JSONB, "snapshot" JSONB NOT NULL)',
}

COPY = (
    'INSERT INTO "submission_snapshot" ("submission_id", "heading", "snapshot") '
    'SELECT "id", "heading", "snapshot" FROM "submission" WHERE "snapshot" IS NOT NULL'
)
COPY_BACK = (
    'UPDATE "submission" SET '
    '"snapshot" = (SELECT k."snapshot" FROM "submission_snapshot" k WHERE k."submission_id" = "submission"."id"), '
    '"heading" = (SELECT k."heading" FROM "submission_snapshot" k WHERE k."submission_id" = "submission"."id")'
)


class CreateTable(ops.CreateModel):
    """tortoise's CreateModel, its table created by the statement of the database's dialect."""

    async def database_forward(self, app_label, old_state, new_state, state_editor=None) -> None:  # type: ignore[no-untyped-def]
        if state_editor is None:
            return
        await state_editor._run_sql(TABLE[state_editor.client.capabilities.dialect])


class DropColumn(ops.RemoveField):
    """tortoise's RemoveField, with `ALTER TABLE ... DROP COLUMN` on SQLite too (see above)."""

    async def database_forward(self, app_label, old_state, new_state, state_editor=None) -> None:  # type: ignore[no-untyped-def]
        if state_editor is None:
            return
        if state_editor.client.capabilities.dialect != "sqlite":
            await super().database_forward(app_label, old_state, new_state, state_editor)
            return
        table = old_state.apps.get_model(f"{app_label}.{self.model_name}")._meta.db_table
        await state_editor._run_sql(f'ALTER TABLE "{table}" DROP COLUMN "{self.name}"')


class Migration(migrations.Migration):
    dependencies = [("greenlight", "0013_outbox_open_rows")]

    initial = False

    operations = [
        CreateTable(
            name="SubmissionSnapshotRow",
            fields=[
                (
                    "submission",
                    fields.OneToOneField(
                        "greenlight.SubmissionRow",
                        source_field="submission_id",
                        primary_key=True,
                        db_index=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="as_submitted",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("heading", fields.JSONField(null=True, encoder=None, decoder=None)),
                ("snapshot", fields.JSONField(encoder=None, decoder=None)),
            ],
            options={
                "table": "submission_snapshot",
                "app": "greenlight",
                "pk_attr": "submission_id",
                "table_description": "The quote as a submission submitted it, written once with the submission "
                "(migration 0014).",
            },
            bases=["Model"],
        ),
        ops.RunSQL([COPY], reverse_sql=[COPY_BACK]),
        DropColumn(model_name="SubmissionRow", name="heading"),
        DropColumn(model_name="SubmissionRow", name="snapshot"),
    ]
