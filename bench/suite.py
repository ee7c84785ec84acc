"""The suite for benchmarks: each service under gunicorn with exactly the arguments ``make run``
uses (``scripts/run_suite.py``'s table), on free loopback ports, in a private folder.

Also: tokens minted by the dev issuer's own token service (distinct, with their own ``jti``),
the CPU time a gunicorn's workers have used, and their resident memory, for figures that hold
on a shared machine.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
HOST = "127.0.0.1"
CAL_AUD = "https://api.example.com/calendar/v1/"
GEO_AUD = "https://api.example.com/geocoding/v1/"
_TICKS = os.sysconf("SC_CLK_TCK")


def _run_suite() -> Any:
    spec = importlib.util.spec_from_file_location("run_suite", ROOT / "scripts" / "run_suite.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["run_suite"] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


RUN_SUITE = _run_suite()
SERVICES = {service.name: service for service in RUN_SUITE.SERVICES}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    """One gunicorn: its URL and master process."""

    name: str
    url: str
    process: subprocess.Popen[bytes]

    def workers(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()]

    def cpu_seconds(self) -> dict[int, float]:
        """User + system CPU each worker has used so far."""
        used = {}
        for pid in self.workers():
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            used[pid] = (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime
        return used

    def rss_mib(self) -> dict[int, float]:
        """Resident memory of each worker."""
        sizes = {}
        for pid in self.workers():
            pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
            sizes[pid] = pages * os.sysconf("SC_PAGE_SIZE") / 2**20
        return sizes


@dataclass
class Suite:
    """A private folder, the issuer, and the environment every service of this run shares."""

    folder: Path
    env: dict[str, str] = field(default_factory=dict)
    servers: list[Server] = field(default_factory=list)

    def start(
        self,
        service: str,
        *,
        port: int | None = None,
        wsgi: str | None = None,
        extra: dict[str, str] | None = None,
    ) -> Server:
        """``service`` as ``make run`` starts it (or ``wsgi`` instead of its entry point)."""
        spec = SERVICES[service]
        port = port or free_port()
        metrics = self.folder / f"metrics-{service}-{port}"
        metrics.mkdir(mode=0o700)
        env = {**self.env, **(extra or {}), "PROMETHEUS_MULTIPROC_DIR": str(metrics)}
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "--config",
            "python:service_kit.gunicorn_conf",
            "--bind",
            f"{HOST}:{port}",
            "--graceful-timeout",
            "5",
            "--log-level",
            "warning",
            "--pythonpath",
            str(ROOT / "bench"),
            *spec.gunicorn_args,
            wsgi or spec.wsgi,
        ]
        log = (self.folder / f"{service}-{port}.log").open("wb")
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
        server = Server(service, f"http://{HOST}:{port}", process)
        self.servers.append(server)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"{service} exited; see {log.name}")
            try:
                if requests.get(server.url + spec.health_path, timeout=2).status_code == 200:
                    return server
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"{service} did not become ready")

    def stop(self, server: Server) -> None:
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.process.kill()
        self.servers.remove(server)

    def issuer_app(self) -> Any:
        """The dev issuer's app in this process, sharing the running issuer's keys."""
        from dev_issuer import create_app

        return create_app(
            {key: value for key, value in self.env.items() if key.startswith("DEV_ISSUER")}
        )


@contextmanager
def suite(folder: Path) -> Iterator[Suite]:
    """The issuer running, every service pointed at it; everything stopped afterwards."""
    folder.mkdir(mode=0o700, exist_ok=True)
    issuer_port = free_port()
    issuer = f"http://{HOST}:{issuer_port}/"
    running = Suite(folder)
    running.env = {
        **os.environ,
        "DEV_ISSUER_URL": issuer,
        "AUTH_ISSUER": issuer,
        "DEV_ISSUER_KEYS_DIR": str(folder / "keys"),
        "DATABASE_URL": f"sqlite:///{folder / 'calendar.sqlite3'}",
        "PYTHONUNBUFFERED": "1",
    }
    running.env.pop("REDIS_URL", None)
    for name in ("CALENDAR_RATE_LIMIT", "GEOCODING_RATE_LIMIT", "AUTH_TOKEN_CACHE_SIZE"):
        running.env.pop(name, None)
    try:
        running.start("dev_issuer", port=issuer_port)
        yield running
    finally:
        for server in list(running.servers):
            running.stop(server)


def mint_user_tokens(app: Any, count: int, audience: str = CAL_AUD) -> list[str]:
    """``count`` distinct tokens for usr_123 (read write) from the dev issuer's token service."""
    from dev_issuer.context import issuer_context, token_service
    from dev_issuer.tokens import resolve_target

    with app.app_context():
        tenant = issuer_context(app).tenant
        service = token_service(app)
        target = resolve_target(tenant, audience, None)
        user, client = tenant.users["usr_123"], tenant.clients["demo-spa"]
        scopes = tuple(s for s in ("read", "write") if s in target.api.scopes)
        return [
            service.for_user(user, client, target, scopes, 3600).access_token for _ in range(count)
        ]


def mint_client_tokens(app: Any, count: int, audience: str = GEO_AUD) -> list[str]:
    """``count`` distinct client-credentials tokens for geo-backend."""
    from dev_issuer.context import issuer_context, token_service
    from dev_issuer.tokens import resolve_target

    with app.app_context():
        tenant = issuer_context(app).tenant
        service = token_service(app)
        target = resolve_target(tenant, audience, None)
        client = tenant.clients["geo-backend"]
        return [
            service.client_credentials(client, target, None, 3600).access_token
            for _ in range(count)
        ]
