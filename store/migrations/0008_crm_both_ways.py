"""Issue 14: CRM keys, people's CRM ids and the CRM's outbox topic.

Reserved in the chain so that work on several issues can land in any order; it changes nothing
until that work fills it in.
"""

from tortoise import migrations


class Migration(migrations.Migration):
    dependencies = [("greenlight", "0007_order_amendments")]

    initial = False

    operations: list = []
