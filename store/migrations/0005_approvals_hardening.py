"""Issue 12: versions, ids and delegation bounds that hold under races and hostile data.

Reserved in the chain so that work on several issues can land in any order; it changes nothing
until that work fills it in.
"""

from tortoise import migrations


class Migration(migrations.Migration):
    dependencies = [("greenlight", "0004_outbox_topics_by_receiver")]

    initial = False

    operations: list = []
