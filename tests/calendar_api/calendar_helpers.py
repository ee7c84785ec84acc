"""Test helpers for the calendar API: an HTTP client bound to one user, and event bodies."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
import requests
from support.constants import CAL_AUD, CI, EVENTS

__all__ = ["CAL_AUD", "EVENTS", "CalendarClient", "event_body", "postgres_dsn"]


class CalendarClient:
    """``requests`` against a served app, as one user; each call may pass another token."""

    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url
        self.token = token

    def as_user(self, token: str) -> CalendarClient:
        return CalendarClient(self.base_url, token)

    def request(
        self, method: str, path: str, *, token: str | None = None, **kwargs: Any
    ) -> requests.Response:
        headers = dict(kwargs.pop("headers", None) or {})
        if token != "":
            headers.setdefault("Authorization", f"Bearer {token or self.token}")
        response = requests.request(
            method, self.base_url + path, headers=headers, timeout=30, **kwargs
        )
        assert response.status_code < 500, response.text
        return response

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", path, **kwargs)

    def create(self, **fields: Any) -> dict[str, Any]:
        response = self.post("/calendar/v1/events", json=event_body(**fields))
        assert response.status_code == 201, response.text
        return response.json()

    def list_all(self, **params: Any) -> list[dict[str, Any]]:
        """Every item across pages, following next_cursor."""
        items: list[dict[str, Any]] = []
        while True:
            response = self.get("/calendar/v1/events", params=params)
            assert response.status_code == 200, response.text
            body = response.json()
            items.extend(body["items"])
            if body["next_cursor"] is None:
                return items
            params = {**params, "cursor": body["next_cursor"]}


def event_body(**fields: Any) -> dict[str, Any]:
    body = {
        "title": "Planning",
        "start": "2026-03-23T09:00:00+01:00",
        "end": "2026-03-23T10:00:00+01:00",
    }
    body.update(fields)
    return {key: value for key, value in body.items() if value is not ...}


PG_USERS = ("postgres", "root")  # trust auth; whichever role the machine has
_pg: dict[str, str | None] = {}


def postgres_dsn() -> str:
    """A working libpq DSN for database ``test``; fails (CI=true) or skips without one."""
    if "dsn" not in _pg:
        _pg["dsn"], errors = None, []
        for user in PG_USERS:
            dsn = f"postgresql://{user}@127.0.0.1:5432/test"
            try:
                psycopg.connect(dsn, connect_timeout=3).close()
            except psycopg.Error as exc:
                errors.append(f"{user}: {str(exc).strip()}")
            else:
                _pg["dsn"] = dsn
                break
        _pg["reason"] = "PostgreSQL at 127.0.0.1:5432 is unreachable (" + "; ".join(errors) + ")"
    if _pg["dsn"] is None:
        if CI:
            pytest.fail(f"{_pg['reason']}; it is required because CI=true")
        pytest.skip(str(_pg["reason"]))
    return str(_pg["dsn"])
