"""The house rules about shape, checked on the source: layers, module size, routes at top level.

The README's architecture picture says which package may import which; these tests read every
module's imports (with ``ast``, nothing is executed) and fail on an arrow the picture does
not have.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SERVICES = ("calendar_api", "geocoding_api", "dev_issuer", "examples")
PACKAGES = ("shared_auth", "service_kit", *SERVICES)
MAX_LINES = 300

# What each layer may import, beyond the standard library.
CORE = {"jwt", "cryptography", "requests", "urllib3", "blinker", "redis"}
ALLOWED = {
    "shared_auth": CORE,
    "shared_auth.flask": CORE | {"flask", "marshmallow", "shared_auth"},
    "service_kit": CORE
    | {"flask", "flask_smorest", "flask_cors", "marshmallow", "webargs", "werkzeug"}
    | {"prometheus_client", "pythonjsonlogger", "swagger_ui_bundle", "shared_auth"}
    | {"flask_limiter", "limits"},
}
OURS = set(PACKAGES)


def modules(package: str) -> list[Path]:
    return sorted(p for p in (ROOT / package).rglob("*.py") if "__pycache__" not in p.parts)


def imported(path: Path) -> set[str]:
    """Top-level names of every absolute import (relative imports stay inside the package)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def layer(path: Path) -> str:
    relative = path.relative_to(ROOT)
    if relative.parts[0] == "shared_auth" and relative.name in ("flask.py", "flask_openapi.py"):
        return "shared_auth.flask"
    return relative.parts[0]


@pytest.mark.parametrize("package", PACKAGES)
def test_each_package_imports_only_what_its_layer_allows(package: str) -> None:
    stdlib = sys.stdlib_module_names
    for path in modules(package):
        allowed = ALLOWED.get(layer(path))
        for name in imported(path):
            top = name.split(".")[0]
            if top in stdlib or top == "__future__":
                continue
            if allowed is not None:
                ok = top in allowed or (top == "shared_auth" and name != "shared_auth.flask")
                ok = ok or name in allowed
                assert ok, f"{path.relative_to(ROOT)} imports {name}"
            else:  # a service: the kit and auth, its own package, libraries; never another service
                assert top not in OURS - {"shared_auth", "service_kit", package}, (
                    f"{path.relative_to(ROOT)} imports another service: {name}"
                )


def test_importing_the_auth_core_imports_no_web_framework() -> None:
    code = (
        "import sys, shared_auth\n"
        "loaded = {m.split('.')[0] for m in sys.modules}\n"
        "assert not loaded & {'flask', 'werkzeug', 'marshmallow', 'flask_smorest'}, loaded"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


@pytest.mark.parametrize("package", PACKAGES)
def test_no_module_is_over_300_non_blank_lines(package: str) -> None:
    for path in modules(package):
        lines = [line for line in path.read_text().splitlines() if line.strip()]
        assert len(lines) <= MAX_LINES, f"{path.relative_to(ROOT)}: {len(lines)} lines; split it"


ROUTE_DECORATORS = {"route", "get", "post", "put", "patch", "delete"}


@pytest.mark.parametrize("package", PACKAGES)
def test_no_view_is_defined_inside_a_function(package: str) -> None:
    """Routes live at module level under declarative decorators, not in factory closures."""
    for path in modules(package):
        for outer in ast.walk(ast.parse(path.read_text())):
            if not isinstance(outer, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for inner in ast.walk(outer):
                if inner is outer:
                    continue
                if isinstance(inner, ast.ClassDef) and any(
                    getattr(base, "id", getattr(base, "attr", "")) == "MethodView"
                    for base in inner.bases
                ):
                    pytest.fail(f"{path.relative_to(ROOT)}: MethodView {inner.name} in a function")
                if isinstance(inner, ast.FunctionDef) and any(
                    isinstance(d, ast.Call)
                    and isinstance(d.func, ast.Attribute)
                    and d.func.attr in ROUTE_DECORATORS
                    for d in inner.decorator_list
                ):
                    pytest.fail(f"{path.relative_to(ROOT)}: view {inner.name} in {outer.name}")
