"""`make run`: start the dev issuer and both APIs under gunicorn, wait until they answer, print
how to call them, and stop all three on Ctrl-C.

Every setting is an environment variable with a default (see README, "Configuration");
the APIs are pointed at the local issuer unless AUTH_ISSUER says otherwise.
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
HOST = os.environ.get("SUITE_HOST", "127.0.0.1")
READY_TIMEOUT = float(os.environ.get("SUITE_READY_TIMEOUT", "90"))


@dataclass(frozen=True)
class Service:
    name: str
    port_var: str
    default_port: int
    wsgi: str
    health_path: str
    gunicorn_args: tuple[str, ...]

    @property
    def port(self) -> int:
        raw = os.environ.get(self.port_var, str(self.default_port))
        try:
            return int(raw)
        except ValueError:
            sys.exit(f"{self.port_var}={raw!r} is not a port number")

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"


SERVICES = (
    # --preload: the signing key is created once, before the workers fork.
    Service(
        "dev_issuer",
        "DEV_ISSUER_PORT",
        8000,
        "dev_issuer.wsgi:app",
        "/healthz",
        ("--workers", "2", "--threads", "4", "--preload"),
    ),
    Service(
        "calendar_api",
        "CALENDAR_PORT",
        8001,
        "calendar_api.wsgi:app",
        "/readyz",
        ("--workers", "2", "--threads", "4"),
    ),
    # --preload: the place index is loaded once and shared copy-on-write by the workers.
    Service(
        "geocoding_api",
        "GEOCODING_PORT",
        8002,
        "geocoding_api.wsgi:app",
        "/readyz",
        ("--workers", "2", "--threads", "4", "--preload"),
    ),
)


def check_port_free(service: Service) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, service.port))
        except OSError:
            sys.exit(
                f"Port {service.port} on {HOST} is already in use, so {service.name} cannot "
                f"start. Stop whatever uses it, or choose another port: "
                f"{service.port_var}=<port> make run"
            )


def service_env(services: tuple[Service, ...], private: Path) -> dict[str, str]:
    """Point the APIs and the demo at the local issuer, wherever the ports put it.

    ``private`` is this run's own folder (mode 0700) for files the services read.
    """
    issuer, calendar, geocoding = services
    env = dict(os.environ)
    env.setdefault("DEV_ISSUER_URL", f"{issuer.url}/")
    env.setdefault("AUTH_ISSUER", f"{issuer.url}/")
    env.setdefault("CALENDAR_CORS_ORIGINS", issuer.url)
    env.setdefault("CALENDAR_PUBLIC_URL", f"{calendar.url}/calendar/v1/")
    env.setdefault("GEOCODING_PUBLIC_URL", f"{geocoding.url}/geocoding/v1/")
    env.setdefault("DEV_ISSUER_DEMO_CALENDAR_URL", calendar.url)
    env.setdefault("PYTHONUNBUFFERED", "1")
    moved = any(s.port != s.default_port for s in services)
    if moved and "DEV_ISSUER_TENANT" not in env:
        env["DEV_ISSUER_TENANT"] = str(tenant_for_ports(services, private))
    return env


def tenant_for_ports(services: tuple[Service, ...], folder: Path) -> Path:
    """The default tenant with every local URL moved to the ports in use (callbacks and
    resource identifiers match exactly), written into ``folder``, which only we can write:
    a predictable /tmp path could be a link planted by another user."""
    text = (ROOT / "dev_issuer" / "tenant.toml").read_text()
    for service in services:
        for host in ("127.0.0.1", "localhost"):
            text = text.replace(
                f"http://{host}:{service.default_port}/", f"http://{host}:{service.port}/"
            )
    path = folder / "tenant.toml"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(text)
    return path


def start(service: Service, env: dict[str, str], private: Path) -> subprocess.Popen[bytes]:
    """gunicorn for one service, its metrics shared by its workers in a fresh folder."""
    metrics = private / f"metrics-{service.name}"
    metrics.mkdir(mode=0o700)
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--config",
        "python:service_kit.gunicorn_conf",
        "--bind",
        f"{HOST}:{service.port}",
        "--graceful-timeout",
        "5",
        "--log-level",
        "warning",
        *service.gunicorn_args,
        service.wsgi,
    ]
    env = {**env, "PROMETHEUS_MULTIPROC_DIR": str(metrics)}
    return subprocess.Popen(command, cwd=ROOT, env=env)  # noqa: S603


def wait_ready(service: Service, process: subprocess.Popen[bytes], deadline: float) -> None:
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{service.name} exited with status {process.returncode}")
        try:
            if requests.get(service.url + service.health_path, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{service.name} did not answer {service.health_path} in time")


def issuer_cli_env(env: dict[str, str]) -> str:
    """What ``dev_issuer token`` needs, in another shell, to mint for this issuer: its URL
    (the ``iss``) and, when moved, its keys and tenant. Empty when all are the defaults."""
    names = ("DEV_ISSUER_URL", "DEV_ISSUER_KEYS_DIR", "DEV_ISSUER_TENANT")
    defaults = {"DEV_ISSUER_URL": f"http://{HOST}:8000/"}
    moved = [
        f"{n}={shlex.quote(env[n])}"
        for n in names
        if env.get(n, defaults.get(n)) != defaults.get(n)
    ]
    return " ".join(moved) + " " if moved else ""


def banner(issuer: str, calendar: str, geocoding: str, cli_env: str = "") -> str:
    return f"""
Ready.
  dev issuer     {issuer}/      discovery: {issuer}/.well-known/openid-configuration
  calendar API   {calendar}/calendar/v1/events   docs: {calendar}/docs
  geocoding API  {geocoding}/geocoding/v1/reverse docs: {geocoding}/docs
  browser demo   {issuer}/demo/

Machine-to-machine (client credentials) -> geocoding:
  GEO_TOKEN=$(curl -s {issuer}/oauth/token -H 'content-type: application/json' \\
    -d '{{"grant_type":"client_credentials","client_id":"geo-backend",
         "client_secret":"geo-backend-secret",
         "audience":"https://api.example.com/geocoding/v1/"}}' \\
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
  curl -s "{geocoding}/geocoding/v1/reverse?lat=37.3861&lon=-122.0839" \\
    -H "Authorization: Bearer $GEO_TOKEN"

User token (minted locally for usr_123) -> calendar:
  CAL_TOKEN=$({cli_env}.venv/bin/python -m dev_issuer token user --user usr_123 \\
    --audience https://api.example.com/calendar/v1/ --scope 'read write')
  curl -s {calendar}/calendar/v1/events -H "Authorization: Bearer $CAL_TOKEN"

Press Ctrl-C to stop all three.
"""


def main() -> int:
    for service in SERVICES:
        check_port_free(service)
    private = Path(tempfile.mkdtemp(prefix="resource-servers-"))  # mode 0700, unpredictable
    env = service_env(SERVICES, private)
    processes: list[subprocess.Popen[bytes]] = []

    def stop(*_: object) -> None:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()

    # Ctrl-C and SIGTERM both stop the suite, even when started with SIGINT ignored
    # (as background jobs of a non-interactive shell are).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        deadline = time.monotonic() + READY_TIMEOUT
        for service in SERVICES:
            processes.append(start(service, env, private))
        for service, process in zip(SERVICES, processes, strict=True):
            wait_ready(service, process, deadline)
        print(banner(*(s.url for s in SERVICES), issuer_cli_env(env)), flush=True)
        while all(process.poll() is None for process in processes):
            time.sleep(0.5)
        failed = next(
            s.name for s, p in zip(SERVICES, processes, strict=True) if p.poll() is not None
        )
        print(f"{failed} stopped unexpectedly; stopping the others.", file=sys.stderr)
        return 1
    except RuntimeError as exc:
        print(f"Could not start the suite: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nStopping...", file=sys.stderr)
        return 0
    finally:
        stop()
        shutil.rmtree(private, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
