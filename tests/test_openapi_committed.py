"""The committed OpenAPI documents are exactly what the apps generate (`make openapi`)."""

from __future__ import annotations

import json
import runpy
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
generator = runpy.run_path(str(ROOT / "scripts" / "generate_openapi.py"))


@pytest.mark.parametrize("name", ["calendar", "geocoding"])
def test_committed_spec_matches_the_app(name: str) -> None:
    committed = ROOT / "openapi" / f"{name}.json"
    assert committed.exists(), f"openapi/{name}.json is missing: run `make openapi`"
    assert committed.read_text() == generator["render"](name), (
        f"openapi/{name}.json is out of date: run `make openapi` and commit the result"
    )


@pytest.mark.parametrize("name", ["calendar", "geocoding"])
def test_every_operation_documents_security_and_auth_errors(name: str) -> None:
    spec = json.loads((ROOT / "openapi" / f"{name}.json").read_text())
    schemes = spec["components"]["securitySchemes"]
    assert schemes["bearerAuth"]["scheme"] == "bearer"
    assert schemes["oauth2"]["flows"]
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method == "parameters" or path.endswith(("healthz", "readyz")):
                continue
            where = f"{method.upper()} {path}"
            assert operation.get("security"), f"{where} documents no security"
            for status in ("401", "403", "503"):
                assert status in operation["responses"], f"{where} lacks {status}"
