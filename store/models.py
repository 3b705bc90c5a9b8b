"""Tables. A submission row holds the whole aggregate (`state`) but the quote as submitted (a table
of its own, written once); the approval and assignment tables are its queryable projection (App
Home, reminders), rewritten in the same transaction."""

from __future__ import annotations

from typing import Any

from tortoise import fields, models

from domain import amounts

# Quotes (and the snapshots submissions keep of them) are written and read with their amounts exact.
EXACT: dict[str, Any] = {"encoder": amounts.dumps, "decoder": amounts.loads}


class QuoteRow(models.Model):
    id = fields.CharField(primary_key=True, max_length=64)
    version = fields.BigIntField()
    owner = fields.CharField(max_length=128, db_index=True)
    account_id = fields.CharField(max_length=128, null=True, db_index=True)
    content_hash = fields.CharField(max_length=64)
    data: fields.JSONField[dict[str, Any]] = fields.JSONField(**EXACT)
    received_at = fields.DatetimeField()

    class Meta:
        table = "quote"


class QuoteVersionRow(models.Model):
    id = fields.IntField(primary_key=True)
    quote_id = fields.CharField(max_length=64)
    version = fields.BigIntField()
    content_hash = fields.CharField(max_length=64)
    data: fields.JSONField[dict[str, Any]] = fields.JSONField(**EXACT)
    received_at = fields.DatetimeField()

    class Meta:
        table = "quote_version"
        unique_together = (("quote_id", "version"),)


class SubmissionRow(models.Model):
    id = fields.IntField(primary_key=True)
    quote_id = fields.CharField(max_length=64)
    number = fields.IntField()
    quote_version = fields.BigIntField()
    owner = fields.CharField(max_length=128)  # looked up by idx_submission_owner_submitted (0011, 0015)
    status = fields.CharField(max_length=16, db_index=True)
    revision = fields.IntField(default=0)
    submitted_at = fields.DatetimeField()
    decided_at = fields.DatetimeField(null=True)
    due_at = fields.DatetimeField(null=True, db_index=True)
    state: fields.JSONField[dict[str, Any]] = fields.JSONField(**EXACT)

    class Meta:
        table = "submission"
        unique_together = (("quote_id", "number"),)


class SubmissionSnapshotRow(models.Model):
    """The quote as a submission submitted it, written once with the submission (migration 0014).

    Never rewritten: a decision rewrites the submission's row, which stays small whatever the size of
    the quote. A submission stored before issue 16 has none until it changes (its snapshot is inside
    its `state`)."""

    submission: fields.OneToOneRelation[SubmissionRow] = fields.OneToOneField(
        "greenlight.SubmissionRow", primary_key=True, related_name="as_submitted", on_delete=fields.CASCADE
    )
    submission_id: int
    heading: fields.JSONField[dict[str, Any] | None] = fields.JSONField(null=True, **EXACT)
    """The snapshot without its lines, for lists (none for a snapshot stored before migration 0012)."""
    snapshot: fields.JSONField[dict[str, Any]] = fields.JSONField(**EXACT)

    class Meta:
        table = "submission_snapshot"


class ApprovalRow(models.Model):
    id = fields.IntField(primary_key=True)
    submission_id = fields.IntField(db_index=True)
    quote_id = fields.CharField(max_length=64)
    rule = fields.CharField(max_length=128)
    chain = fields.CharField(max_length=128)
    step = fields.IntField()
    status = fields.CharField(max_length=16)
    requested_at = fields.DatetimeField(null=True)
    decided_at = fields.DatetimeField(null=True)
    acted_by = fields.CharField(max_length=128, null=True)

    class Meta:
        table = "approval"
        unique_together = (("submission_id", "rule"),)


class AssignmentRow(models.Model):
    """Who holds a place in a requested approval (delegates are found through delegations)."""

    id = fields.IntField(primary_key=True)
    approval_id = fields.IntField(db_index=True)
    person = fields.CharField(max_length=128, db_index=True)

    class Meta:
        table = "assignment"


class DelegationRow(models.Model):
    id = fields.IntField(primary_key=True)
    delegator = fields.CharField(max_length=128, db_index=True)
    delegate = fields.CharField(max_length=128)
    start = fields.DateField()
    end = fields.DateField(db_index=True)
    created_by = fields.CharField(max_length=128)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "delegation"


class DirectoryVersionRow(models.Model):
    """One row whose `version` changes with every write to `delegation` or `replacement` (database
    triggers, migration 0011): a process reuses the directory it read while the version stands."""

    id = fields.IntField(primary_key=True, generated=False)
    version = fields.BigIntField()

    class Meta:
        table = "directory_version"


class ReplacementRow(models.Model):
    old = fields.CharField(primary_key=True, max_length=128)
    new = fields.CharField(max_length=128)
    created_at = fields.DatetimeField(auto_now_add=True)
    created_by = fields.CharField(max_length=128, null=True)
    moved: fields.JSONField[dict[str, Any]] = fields.JSONField(null=True)
    """The seats the replacement moved (submission ref -> rule -> members), for its undo."""

    class Meta:
        table = "replacement"


class AuditRow(models.Model):
    id = fields.BigIntField(primary_key=True)
    at = fields.DatetimeField(db_index=True)
    kind = fields.CharField(max_length=32)
    quote_id = fields.CharField(max_length=64, db_index=True)
    quote_version = fields.BigIntField()
    submission = fields.IntField()
    rule = fields.CharField(max_length=128, null=True)
    actor = fields.CharField(max_length=128, null=True)
    on_behalf_of = fields.CharField(max_length=128, null=True)
    comment = fields.TextField(null=True)
    people: fields.JSONField[list[str]] = fields.JSONField(default=list)
    detail: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)

    class Meta:
        table = "audit"


class OutboxRow(models.Model):
    """Something that must leave the process (Slack, email, ERP), written with its cause."""

    id = fields.BigIntField(primary_key=True)
    topic = fields.CharField(max_length=32, db_index=True)
    key = fields.CharField(max_length=255, unique=True)
    payload: fields.JSONField[dict[str, Any]] = fields.JSONField()
    status = fields.CharField(max_length=16, default="pending")  # idx_outbox_open (0013), idx_outbox_dead (0017)
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField()
    lease_until = fields.DatetimeField(null=True)
    lease_owner = fields.CharField(max_length=64, null=True)
    last_error = fields.TextField(null=True)
    created_at = fields.DatetimeField()
    sent_at = fields.DatetimeField(null=True)

    class Meta:
        table = "outbox"


class RequestKeyRow(models.Model):
    """A request already handled (an idempotency key), with the answer it got."""

    key = fields.CharField(primary_key=True, max_length=255)
    answer: fields.JSONField[dict[str, Any]] = fields.JSONField()
    created_at = fields.DatetimeField()

    class Meta:
        table = "request_key"


class SlackMessageRow(models.Model):
    """A message Greenlight posted, so that a later change updates it instead of posting again."""

    id = fields.BigIntField(primary_key=True)
    key = fields.CharField(max_length=255, unique=True)
    person = fields.CharField(max_length=128, db_index=True)
    channel = fields.CharField(max_length=64)
    ts = fields.CharField(max_length=32)
    submission_ref = fields.CharField(max_length=96, db_index=True)
    rule = fields.CharField(max_length=128, null=True)
    kind = fields.CharField(max_length=32)
    created_at = fields.DatetimeField()

    class Meta:
        table = "slack_message"


class OrderRow(models.Model):
    """An order of an approved quote (orders-v1), its data holding the lines as approved."""

    id = fields.BigIntField(primary_key=True)
    number = fields.CharField(max_length=96, unique=True)
    quote_id = fields.CharField(max_length=64, db_index=True)
    quote_version = fields.BigIntField()
    account_id = fields.CharField(max_length=128, null=True, db_index=True)
    status = fields.CharField(max_length=16, db_index=True)
    release_at = fields.DatetimeField(db_index=True)
    released_at = fields.DatetimeField(null=True)
    erp_reference = fields.CharField(max_length=128, null=True)
    revision = fields.IntField(default=0)
    data: fields.JSONField[dict[str, Any]] = fields.JSONField()
    created_at = fields.DatetimeField()

    class Meta:
        table = "orders"


class ContractRow(models.Model):
    id = fields.BigIntField(primary_key=True)
    account_id = fields.CharField(max_length=128, null=True, db_index=True)
    quote_id = fields.CharField(max_length=64)
    quote_version = fields.BigIntField()
    data: fields.JSONField[dict[str, Any]] = fields.JSONField()
    created_at = fields.DatetimeField()
    number = fields.CharField(max_length=96, null=True)
    start_date = fields.DateField(null=True)
    end_date = fields.DateField(null=True, db_index=True)
    renewal_sent_at = fields.DatetimeField(null=True)

    class Meta:
        table = "contract"
        unique_together = (("quote_id", "quote_version"),)


class PersonPrefRow(models.Model):
    """How a person chooses to be reached (`/deal notify slack|email|both`)."""

    person = fields.CharField(primary_key=True, max_length=128)
    notify = fields.CharField(max_length=8)
    updated_at = fields.DatetimeField()

    class Meta:
        table = "person_pref"


class CrmWatermarkRow(models.Model):
    """How far a CRM connector has read its changed quotes."""

    name = fields.CharField(primary_key=True, max_length=64)
    value = fields.CharField(max_length=64)
    updated_at = fields.DatetimeField()

    class Meta:
        table = "crm_watermark"


class PersonChangeRow(models.Model):
    """A person added or changed by an admin from chat (`/deal people set`), laid over the policy's `people`."""

    person = fields.CharField(primary_key=True, max_length=128)
    data: fields.JSONField[dict[str, Any]] = fields.JSONField()
    changed_by = fields.CharField(max_length=128)
    changed_at = fields.DatetimeField()

    class Meta:
        table = "person_change"


class PolicyVersionRow(models.Model):
    """A policy every replica applies: its text as validated, numbered 1, 2, 3 ... (the newest is in force)."""

    version = fields.IntField(primary_key=True, generated=False)
    digest = fields.CharField(max_length=64)
    text = fields.TextField()
    source = fields.CharField(max_length=255)
    applied_by = fields.CharField(max_length=128)
    applied_at = fields.DatetimeField()

    class Meta:
        table = "policy_version"
