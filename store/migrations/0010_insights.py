"""Issue 19: what insights and backtests read (indexes for narrow queries).

Reserved in the chain so that work on several issues can land in any order; it changes nothing
until that work fills it in.
"""

from tortoise import migrations


class Migration(migrations.Migration):
    dependencies = [("greenlight", "0009_people_and_notices")]

    initial = False

    operations: list = []
