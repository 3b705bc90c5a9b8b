"""Issue 16: the dead letters indexed by topic, like the rows waiting to leave.

`idx_outbox_failed` (0015) held the failed and dead rows by status alone. The CRM worker asks,
before each row it sends, whether an earlier row of the same quote died (`store.outbox.not_sent`), and an
admin's Retry looks for an order's dead ERP rows: each read every dead letter of every topic to
find its own. Dead letters are kept until an admin puts them back; one incident (a revoked Slack
token) leaves thousands. `idx_outbox_dead` holds the same rows by topic and id, as `idx_outbox_open`
(0013) holds the waiting ones: a topic's question reads only that topic's dead letters.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops

DEAD = (
    'CREATE INDEX IF NOT EXISTS "idx_outbox_dead" ON "outbox" ("topic", "id") '
    "WHERE \"status\" IN ('failed', 'dead')"
)
FAILED = (  # as 0015 made it
    'CREATE INDEX IF NOT EXISTS "idx_outbox_failed" ON "outbox" ("status") '
    "WHERE \"status\" IN ('failed', 'dead')"
)


class Migration(migrations.Migration):
    dependencies = [("greenlight", "0016_contract_end_date_index")]

    initial = False

    operations = [
        ops.RunSQL(
            [DEAD, 'DROP INDEX IF EXISTS "idx_outbox_failed"'],
            reverse_sql=[FAILED, 'DROP INDEX IF EXISTS "idx_outbox_dead"'],
        )
    ]
