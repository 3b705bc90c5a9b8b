"""GET /healthz (is the database reachable?) and GET /metrics (Prometheus text format)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from domain.memory import MemoryStore
from domain.service import Approvals
from greenlight.api import METRICS, create_app
from greenlight.settings import Settings

from .conftest import Serve
from .support import Intake, quote


async def test_healthz_is_ok_while_the_database_answers(intake: Intake) -> None:
    response = await intake.get("/healthz")

    assert response.status == 200
    assert await response.json() == {"ok": True}


async def test_healthz_answers_503_when_the_database_is_unreachable(serve: Serve) -> None:
    async def unreachable() -> bool:
        return False

    intake = await serve(health=unreachable)
    response = await intake.get("/healthz")

    assert response.status == 503
    assert await response.json() == {"ok": False, "error": "The database is unreachable."}


async def test_healthz_answers_503_when_the_check_itself_fails(serve: Serve) -> None:
    async def broken() -> bool:
        raise ConnectionRefusedError("database down")

    intake = await serve(health=broken)
    response = await intake.get("/healthz")

    assert response.status == 503
    assert (await response.json())["ok"] is False


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def test_metrics_count_quotes_by_status_and_requests_by_route_and_status(intake: Intake) -> None:
    await intake.post(quote(1))
    await intake.post(quote(1))
    await intake.post(quote(2))
    await intake.post(quote(1))
    await intake.post(quote(3), secret="not-the-secret-0123456789")
    await intake.get("/healthz")
    await intake.get("/no/such/page")

    response = await intake.get("/metrics")
    text = await response.text()

    assert response.status == 200
    assert response.content_type == "text/plain"
    found = samples(text)
    assert found[("greenlight_quotes_received_total", (("status", "stored"),))] == 2
    assert found[("greenlight_quotes_received_total", (("status", "unchanged"),))] == 1
    assert found[("greenlight_quotes_received_total", (("status", "stale"),))] == 1
    assert found[("greenlight_quotes_received_total", (("status", "recalled"),))] == 0
    requests = "greenlight_http_requests_total"
    assert found[(requests, (("route", "/api/quotes"), ("status", "200")))] == 3
    assert found[(requests, (("route", "/api/quotes"), ("status", "409")))] == 1
    assert found[(requests, (("route", "/api/quotes"), ("status", "401")))] == 1
    assert found[(requests, (("route", "/healthz"), ("status", "200")))] == 1
    assert found[(requests, (("route", "unmatched"), ("status", "404")))] == 1


def test_each_app_keeps_its_own_registry_unless_one_is_given(service: Approvals, store: MemoryStore) -> None:
    async def healthy() -> bool:
        return True

    shared = CollectorRegistry()
    one = create_app(service=service, settings=Settings(), health=healthy)
    two = create_app(service=service, settings=Settings(), health=healthy)
    given = create_app(service=service, settings=Settings(), health=healthy, registry=shared)

    assert one[METRICS].registry is not two[METRICS].registry
    assert given[METRICS].registry is shared
