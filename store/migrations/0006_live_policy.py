"""Issue 15: the policy shared by every replica, and the version each submission was evaluated by.

Reserved in the chain so that work on several issues can land in any order; it changes nothing
until that work fills it in.
"""

from tortoise import migrations


class Migration(migrations.Migration):
    dependencies = [("greenlight", "0005_approvals_hardening")]

    initial = False

    operations: list = []
