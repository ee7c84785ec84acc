"""Every setting a service reads is documented in the README (rule 6: docs are the feature)."""

from __future__ import annotations

from pathlib import Path

import pytest

from calendar_api.config import CalendarSettings
from dev_issuer.settings import Settings as IssuerSettings
from geocoding_api.config import GeocodingSettings
from service_kit import ApiSettings, ServiceSettings
from shared_auth import AuthSettings
from shared_auth.env import variables

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()
TABLES = {
    "auth": variables(AuthSettings),
    "calendar": variables(CalendarSettings),
    "geocoding": variables(GeocodingSettings),
    "dev_issuer": variables(IssuerSettings),
    **{f"kit {prefix}": variables(ApiSettings, prefix) for prefix in ("CALENDAR", "GEOCODING")},
    "kit DEV_ISSUER": variables(ServiceSettings, "DEV_ISSUER"),
}


@pytest.mark.parametrize("table", sorted(TABLES))
def test_every_variable_is_in_the_readme(table: str) -> None:
    missing = [name for name in TABLES[table].values() if f"`{name}`" not in README]
    assert not missing, f"README does not document {missing}"


def test_the_kit_table_documents_its_prefixed_form() -> None:
    for name in variables(ApiSettings, "{PREFIX}").values():
        assert f"`{name}`" in README
