"""The whole suite as users run it: `scripts/run_suite.py` starting three gunicorn servers.

It runs once per test session on free ports, with its keys and database in a temporary
folder, so it never touches a developer's own `make run` state.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class Suite:
    issuer: str
    calendar: str
    geocoding: str
    env: dict[str, str]
    output: Path


@pytest.fixture(scope="session")
def suite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Suite]:
    state = tmp_path_factory.mktemp("suite")
    ports = {name: free_port() for name in ("DEV_ISSUER_PORT", "CALENDAR_PORT", "GEOCODING_PORT")}
    env = {
        **os.environ,
        **{name: str(port) for name, port in ports.items()},
        "DEV_ISSUER_KEYS_DIR": str(state / "keys"),
        "DATABASE_URL": f"sqlite:///{state / 'calendar.sqlite3'}",
        "PYTHONUNBUFFERED": "1",
    }
    for name in ("AUTH_ISSUER", "DEV_ISSUER_URL", "CALENDAR_CORS_ORIGINS"):
        env.pop(name, None)
    output = state / "suite.log"
    with output.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "scripts/run_suite.py"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 120
        while b"Ready." not in output.read_bytes():
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"the suite did not start:\n{output.read_text()[-4000:]}")
            time.sleep(0.2)
        yield Suite(
            issuer=f"http://127.0.0.1:{ports['DEV_ISSUER_PORT']}",
            calendar=f"http://127.0.0.1:{ports['CALENDAR_PORT']}",
            geocoding=f"http://127.0.0.1:{ports['GEOCODING_PORT']}",
            env=env,
            output=output,
        )
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            pytest.fail("the suite did not stop within 20 s of Ctrl-C")


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Debian's Chromium; required in CI, a clear skip elsewhere."""
    if shutil.which(CHROMIUM) is None:
        message = f"{CHROMIUM} is missing: `make browser` installs Debian's chromium"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return CHROMIUM


@pytest.fixture
def browser_page(chromium_path: str) -> Iterator[Any]:
    """A fresh page in real headless Chromium, driven by Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.set_default_timeout(15_000)
            yield page
        finally:
            browser.close()
