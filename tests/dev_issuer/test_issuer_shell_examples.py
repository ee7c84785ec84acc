"""curl and CLI calls, run verbatim through a shell (URL rewritten) against a live issuer.

The README's own examples are executed by tests/e2e/test_readme_walkthrough.py; these cover
the same calls from the shell's side, plus `token client`, against the issuer alone.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from issuer_testkit import CALENDAR, GEOCODING, LiveIssuer

from shared_auth import AuthSettings, InvalidToken, TokenVerifier

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTED_URL = "http://127.0.0.1:8000"

CLIENT_CREDENTIALS_JSON = """\
curl -s http://127.0.0.1:8000/oauth/token \\
  -H 'content-type: application/json' \\
  -d '{"grant_type":"client_credentials","client_id":"geo-backend","client_secret":"geo-backend-secret","audience":"https://api.example.com/geocoding/v1/"}'
"""

CLIENT_CREDENTIALS_FORM_BASIC = """\
curl -s http://127.0.0.1:8000/oauth/token \\
  -u calendar-batch:calendar-batch-secret \\
  -d grant_type=client_credentials \\
  --data-urlencode audience=https://api.example.com/calendar/v1/ \\
  -d scope=read
"""

NO_CLIENT_GRANT = """\
curl -s -w ' HTTP %{http_code}\\n' http://127.0.0.1:8000/oauth/token \\
  -u geo-backend:geo-backend-secret \\
  -d grant_type=client_credentials \\
  --data-urlencode audience=https://api.example.com/calendar/v1/
"""

MINT_USER = """\
TOKEN=$(.venv/bin/python -m dev_issuer token user --user usr_123 \\
  --audience https://api.example.com/calendar/v1/ --scope "read write")
echo "$TOKEN"
"""

MINT_CLIENT = """\
GEO_TOKEN=$(.venv/bin/python -m dev_issuer token client --client-id geo-backend \\
  --audience https://api.example.com/geocoding/v1/)
echo "$GEO_TOKEN"
"""

MINT_EXPIRED = """\
EXPIRED=$(.venv/bin/python -m dev_issuer token user --user usr_123 \\
  --audience https://api.example.com/calendar/v1/ --scope read --expires-in -60)
echo "$EXPIRED"
"""


@pytest.fixture
def sh(live_issuer: LiveIssuer, issuer_dir: Path) -> Callable[[str], str]:
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    base = live_issuer.url.rstrip("/")
    env = {
        "PATH": "/usr/bin:/bin",
        "DEV_ISSUER_URL": live_issuer.url,
        "DEV_ISSUER_KEYS_DIR": str(issuer_dir),
    }

    def run(script: str) -> str:
        result = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script.replace(DOCUMENTED_URL, base)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    return run


def verifier(live_issuer: LiveIssuer, audience: str) -> TokenVerifier:
    return TokenVerifier(AuthSettings(issuer=live_issuer.url, audiences=(audience,)))


def test_client_credentials_examples(sh: Callable[[str], str], live_issuer: LiveIssuer) -> None:
    body = json.loads(sh(CLIENT_CREDENTIALS_JSON))
    assert body["token_type"] == "Bearer" and body["scope"] == "geocode"
    assert verifier(live_issuer, GEOCODING).verify(body["access_token"]).is_client_credentials

    body = json.loads(sh(CLIENT_CREDENTIALS_FORM_BASIC))
    assert verifier(live_issuer, CALENDAR).verify(body["access_token"]).scopes == {"read"}

    out = sh(NO_CLIENT_GRANT)
    assert out.endswith(" HTTP 403\n")
    assert json.loads(out.removesuffix(" HTTP 403\n"))["error"] == "access_denied"


def test_minting_examples(sh: Callable[[str], str], live_issuer: LiveIssuer) -> None:
    user = verifier(live_issuer, CALENDAR).verify(sh(MINT_USER).strip())
    assert user.subject == "usr_123" and user.scopes == {"read", "write"}
    machine = verifier(live_issuer, GEOCODING).verify(sh(MINT_CLIENT).strip())
    assert machine.subject == "geo-backend@clients"
    with pytest.raises(InvalidToken) as caught:
        verifier(live_issuer, CALENDAR).verify(sh(MINT_EXPIRED).strip())
    assert caught.value.reason == "expired"
