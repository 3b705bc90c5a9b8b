"""Headless Chromium (Debian's, driven by Playwright) at phone size, for the tests that look at pages."""

from __future__ import annotations

from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 390, "height": 844}

needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason=f"{CHROMIUM} is missing: run scripts/ensure-chromium to install Debian's chromium",
)
BROWSER = [pytest.mark.browser, needs_chromium]  # pytestmark of a module whose tests drive the browser
