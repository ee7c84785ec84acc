"""Typed settings from environment variables, declared once as a table of dataclass fields.

Every setting of every service here is a field made with ``setting(...)``: the variable's name,
how to parse it, its default and what makes it valid. ``load(Settings, env)`` reads the table;
a bad value stops the process at start with a ``ConfigError`` naming the variable, the value
and what it should be, instead of a service that misbehaves at request time. The same checks
run when settings are built in code, so a test or an embedding app cannot skip them.

It lives in ``shared_auth`` (the bottom layer) so the auth core stays copyable on its own;
``service_kit`` re-exports it for the services.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

T = TypeVar("T")
Parser = Callable[[str], Any]
Check = Callable[[Any], "str | None"]
"""Returns what is wrong with a value (completing "must ..."), or None when it is fine."""

_ENV = "env"
_CHECK = "check"
_PARSE = "parse"


class ConfigError(ValueError):
    """A setting is missing or unsafe; raised at start-up, never per request."""


def setting(
    env: str, parse: Parser, default: Any = dataclasses.MISSING, *, check: Check | None = None
) -> Any:
    """A dataclass field read from the variable ``env`` (unset or blank: ``default``)."""
    metadata = {_ENV: env, _PARSE: parse, _CHECK: check}
    if isinstance(default, list | dict | set):
        raise TypeError("use a tuple or a frozen mapping as a setting default")
    return dataclasses.field(default=default, metadata=metadata)


def load(cls: type[T], env: Mapping[str, str], **values: Any) -> T:
    """Build ``cls`` from ``env``; ``values`` are defaults for what ``env`` leaves unset.

    A variable name may hold ``{prefix}``, filled from ``values["prefix"]``: one table then
    serves every service (``CALENDAR_CORS_ORIGINS``, ``GEOCODING_CORS_ORIGINS``).
    """
    prefix = values.get("prefix", "")
    for spec in dataclasses.fields(cls):  # type: ignore[arg-type]
        name = spec.metadata.get(_ENV)
        name = name and name.format(prefix=prefix)
        raw = env.get(name) if name else None
        if raw is not None and raw.strip():
            try:
                values[spec.name] = spec.metadata[_PARSE](raw)
            except ValueError as exc:
                raise ConfigError(f"{name}={raw!r} is not valid: {exc}") from None
        required = (
            spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING
        )
        if required and spec.name not in values:
            raise ConfigError(f"{name or spec.name} is not set")
    return cls(**values)


def check_fields(instance: Any) -> None:
    """Run every field's check; call from ``__post_init__`` so code-built settings are checked."""
    for spec in dataclasses.fields(instance):
        check = spec.metadata.get(_CHECK)
        value = getattr(instance, spec.name)
        problem = check(value) if check and value is not None else None
        if problem:
            raise ConfigError(f"{env_name(instance, spec.name)} must {problem}; got {value!r}")


def variables(cls: type, prefix: str = "") -> dict[str, str]:
    """Field name -> environment variable, for every field of ``cls`` read from the env."""
    return {
        spec.name: spec.metadata[_ENV].format(prefix=prefix)
        for spec in dataclasses.fields(cls)
        if spec.metadata.get(_ENV)
    }


def env_name(settings: Any, field_name: str) -> str:
    """The variable behind a field of ``settings``, for messages about rules across fields."""
    prefix = getattr(settings, "prefix", "")
    for spec in dataclasses.fields(settings):
        if spec.name == field_name:
            return (spec.metadata.get(_ENV) or field_name).format(prefix=prefix)
    raise KeyError(field_name)


# -- parsers: str -> value, ValueError saying what was expected ------------------------------------

_INTEGER = re.compile(r"[+-]?[0-9]+", re.ASCII)
_NUMBER = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?", re.ASCII)


def text(raw: str) -> str:
    return raw.strip()


def integer(raw: str) -> int:
    """A whole number in ASCII digits (``int`` alone also takes ``1_000``, Arabic-Indic digits)."""
    if not _INTEGER.fullmatch(raw.strip()):
        raise ValueError("expected a whole number")
    return int(raw)


def number(raw: str) -> float:
    """A finite decimal number in plain ASCII (``float`` alone takes ``nan`` and ``1_0``)."""
    if not _NUMBER.fullmatch(raw.strip()):
        raise ValueError("expected a number")
    value = float(raw)
    if not math.isfinite(value):
        raise ValueError("expected a finite number")
    return value


def boolean(raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError("expected true or false")


def words(raw: str) -> tuple[str, ...]:
    """A list separated by spaces or commas."""
    return tuple(part for part in raw.replace(",", " ").split() if part)


# -- checks: value -> what is wrong, or None -------------------------------------------------------


def between(low: float, high: float) -> Check:
    return lambda value: None if low <= value <= high else f"be from {low:g} to {high:g}"


def at_least(low: float) -> Check:
    return lambda value: None if value >= low else f"be at least {low:g}"


def one_of(*allowed: str) -> Check:
    return lambda value: None if value in allowed else f"be one of {', '.join(allowed)}"


def each(check: Check) -> Check:
    """Apply ``check`` to every item of a tuple setting."""

    def check_all(values: Any) -> str | None:
        return next((problem for v in values if (problem := check(v))), None)

    return check_all
