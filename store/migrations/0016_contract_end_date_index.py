"""Issue 16: the index on `contract.end_date` that the models always declared.

Migration 0007 added the column with `AddField(..., db_index=True)`, but tortoise's `AddField` only
adds the column: the index was never created, on either database. The hourly renewals sweep
(`DbTx.renewals_due`: contracts ending within the notice period whose reminder has not gone out)
then read every contract ever written, each with its whole document. With the index it reads the
contracts ending in that window. The name is the one tortoise gives the index it meant to create.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops

INDEX = "idx_contract_end_dat_b9aad1"


class Migration(migrations.Migration):
    dependencies = [("greenlight", "0015_fewer_indexes_to_write")]

    initial = False

    operations = [
        ops.RunSQL(
            [f'CREATE INDEX IF NOT EXISTS "{INDEX}" ON "contract" ("end_date")'],
            reverse_sql=[f'DROP INDEX IF EXISTS "{INDEX}"'],
        )
    ]
