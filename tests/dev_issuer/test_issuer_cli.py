"""The command line: tokens that verify, clear errors, key rotation, and `serve` for real."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import jwt
import pytest
import requests
from flask import Flask
from issuer_testkit import CALENDAR, GEOCODING, ISSUER, decode, jwks_of, tenant_with

from dev_issuer.cli import main

ROOT = Path(__file__).resolve().parents[2]
USER_READ = ["token", "user", "--user", "usr_123", "--audience", CALENDAR, "--scope", "read"]


@pytest.fixture
def cli_env(issuer_dir: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    env = {"DEV_ISSUER_KEYS_DIR": str(issuer_dir), "DEV_ISSUER_URL": ISSUER}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(argv)
    out, err = capsys.readouterr()
    return status, out, err


def test_token_client_prints_only_a_verifiable_token(
    cli_env: dict[str, str], app: Flask, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run(
        ["token", "client", "--client-id", "geo-backend", "--audience", GEOCODING], capsys
    )
    assert (status, err) == (0, "")
    assert out.endswith("\n") and out.count("\n") == 1
    claims = decode(app.test_client(), out.strip(), GEOCODING)
    assert claims["sub"] == "geo-backend@clients"
    assert claims["gty"] == "client-credentials"
    assert claims["scope"] == "geocode"


def test_token_user_matches_what_the_flows_issue(
    cli_env: dict[str, str], app: Flask, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = run(
        ["token", "user", "--user", "usr_456", "--audience", CALENDAR, "--scope", "write read"],
        capsys,
    )
    assert status == 0
    claims = decode(app.test_client(), out.strip(), CALENDAR)
    assert claims["iss"] == ISSUER
    assert claims["sub"] == "usr_456"
    assert claims["azp"] == "demo-spa"
    assert claims["scope"] == "read write"
    assert claims["permissions"] == ["read", "write"]
    assert claims["exp"] - claims["iat"] == 86400
    assert "gty" not in claims


def test_negative_expiry_mints_an_already_expired_token(
    cli_env: dict[str, str], app: Flask, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = run([*USER_READ, "--expires-in", "-60"], capsys)
    assert status == 0
    with pytest.raises(jwt.ExpiredSignatureError):
        decode(app.test_client(), out.strip(), CALENDAR)
    claims = jwt.decode(out.strip(), options={"verify_signature": False})
    assert claims["exp"] == claims["iat"] - 60


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["token", "user", "--user", "usr_999", "--audience", CALENDAR, "--scope", "read"],
            "unknown user 'usr_999'; users: usr_123, usr_456",
        ),
        (
            ["token", "user", "--user", "usr_123", "--audience", CALENDAR, "--scope", "admin"],
            "invalid_scope: https://api.example.com/calendar/v1/ does not define the scope admin",
        ),
        (
            [*USER_READ, "--client-id", "geo-backend"],
            "geo-backend signs no users in",
        ),
        (
            ["token", "client", "--client-id", "geo-backend", "--audience", CALENDAR],
            "access_denied: geo-backend has no client grant for",
        ),
        (
            ["token", "client", "--client-id", "nobody", "--audience", CALENDAR],
            "unknown client 'nobody'",
        ),
        (
            ["token", "client", "--client-id", "geo-backend", "--audience", "calendar"],
            "invalid_request: unknown audience 'calendar'",
        ),
    ],
)
def test_refusals_exit_2_with_a_message_and_no_token(
    cli_env: dict[str, str], capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    status, out, err = run(argv, capsys)
    assert status == 2
    assert out == ""
    assert err.startswith("dev-issuer: ") and message in err


def test_bad_tenant_file_is_reported_by_the_cli(
    cli_env: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    bad = tenant_with(tmp_path, '[[client_grants]]\nclient_id = "demo-spa"\naudience = "x"\n')
    monkeypatch.setenv("DEV_ISSUER_TENANT", str(bad))
    status, out, err = run(["rotate-keys"], capsys)
    assert status == 2 and out == ""
    assert f"{bad}: client_grants[2] 'demo-spa' -> 'x': 'scopes' is required" in err


def test_rotate_keys_publishes_both_keys(
    cli_env: dict[str, str], app: Flask, capsys: pytest.CaptureFixture[str]
) -> None:
    before = [key.key_id for key in jwks_of(app.test_client()).keys]
    status, out, _ = run(["rotate-keys", "--grace", "120"], capsys)
    assert status == 0
    new_kid = out.split("\n")[0].removeprefix("new signing key ")
    assert f"old key {before[0]} stays in the JWKS until " in out
    assert [key.key_id for key in jwks_of(app.test_client()).keys] == [new_kid, *before]


def test_forget_consent(
    cli_env: dict[str, str], app: Flask, capsys: pytest.CaptureFixture[str]
) -> None:
    store = app.extensions["dev_issuer"].store
    store.add_consent("usr_123", "demo-spa", CALENDAR, ["read"])
    store.add_consent("usr_456", "demo-spa", CALENDAR, ["read"])
    assert run(["forget-consent", "--user", "usr_123"], capsys)[1] == "forgot 1 consent record(s)\n"
    assert store.consented("usr_123", "demo-spa", CALENDAR) == frozenset()
    assert store.consented("usr_456", "demo-spa", CALENDAR) == {"read"}


def test_python_m_dev_issuer_in_a_real_process(cli_env: dict[str, str], app: Flask) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "dev_issuer", *USER_READ],
        cwd=ROOT,
        env={**os.environ, **cli_env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert decode(app.test_client(), result.stdout.strip(), CALENDAR)["sub"] == "usr_123"


def test_serve_starts_an_issuer_whose_url_follows_the_port(issuer_dir: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEV_ISSUER_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "dev_issuer", "serve", "--port", str(port)],
        cwd=ROOT,
        env={**env, "DEV_ISSUER_KEYS_DIR": str(issuer_dir)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        base = f"http://127.0.0.1:{port}/"
        deadline = time.monotonic() + 20
        while True:
            try:
                if requests.get(base + "healthz", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            assert time.monotonic() < deadline, "serve did not answer in 20 s"
            time.sleep(0.1)
        doc = requests.get(base + ".well-known/openid-configuration", timeout=5).json()
        assert doc["issuer"] == base
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stderr:
            process.stderr.close()


def test_a_moved_port_moves_the_issuer_of_minted_tokens(
    issuer_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``DEV_ISSUER_PORT=9100`` alone: the CLI's tokens say ``iss`` 9100, as the server's do."""
    monkeypatch.setenv("DEV_ISSUER_KEYS_DIR", str(issuer_dir))
    monkeypatch.setenv("DEV_ISSUER_PORT", "9100")
    status, out, _ = run(USER_READ, capsys)
    assert status == 0
    claims = jwt.decode(out.strip(), options={"verify_signature": False})
    assert claims["iss"] == "http://127.0.0.1:9100/"
