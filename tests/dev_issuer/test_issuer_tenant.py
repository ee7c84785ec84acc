"""The tenant file: the default content, and bad files failing with a message that says where."""

from __future__ import annotations

from pathlib import Path

import pytest
from issuer_testkit import CALENDAR, GEOCODING

from dev_issuer import create_app
from dev_issuer.tenant import DEFAULT_TENANT_FILE, TenantError
from dev_issuer.tenant_file import load_tenant

DEFAULT = DEFAULT_TENANT_FILE.read_text()


def test_default_tenant_matches_the_agreed_interfaces() -> None:
    tenant = load_tenant()
    calendar, geocoding = tenant.apis[CALENDAR], tenant.apis[GEOCODING]
    assert list(calendar.scopes) == ["read", "write"] and calendar.rbac
    assert list(geocoding.scopes) == ["geocode"] and not geocoding.rbac
    assert calendar.token_lifetime == geocoding.token_lifetime == 86400

    spa = tenant.clients["demo-spa"]
    assert spa.is_public and not spa.first_party
    assert spa.grants == {"implicit", "authorization_code"}
    assert spa.callbacks == ("http://127.0.0.1:8000/demo/", "http://localhost:8000/demo/")
    assert tenant.clients["first-party-spa"].first_party
    assert tenant.clients["first-party-spa"].callbacks == spa.callbacks
    assert tenant.clients["geo-backend"].secret == "geo-backend-secret"
    assert tenant.clients["calendar-batch"].secret == "calendar-batch-secret"
    assert tenant.client_grants[("geo-backend", GEOCODING)].scopes == ("geocode",)
    assert tenant.client_grants[("calendar-batch", CALENDAR)].scopes == ("read",)
    assert set(tenant.users) == {"usr_123", "usr_456"}
    assert all(u.name and "@" in u.email for u in tenant.users.values())


# Each case edits the default file and names the message it must produce (after "FILE: ").
BAD_TENANTS = [
    (
        'client_secret = "calendar-batch-secret"\ngrants = ["client_credentials"]',
        'client_secret = "calendar-batch-secret"\ngrants = ["foo"]',
        "clients[3] 'calendar-batch': unknown grant 'foo' (use authorization_code, implicit, "
        "client_credentials)",
    ),
    (
        'client_id = "first-party-spa"',
        'client_id = "demo-spa"',
        "clients[1] 'demo-spa': defined twice",
    ),
    (
        'audience = "https://api.example.com/geocoding/v1/"\nscopes = ["geocode"]',
        'audience = "https://api.example.com/geocoding/v1/"\nscopes = ["geocode", "admin"]',
        "client_grants[0] 'geo-backend' -> 'https://api.example.com/geocoding/v1/': scope "
        "'admin' is not defined by 'https://api.example.com/geocoding/v1/' (it defines geocode)",
    ),
    (
        'client_id = "geo-backend"\naudience',
        'client_id = "geo-backnd"\naudience',
        "client_grants[0] 'geo-backnd' -> 'https://api.example.com/geocoding/v1/': "
        "unknown client 'geo-backnd'",
    ),
    (
        'type = "spa"\ngrants = ["implicit", "authorization_code"]\ncallbacks',
        'type = "spa"\nclient_secret = "s3cret"\ngrants = ["implicit", "authorization_code"]\n'
        "callbacks",
        "clients[0] 'demo-spa': a spa is a public client and must not have a client_secret",
    ),
    (
        '"http://127.0.0.1:8000/demo/", "http://localhost:8000/demo/"]\n\n[[clients]]\n'
        'client_id = "first-party-spa"',
        '"http://127.0.0.1:8000/demo/#x"]\n\n[[clients]]\nclient_id = "first-party-spa"',
        "clients[0] 'demo-spa': callback 'http://127.0.0.1:8000/demo/#x' must not have a "
        "#fragment (RFC 6749 section 3.1.2)",
    ),
    (
        'name = "Calendar API"\n',
        'name = "Calendar API"\nlifetime = 3600\n',
        "apis[0] 'https://api.example.com/calendar/v1/': unknown key 'lifetime'",
    ),
    (
        "token_lifetime = 86400\nrbac = true",
        "token_lifetime = -5\nrbac = true",
        "apis[0] 'https://api.example.com/calendar/v1/': 'token_lifetime' must be a whole "
        "number from 1 to 2592000",
    ),
    (
        '"https://api.example.com/calendar/v1/" = ["read", "write"]\n\n[[users]]',
        '"https://api.example.com/geocoding/v1/" = ["geocode"]\n\n[[users]]',
        "users[0] 'usr_123': permissions for 'https://api.example.com/geocoding/v1/', which "
        "does not enable rbac",
    ),
    ('user_id = "usr_456"', 'user_id = "usr_123"', "users[1] 'usr_123': defined twice"),
    ('email = "grace@example.com"', "", "users[1] 'usr_456': 'email' is required"),
    ("[[apis]]", 'colour = "blue"\n[[apis]]', "top level: unknown key 'colour'"),
]


@pytest.mark.parametrize(("old", "new", "message"), BAD_TENANTS)
def test_bad_tenant_fails_naming_file_entry_and_problem(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    assert old in DEFAULT, f"test case out of date: {old!r}"
    path = tmp_path / "tenant.toml"
    path.write_text(DEFAULT.replace(old, new, 1))
    with pytest.raises(TenantError) as caught:
        load_tenant(path)
    assert str(caught.value) == f"{path}: {message}"


def test_toml_syntax_error_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "tenant.toml"
    path.write_text(DEFAULT + "\n[[clients]\n")
    with pytest.raises(TenantError, match=rf"^{path}: not valid TOML: .*line \d+"):
        load_tenant(path)


def test_missing_file_names_the_setting(tmp_path: Path) -> None:
    path = tmp_path / "absent.toml"
    with pytest.raises(TenantError, match=r"absent\.toml: file not found .*DEV_ISSUER_TENANT"):
        load_tenant(path)


def test_create_app_reads_the_file_named_by_the_environment(
    tmp_path: Path, issuer_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "tenant.toml"
    path.write_text(DEFAULT.replace('user_id = "usr_456"', 'user_id = "usr_789"'))
    monkeypatch.setenv("DEV_ISSUER_TENANT", str(path))
    app = create_app({"DEV_ISSUER_KEYS_DIR": str(issuer_dir)})
    assert set(app.extensions["dev_issuer"].tenant.users) == {"usr_123", "usr_789"}

    path.write_text(DEFAULT.replace('type = "m2m"', 'type = "robot"', 1))
    with pytest.raises(TenantError, match=r"clients\[2\] 'geo-backend': unknown type 'robot'"):
        create_app({"DEV_ISSUER_KEYS_DIR": str(issuer_dir)})
