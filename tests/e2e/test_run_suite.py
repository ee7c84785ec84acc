"""`make run`'s runner refuses a busy port with a message a person can act on."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("variable", ["DEV_ISSUER_PORT", "CALENDAR_PORT", "GEOCODING_PORT"])
def test_a_busy_port_names_the_port_and_the_variable(variable: str) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        free = {name: "0" for name in ("DEV_ISSUER_PORT", "CALENDAR_PORT", "GEOCODING_PORT")}
        result = subprocess.run(
            [sys.executable, "scripts/run_suite.py"],
            cwd=ROOT,
            env={"PATH": "/usr/bin:/bin", **free, variable: str(port)},
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert result.returncode != 0
    assert f"Port {port} on 127.0.0.1 is already in use" in result.stderr
    assert f"{variable}=<port> make run" in result.stderr
