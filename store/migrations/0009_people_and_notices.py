"""Issue 17: people changed from chat, notification choices and out-of-office windows.

Reserved in the chain so that work on several issues can land in any order; it changes nothing
until that work fills it in.
"""

from tortoise import migrations


class Migration(migrations.Migration):
    dependencies = [("greenlight", "0008_crm_both_ways")]

    initial = False

    operations: list = []
