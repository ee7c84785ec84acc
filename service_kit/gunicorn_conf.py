"""gunicorn settings every service shares: ``gunicorn -c python:service_kit.gunicorn_conf``.

prometheus-client's multiprocess mode keeps each worker's values in files; when a worker
exits, its live gauges must be dropped, or ``/metrics`` would report a dead process.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import multiprocess


def child_exit(server: Any, worker: Any) -> None:
    multiprocess.mark_process_dead(worker.pid)
