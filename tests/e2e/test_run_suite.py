"""`make run`'s runner refuses a busy port with a message a person can act on."""

from __future__ import annotations

import importlib.util
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
from pathlib import Path
from types import ModuleType

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


def load_runner() -> ModuleType:
    spec = importlib.util.spec_from_file_location("run_suite", ROOT / "scripts" / "run_suite.py")
    assert spec and spec.loader
    runner = importlib.util.module_from_spec(spec)
    sys.modules["run_suite"] = runner  # dataclasses look their module up there
    spec.loader.exec_module(runner)
    return runner


def test_a_port_adjusted_tenant_is_written_into_a_private_folder(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Never a predictable /tmp path (another user could plant a link there): a folder of
    mkdtemp's, mode 0700, and the file created exclusively, mode 0600."""
    monkeypatch.delenv("DEV_ISSUER_TENANT", raising=False)
    monkeypatch.setenv("DEV_ISSUER_PORT", "9100")
    monkeypatch.setenv("CALENDAR_PORT", "9101")
    runner = load_runner()
    private = Path(tempfile.mkdtemp(prefix="resource-servers-"))
    try:
        tenant = Path(runner.service_env(runner.SERVICES, private)["DEV_ISSUER_TENANT"])
        assert tenant.parent == private
        assert stat.S_IMODE(private.stat().st_mode) == 0o700
        assert stat.S_IMODE(tenant.stat().st_mode) == 0o600
        text = tenant.read_text()
        assert "http://127.0.0.1:9100/demo/" in text
        assert "http://127.0.0.1:9101/docs/oauth2-redirect.html" in text
        assert "http://127.0.0.1:8000/" not in text
        assert not list(Path(tempfile.gettempdir()).glob("dev-issuer-tenant-port-*"))
        with pytest.raises(FileExistsError):  # exclusive: an existing file is never reused
            runner.tenant_for_ports(runner.SERVICES, private)
    finally:
        shutil.rmtree(private)
