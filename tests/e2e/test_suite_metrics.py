"""Metrics under gunicorn as `make run` starts it: every worker's counts, whichever answers."""

from __future__ import annotations

import re
from typing import Any

import requests

REQUESTS = 40


def healthz_count(base: str, service: str) -> float:
    text = requests.get(f"{base}/metrics", timeout=10).text
    pattern = (
        r'http_requests_total\{method="GET",route="/healthz",'
        rf'service="{service}",status="200"\}} ([0-9.e+]+)'
    )
    match = re.search(pattern, text)
    return float(match.group(1)) if match else 0.0


def test_metrics_sum_all_workers(suite: Any) -> None:
    for base, service in ((suite.calendar, "calendar"), (suite.geocoding, "geocoding")):
        before = healthz_count(base, service)
        with requests.Session() as http:  # keep-alive off: spread over both workers
            for _ in range(REQUESTS):
                assert http.get(f"{base}/healthz", headers={"Connection": "close"}).ok
        assert healthz_count(base, service) - before == REQUESTS
        text = requests.get(f"{base}/metrics", timeout=10).text
        assert len(set(re.findall(r'jwks_keys\{pid="(\d+)"\}', text))) >= 1
