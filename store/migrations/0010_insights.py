"""Issue 19: what insights and backtests read (indexes for narrow queries).

A period is a range of `submission.submitted_at`; open requests are `approval.status = 'requested'`
(by age); reminders, escalations and decisions are audit rows of a kind in a period. Plain SQL,
the same on SQLite and PostgreSQL; the models are unchanged.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops

INDEXES = {
    "submission_submitted_at_idx": "submission (submitted_at)",
    "approval_status_requested_at_idx": "approval (status, requested_at)",
    "audit_kind_at_idx": "audit (kind, at)",
}


class Migration(migrations.Migration):
    dependencies = [("greenlight", "0009_people_and_notices")]

    initial = False

    operations: list = [
        ops.RunSQL(
            [f"CREATE INDEX IF NOT EXISTS {name} ON {target}" for name, target in INDEXES.items()],
            reverse_sql=[f"DROP INDEX IF EXISTS {name}" for name in INDEXES],
        )
    ]
