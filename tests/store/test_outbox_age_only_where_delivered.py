"""The alert on the outbox's oldest row (`greenlight_outbox_oldest_age_seconds > 900`,
deploy/prometheus-alerts.yaml) is for rows late to leave. A deployment without an ERP URL has no ERP
worker: its released orders' ERP rows wait for an ERP to be configured. They are neither aged (the
alert would fire in every deployment that has no ERP) nor counted (each scrape would read a backlog
that grows with every release)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from greenlight.app import build
from greenlight.observability import Observability
from store.outbox import Outbox
from tests.support.bare import bare_settings

AN_HOUR_AGO = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
ERP = {"GREENLIGHT_ERP_URL": "http://127.0.0.1:9/erp", "GREENLIGHT_ERP_SECRET": "e" * 32}


@pytest.mark.parametrize(("erp", "aged"), [({}, False), (ERP, True)], ids=["no ERP", "an ERP"])
async def test_rows_of_a_topic_without_a_receiver_are_neither_counted_nor_aged(
    tmp_path: Path, connected: str, erp: dict[str, str], aged: bool
) -> None:
    outbox = Outbox()
    await outbox.add("erp", "erp:SO-1:released", {"order": "SO-1"}, AN_HOUR_AGO)
    await outbox.add("slack", "slack:late", {"n": 1}, AN_HOUR_AGO)
    registry = CollectorRegistry()

    await Observability(build(bare_settings(tmp_path, **erp)), registry)._from_database()

    erp_rows = registry.get_sample_value("greenlight_outbox_rows", {"topic": "erp", "status": "pending"})
    assert erp_rows == (1 if aged else None)
    assert registry.get_sample_value("greenlight_outbox_rows", {"topic": "slack", "status": "pending"}) == 1
    erp_age = registry.get_sample_value("greenlight_outbox_oldest_age_seconds", {"topic": "erp"})
    assert (erp_age is not None and erp_age >= 3600) if aged else erp_age is None, erp_age
    slack_age = registry.get_sample_value("greenlight_outbox_oldest_age_seconds", {"topic": "slack"})
    assert slack_age is not None and slack_age >= 3600  # a topic this runtime delivers: aged either way
