"""Issue 13: amendments as deltas, contract terms and renewals.

Reserved in the chain so that work on several issues can land in any order; it changes nothing
until that work fills it in.
"""

from tortoise import migrations


class Migration(migrations.Migration):
    dependencies = [("greenlight", "0006_live_policy")]

    initial = False

    operations: list = []
