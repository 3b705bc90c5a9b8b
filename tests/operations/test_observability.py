"""What operators watch: /metrics names every figure docs/operations.md alerts on, /readyz says why
a replica should not get traffic, and GREENLIGHT_LOG_FORMAT=json writes one JSON object per line."""

from __future__ import annotations

import json
from pathlib import Path

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from bot.views.ids import APPROVE
from tests.faults.kit import REP, policy_text
from tests.support.postgres import fresh_database
from tests.support.slack import Running

from .kit import Server, environment, submit, until, workspace
from .test_live_policy import gl  # noqa: F401 - the fixture
from .test_live_policy import submit as submit_in_process

NAMES = (
    "greenlight_outbox_rows",
    "greenlight_outbox_oldest_age_seconds",
    "greenlight_approvals",
    "greenlight_approval_outcomes_total",
    "greenlight_outbox_reclaims",
    "greenlight_outbox_sent_total",
    "greenlight_slack_api_calls_total",
    "greenlight_http_request_seconds_bucket",
    "greenlight_job_runs_total",
    "greenlight_job_seconds_bucket",
    "greenlight_job_last_run_age_seconds",
    "greenlight_policy_version",
    "greenlight_socket_mode_connected",
)


async def test_metrics_show_the_outbox_decisions_slack_calls_latency_jobs_and_policy(gl):  # noqa: F811
    await submit_in_process(gl, "Q-0001")
    await gl.deal(REP, "help")
    async with aiohttp.ClientSession() as session:
        async with session.get(gl.url + "/metrics") as answer:
            text = await answer.text()
        async with session.get(gl.url + "/readyz") as ready:
            assert ready.status == 200, await ready.text()
    missing = [name for name in NAMES if name not in text]
    assert missing == []
    assert 'greenlight_approvals{status="requested"} 1.0' in text
    assert 'greenlight_slack_api_calls_total{error="ok",method="chat.postMessage"}' in text
    assert 'greenlight_http_request_seconds_count{route="/slack/events"}' in text
    assert "greenlight_policy_version 1.0" in text
    assert 'greenlight_outbox_rows{status="pending",topic="slack"}' in text
    assert 'greenlight_outbox_rows{status="sent"' not in text  # history: counted as sent, not by a scan
    assert 'greenlight_outbox_sent_total{topic="slack"}' in text


async def scraped(gl: Running, name: str, status: str) -> float:  # noqa: F811
    """One sample of /metrics as Prometheus parses it (0 when absent)."""
    async with aiohttp.ClientSession() as session, session.get(gl.url + "/metrics") as answer:
        text = await answer.text()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels == {"status": status}:
                return sample.value
    return 0.0


async def test_open_approvals_are_read_and_outcomes_counted_as_a_click_commits(gl: Running):  # noqa: F811
    rules = await submit_in_process(gl, "Q-0001")
    assert await scraped(gl, "greenlight_approvals", "requested") == 1
    approved = await scraped(gl, "greenlight_approval_outcomes_total", "approved")  # (the counter is the process's)

    answer = await gl.driver.click(gl.slack_id("a01"), APPROVE, message=gl.request("a01", f"Q-0001#1/{rules[0]}"))
    assert answer.status == 200, answer.body

    assert await scraped(gl, "greenlight_approvals", "requested") == 0  # no longer open: the figure goes down
    assert await scraped(gl, "greenlight_approval_outcomes_total", "approved") == approved + 1
    assert await scraped(gl, "greenlight_approvals", "approved") == 0  # closed ones are not read at each scrape


async def test_readyz_says_why_while_healthz_only_asks_the_database(gl):  # noqa: F811
    await gl.runtime.sweeps.stop()
    async with aiohttp.ClientSession() as session:
        async with session.get(gl.url + "/readyz") as ready:
            assert ready.status == 503
            assert "the timed jobs are not running" in (await ready.json())["problems"]
        async with session.get(gl.url + "/healthz") as health:
            assert health.status == 200


async def test_json_logs_are_one_object_a_line_without_secrets(tmp_path: Path):
    policy = tmp_path / "policy.yaml"
    policy.write_text(policy_text(["a01"]))
    async with workspace(["a01"]) as slack, fresh_database(tmp_path / "g.db", "greenlight_logs") as url:
        env = environment(slack, url, policy, GREENLIGHT_LOG_FORMAT="json")
        server = await Server.start(env, tmp_path, "json")
        try:
            await submit(server, slack, "Q-0001")
            await until(lambda: _logged(server.log, "greenlight is listening"), "the listening line")
        finally:
            assert await server.stop() == 0
        lines = [line for line in server.log.read_text().splitlines() if line.strip()]
        entries = [json.loads(line) for line in lines]
        assert {"time", "level", "logger", "message"} <= set(entries[0])
        assert any("shutting down" in e["message"] for e in entries)
        assert env["SLACK_SIGNING_SECRET"] not in server.log.read_text()


async def _logged(log: Path, text: str) -> bool:
    return text in log.read_text()
