"""The commands `make run` prints work as printed, in another shell, wherever the ports are."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Any

import jwt
import requests

ROOT = Path(__file__).resolve().parents[2]


def banner_command(output: str, variable: str) -> str:
    """The ``VARIABLE=$(...)`` command of the banner, continuation lines joined."""
    banner = output.split("Ready.", 1)[1]
    match = re.search(rf"^  {variable}=\$\(.*?\)$", banner, re.MULTILINE | re.DOTALL)
    assert match, f"the banner has no {variable} command:\n{banner}"
    return match.group(0).replace("\\\n", " ")


def test_the_banners_user_token_names_the_issuer_that_runs(suite: Any) -> None:
    """The suite runs on moved ports with its own keys: a fresh shell knows neither."""
    command = banner_command(suite.output.read_text(), "CAL_TOKEN")
    shell = {k: v for k, v in os.environ.items() if not k.startswith(("DEV_ISSUER_", "AUTH_"))}
    result = subprocess.run(
        ["bash", "-c", f'{command}\nprintf %s "$CAL_TOKEN"'],
        cwd=ROOT,
        env=shell,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    token = result.stdout.strip()
    assert jwt.decode(token, options={"verify_signature": False})["iss"] == f"{suite.issuer}/"
    events = requests.get(
        f"{suite.calendar}/calendar/v1/events",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert events.status_code == 200, events.text
