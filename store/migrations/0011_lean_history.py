"""Issue 16: nothing read per request grows with history.

- `directory_version`: one row whose version changes in the same transaction as any write to
  `delegation` or `replacement` (triggers, so that every writer bumps it, replicas and scripts too);
  a process keeps the directory it read while that version stands.
- Delegation windows are found by delegator and end date together; a rep's latest quotes by owner
  and submission time (App Home reads a page of them).
- `submission.snapshot`: the quote as submitted, written once; a decision rewrites only the
  submission's state. Rows written before keep their snapshot inside `state` (the store reads both).
"""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops

WATCHED = ("delegation", "replacement")

SQLITE_BUMP = (
    'INSERT INTO "directory_version" ("id", "version") VALUES (1, random()) '
    'ON CONFLICT ("id") DO UPDATE SET "version" = excluded."version"'
)
POSTGRES_FUNCTION = """
CREATE OR REPLACE FUNCTION greenlight_directory_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO "directory_version" ("id", "version") VALUES (1, (random() * 9e18)::bigint)
    ON CONFLICT ("id") DO UPDATE SET "version" = excluded."version";
    RETURN NULL;
END $$
"""


class DirectoryTriggers(ops.RunSQL):
    """Triggers on the watched tables that give `directory_version` a new value (per dialect)."""

    def __init__(self) -> None:
        super().__init__(sql=[], reverse_sql=[])

    async def database_forward(self, app_label, old_state, new_state, state_editor=None) -> None:  # type: ignore[no-untyped-def]
        if state_editor is None:
            return
        if state_editor.client.capabilities.dialect == "postgres":
            await state_editor._run_sql(POSTGRES_FUNCTION)
            for table in WATCHED:
                await state_editor._run_sql(
                    f'CREATE TRIGGER "{table}_directory_changed" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE '
                    f'ON "{table}" FOR EACH STATEMENT EXECUTE FUNCTION greenlight_directory_changed()'
                )
            return
        for table in WATCHED:
            for event in ("INSERT", "UPDATE", "DELETE"):
                # one statement with a `;` inside: not through the editor, which splits on `;`
                await state_editor.client.execute_query(
                    f'CREATE TRIGGER IF NOT EXISTS "{table}_{event.lower()}_directory_changed" '
                    f'AFTER {event} ON "{table}" BEGIN {SQLITE_BUMP}; END'
                )

    async def database_backward(self, app_label, old_state, new_state, state_editor=None) -> None:  # type: ignore[no-untyped-def]
        if state_editor is None:
            return
        if state_editor.client.capabilities.dialect == "postgres":
            for table in WATCHED:
                await state_editor._run_sql(f'DROP TRIGGER IF EXISTS "{table}_directory_changed" ON "{table}"')
            await state_editor._run_sql("DROP FUNCTION IF EXISTS greenlight_directory_changed()")
            return
        for table in WATCHED:
            for event in ("insert", "update", "delete"):
                await state_editor._run_sql(f'DROP TRIGGER IF EXISTS "{table}_{event}_directory_changed"')


class Migration(migrations.Migration):
    dependencies = [("greenlight", "0010_insights")]

    initial = False

    operations = [
        ops.CreateModel(
            name="DirectoryVersionRow",
            fields=[
                ("id", fields.IntField(generated=False, primary_key=True, unique=True, db_index=True)),
                ("version", fields.BigIntField()),
            ],
            options={
                "table": "directory_version",
                "app": "greenlight",
                "pk_attr": "id",
                "table_description": "One row whose `version` changes with every write to `delegation` or "
                "`replacement` (database triggers, migration 0011): a process reuses the directory it read while "
                "the version stands.",
            },
            bases=["Model"],
        ),
        ops.AddField(
            model_name="SubmissionRow",
            name="snapshot",
            field=fields.JSONField(null=True, encoder=None, decoder=None),
        ),
        ops.RunSQL(
            [
                'INSERT INTO "directory_version" ("id", "version") VALUES (1, 1)',
                'CREATE INDEX IF NOT EXISTS "idx_delegation_delegator_end" ON "delegation" ("delegator", "end")',
                'CREATE INDEX IF NOT EXISTS "idx_submission_owner_submitted" ON "submission" ("owner", "submitted_at")',
            ],
            reverse_sql=[
                'DROP INDEX IF EXISTS "idx_delegation_delegator_end"',
                'DROP INDEX IF EXISTS "idx_submission_owner_submitted"',
            ],
        ),
        DirectoryTriggers(),
    ]
