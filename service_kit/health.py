"""``/healthz`` and ``/readyz`` for process managers and load balancers (no token needed).

``/healthz`` only says the process answers. ``/readyz`` runs the service's named checks (the
issuer's signing keys, the database, the place index) and answers 200 when all pass, else
503 naming each failure. A check is a function that returns ``None`` when all is well or a
sentence saying what is wrong; an exception counts as a failure, reported by its type only,
so a check never leaks a URL, a password or a token into the answer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from flask import current_app
from flask.views import MethodView
from marshmallow import Schema, fields

from .parsing import Blueprint

log = logging.getLogger("service_kit.health")
Check = Callable[[], "str | None"]
CHECKS = "service_kit.checks"
_NO_STORE = {"Cache-Control": "no-store"}

blp = Blueprint("health", __name__, description="Liveness and readiness probes (no token)")


class HealthSchema(Schema):
    status = fields.String(required=True, metadata={"example": "ok"})


class ReadinessSchema(Schema):
    status = fields.String(required=True, metadata={"example": "ready"})
    checks = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        required=True,
        metadata={"example": {"signing_keys": "ok", "database": "ok"}},
    )


@blp.route("/healthz")
class Health(MethodView):
    @blp.response(200, HealthSchema, headers={"Cache-Control": {"schema": {"type": "string"}}})
    def get(self) -> Any:
        """Liveness: the process is up"""
        return {"status": "ok"}, _NO_STORE


@blp.route("/readyz")
class Ready(MethodView):
    @blp.response(200, ReadinessSchema)
    @blp.alt_response(503, schema=ReadinessSchema, description="A check failed")
    def get(self) -> Any:
        """Readiness: every named check passes"""
        results = {name: run_check(name, check) for name, check in checks().items()}
        ready = all(result == "ok" for result in results.values())
        body = {"status": "ready" if ready else "unavailable", "checks": results}
        return body, 200 if ready else 503, _NO_STORE


def checks() -> Mapping[str, Check]:
    return current_app.extensions.get(CHECKS, {})


def run_check(name: str, check: Check) -> str:
    try:
        problem = check()
    except Exception as exc:  # a check that breaks is a failed check, not a 500
        log.warning("readiness check failed", extra={"check": name, "error": type(exc).__name__})
        return f"failed: {type(exc).__name__}"
    return "ok" if problem is None else f"failed: {problem}"
