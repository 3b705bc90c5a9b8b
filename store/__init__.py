"""The durable store: tortoise-orm models, migrations and the transaction the service runs in.

SQLite (one process, the embedded default) or PostgreSQL (several processes). Every state change
is a compare-and-set on the submission's `revision`; events become audit rows and outbox rows in
the same transaction.
"""
