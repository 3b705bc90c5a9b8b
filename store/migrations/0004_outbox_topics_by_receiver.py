"""Outbox rows are queued per receiver (domain.reactions): the old `event` topic is Slack's."""

from tortoise import migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("greenlight", "0003_orders_and_contracts")]

    initial = False

    operations = [
        ops.RunSQL(
            "UPDATE outbox SET topic = 'slack' WHERE topic = 'event'",
            reverse_sql="UPDATE outbox SET topic = 'event' WHERE topic = 'slack'",
        ),
    ]
