"""RFC 9728 protected-resource metadata, and every challenge pointing at it, in every API."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from kit_profiles import Profile

WELL_KNOWN = "/.well-known/oauth-protected-resource"


def api(service: Profile) -> Profile:
    if service.resource is None:
        pytest.skip("the issuer is no protected resource")
    return service


def test_metadata_is_served_at_the_path_inserted_url(service: Profile, jwks_server) -> None:
    service = api(service)
    client = service.make().test_client()
    resource = service.resource or ""
    path = WELL_KNOWN + urlsplit(resource).path
    for url in (path, path.rstrip("/")):  # with and without the trailing slash
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == "public, max-age=3600"
        document = response.get_json()
        assert document["resource"] == resource  # identical, section 3.3
        assert document["authorization_servers"] == [jwks_server.issuer]
        assert document["scopes_supported"] == list(service.scopes)
        assert document["bearer_methods_supported"] == ["header", "body"]
        origin = f"{urlsplit(resource).scheme}://{urlsplit(resource).netloc}"
        assert document["resource_documentation"] == f"{origin}/docs"
        assert document["dpop_signing_alg_values_supported"] == ["ES256", "EdDSA", "RS256", "PS256"]
        assert document["dpop_bound_access_tokens_required"] is False


def test_the_resource_never_comes_from_the_host_header(service: Profile) -> None:
    service = api(service)
    path = WELL_KNOWN + urlsplit(service.resource or "").path
    document = service.make().test_client().get(path, headers={"Host": "evil.example"}).get_json()
    assert document["resource"] == service.resource


def test_every_401_and_403_names_the_metadata(service: Profile) -> None:
    service = api(service)
    client = service.make().test_client()
    resource = urlsplit(service.resource or "")
    url = f"{resource.scheme}://{resource.netloc}{WELL_KNOWN}{resource.path}"
    mint = service.mint or (lambda **_: "")
    answers = {
        "missing": client.get(service.protected),
        "invalid": client.get(service.protected, headers={"Authorization": "Bearer a.b.c"}),
        "scope": client.get(
            service.protected, headers={"Authorization": f"Bearer {mint(scope='none')}"}
        ),
    }
    assert [r.status_code for r in answers.values()] == [401, 401, 403]
    for name, response in answers.items():
        challenge = response.headers["WWW-Authenticate"]
        assert challenge.count(f'resource_metadata="{url}"') == 2, (name, challenge)  # both schemes
    assert f'scope="{service.scopes[0]}"' in answers["missing"].headers["WWW-Authenticate"]
    assert "error=" not in answers["missing"].headers["WWW-Authenticate"]
