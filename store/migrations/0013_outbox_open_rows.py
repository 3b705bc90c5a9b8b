"""Issue 16: claiming outbox rows costs the same however many rows were sent before.

Sent rows stay in `outbox` (they are the delivery record). A claim looked its topic's rows up by
the single-column index on `topic`, and so walked every row the topic ever had: about 5 ms per
claim at 40,000 rows, more each day. `idx_outbox_open` holds only the rows still to deliver
(pending, or leased to a worker), by topic in id order: a claim reads what it takes and stops.
Both databases use a partial index when the query's own condition names the same statuses.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("greenlight", "0012_submission_heading")]

    initial = False

    operations = [
        ops.RunSQL(
            [
                'CREATE INDEX IF NOT EXISTS "idx_outbox_open" ON "outbox" ("topic", "id") '
                "WHERE \"status\" IN ('pending', 'sending')",
            ],
            reverse_sql=['DROP INDEX IF EXISTS "idx_outbox_open"'],
        ),
    ]
