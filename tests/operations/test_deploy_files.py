"""deploy/: the systemd unit passes `systemd-analyze verify` (pointing at this checkout's `greenlight`),
and every metric the example alert rules use is one Greenlight exports."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from greenlight import observability
from tests.support.quotes import ROOT

DEPLOY = ROOT / "deploy"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed here")
def test_the_systemd_unit_verifies(tmp_path: Path):
    unit = (DEPLOY / "greenlight.service").read_text()
    assert "ExecReload=/bin/kill -HUP $MAINPID" in unit, "systemctl reload must reload the policy, not stop it"
    copy = tmp_path / "greenlight.service"
    copy.write_text(unit.replace("/opt/greenlight/bin/greenlight", str(ROOT / ".venv" / "bin" / "greenlight")))
    done = subprocess.run(["systemd-analyze", "verify", str(copy)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stderr.strip() == "", done.stderr


def test_every_metric_in_the_alert_rules_is_exported():
    rules = yaml.safe_load((DEPLOY / "prometheus-alerts.yaml").read_text())
    used = {
        name
        for group in rules["groups"]
        for rule in group["rules"]
        for name in re.findall(r"\b(greenlight_[a-z_]+)", rule["expr"])
    }
    exported = set(re.findall(r'"(greenlight_[a-z_]+)"', Path(observability.__file__).read_text()))
    exported |= {"greenlight_outbox_reclaims"}  # notifications.worker
    suffixes = ("_total", "_bucket", "_count", "_sum")
    unknown = {n for n in used if n not in exported and not any(n.removesuffix(s) in exported for s in suffixes)}
    assert used and unknown == set()
