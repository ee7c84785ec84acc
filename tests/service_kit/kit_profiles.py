"""What the kit's tests need to know about a service (the fixtures build them in conftest)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask


@dataclass
class Profile:
    name: str
    prefix: str
    make: Callable[..., Flask]
    """``make(**config)``: the app, trusting the test issuer."""
    token: str | None
    """A token the protected route accepts (None: the service verifies no tokens)."""
    protected: str | None
    """A GET path that needs ``token``."""
    json_route: tuple[str, dict[str, Any]] | None
    """A POST path taking JSON, and a valid body for it."""
    query_route: tuple[str, str, dict[str, str]] | None
    """A GET path, its single-valued numeric parameter, and valid parameters."""
    not_allowed: tuple[str, str, str]
    """A method, a path that does not allow it, and the path's sorted ``Allow``."""
    checks: tuple[str, ...] = field(default=())
    """The named readiness checks."""
    mint: Callable[..., str] | None = None
    resource: str | None = None
    """The API's public URL (its RFC 8707 identifier), where it has one."""
    scopes: tuple[str, ...] = ()
    """``mint(**claims)``: a token like ``token`` with claims changed (``None`` drops one)."""
