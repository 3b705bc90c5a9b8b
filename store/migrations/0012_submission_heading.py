"""Issue 16: a list of quotes costs the same whatever the size of its quotes.

`submission.heading`: the quote as submitted without its lines (what App Home shows of it), written
once with the submission beside `snapshot`. Lists read it instead of the snapshot; rows written
before have none, and the database cuts it from their snapshot when they are listed.
"""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("greenlight", "0011_lean_history")]

    initial = False

    operations = [
        ops.AddField(
            model_name="SubmissionRow",
            name="heading",
            field=fields.JSONField(null=True, encoder=None, decoder=None),
        ),
    ]
