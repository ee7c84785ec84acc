"""Prometheus metrics at ``/metrics`` (``prometheus-client``), the same in every service.

* ``http_requests_total{service,route,method,status}`` and the latency histogram
  ``http_request_duration_seconds{service,route,method}``; ``route`` is the URL rule
  (``/calendar/v1/events/<event_id>``), never the raw path, so ids cannot blow up the series.
* ``auth_rejections_total{service,error,reason}``: the RFC 6750 error (``missing_token`` when
  none was sent) and the check that failed (``expired``, ``bad_aud``, ``unknown_kid``...).
* ``jwks_fetches_total{outcome}``, ``jwks_keys`` (keys cached, per process) and
  ``jwks_last_success_timestamp_seconds``, from ``shared_auth``'s ``jwks_fetched`` signal.

Under gunicorn each worker is a process with its own counters; with
``PROMETHEUS_MULTIPROC_DIR`` set (``make run`` does, one fresh folder per service), every
worker writes its values there and ``/metrics`` sums them, whichever worker answers.
``service_kit.gunicorn_conf`` tells prometheus-client when a worker exits. ``{PREFIX}_METRICS
=false`` removes the endpoint and the per-request recording.
"""

from __future__ import annotations

import os
import time
from typing import Any

from flask import Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

from shared_auth.signals import jwks_fetched, token_rejected

MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"
METRICS_PATH = "/metrics"
UNMATCHED = "<unmatched>"
EXTENSION = "service_kit.metrics"

REQUESTS = Counter(
    "http_requests_total", "HTTP requests answered", ["service", "route", "method", "status"]
)
LATENCY = Histogram(
    "http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["service", "route", "method"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
REJECTIONS = Counter(
    "auth_rejections_total", "Requests refused by token checks", ["service", "error", "reason"]
)
JWKS_FETCHES = Counter("jwks_fetches_total", "Fetches of the issuer's key set", ["outcome"])
JWKS_KEYS = Gauge("jwks_keys", "Signing keys in the cache", multiprocess_mode="liveall")
JWKS_LAST_SUCCESS = Gauge(
    "jwks_last_success_timestamp_seconds",
    "When the key set was last fetched successfully",
    multiprocess_mode="max",
)


def init_metrics(app: Flask, service: str) -> None:
    """Record every request of ``app`` under ``service`` and serve ``/metrics``."""

    @app.before_request
    def _start() -> None:
        g.metrics_started = time.perf_counter()

    @app.after_request
    def _record(response: Response) -> Response:
        route = request.url_rule.rule if request.url_rule is not None else UNMATCHED
        started = g.get("metrics_started", time.perf_counter())
        REQUESTS.labels(service, route, request.method, str(response.status_code)).inc()
        LATENCY.labels(service, route, request.method).observe(time.perf_counter() - started)
        return response

    app.extensions[EXTENSION] = service
    token_rejected.connect(_rejected, sender=app)
    app.add_url_rule(METRICS_PATH, "metrics", _metrics, methods=["GET"])


def _rejected(app: Flask, error: Any) -> None:
    REJECTIONS.labels(app.extensions[EXTENSION], error.error or "missing_token", error.reason).inc()


def _metrics() -> Response:
    if os.environ.get(MULTIPROC_DIR):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)


@jwks_fetched.connect
def _jwks_fetched(_cache: Any, outcome: str, keys: int, seconds: float) -> None:
    JWKS_FETCHES.labels(outcome).inc()
    JWKS_KEYS.set(keys)
    if outcome == "ok":
        JWKS_LAST_SUCCESS.set(time.time())
