"""What every test suite (and bench/) shares: one copy of each piece of the harness.

    clock      Clock: the time of the code under test, standing still until a test moves it
    loopback   free ports, serving an aiohttp app on 127.0.0.1, the proxy variables to clear
    postgres   GREENLIGHT_TEST_DB / GREENLIGHT_TEST_PG_URL, private databases, asyncpg DSNs, raw reads,
               migrating a database from a thread of its own
    smtp       a real aiosmtpd server on loopback and the inbox that keeps what it accepts
    pages      the email link pages: links as emails carry them, fetching and posting the pages
    crm        quotes sent to the quote API, signed as the CRM signs them (apart from greenlight.signing)
    memory     a snapshot of everything a MemoryStore holds
    quotes     the examples (policy and quotes), a small one-line quote, quotes changed field by field
    slack      the real Greenlight built and served against the Slack stand-in, and Block Kit readers
    browser    headless Chromium at phone size: where it is, its arguments, the skip when it is missing

The shared fixtures (no proxy, the database backend, a migrated SQLite template) are in
tests/conftest.py; each suite's conftest builds on these modules. bench/ scripts put the
repository root on sys.path first, then import from here.
"""
