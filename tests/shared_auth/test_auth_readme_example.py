"""The README's "Copying shared_auth" example works as printed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_example() -> str:
    section = README.read_text().split("## Copying `shared_auth`", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match, "the README lost its shared_auth example"
    return match.group(1)


def test_readme_example_protects_a_route(
    tokens, jwks_server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUTH_ISSUER", jwks_server.issuer)
    namespace: dict[str, object] = {"__name__": "readme_example"}
    exec(compile(readme_example(), "README.md", "exec"), namespace)  # noqa: S102
    client = namespace["app"].test_client()  # type: ignore[attr-defined]
    audience = "https://api.example.com/orders/"

    assert client.get("/orders/").status_code == 401
    wrong_scope = tokens.mint(aud=audience, scope="orders:write")
    denied = client.get("/orders/", headers={"Authorization": f"Bearer {wrong_scope}"})
    assert denied.status_code == 403
    assert 'scope="orders:read"' in denied.headers["WWW-Authenticate"]
    token = tokens.mint(aud=audience, scope="orders:read")
    ok = client.get("/orders/", headers={"Authorization": f"Bearer {token}"})
    assert ok.status_code == 200 and ok.get_json() == {"owner": "usr_123"}
