"""The table-driven settings helper every service reads its environment through."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from shared_auth.env import (
    ConfigError,
    between,
    boolean,
    check_fields,
    integer,
    load,
    number,
    setting,
    text,
    variables,
    words,
)


@dataclass(frozen=True)
class Example:
    prefix: str
    name: str = setting("{prefix}_NAME", text)
    size: int = setting("{prefix}_SIZE", integer, 10, check=between(1, 100))
    ratio: float = setting("{prefix}_RATIO", number, 0.5)
    tags: tuple[str, ...] = setting("{prefix}_TAGS", words, ())
    on: bool = setting("{prefix}_ON", boolean, False)

    def __post_init__(self) -> None:
        check_fields(self)


def test_values_come_from_the_prefixed_variables_and_defaults_fill_gaps() -> None:
    env = {"APP_NAME": " x ", "APP_TAGS": "a, b c", "APP_ON": "yes", "APP_SIZE": ""}
    example = load(Example, env, prefix="APP")
    assert (example.name, example.size, example.ratio, example.tags, example.on) == (
        "x",
        10,
        0.5,
        ("a", "b", "c"),
        True,
    )
    assert variables(Example, "APP")["size"] == "APP_SIZE"


@pytest.mark.parametrize(
    ("variable", "raw", "message"),
    [
        ("APP_SIZE", "1_0", "APP_SIZE='1_0' is not valid: expected a whole number"),
        ("APP_SIZE", "\u0661\u0662", "expected a whole number"),
        ("APP_SIZE", "\uff11", "expected a whole number"),
        ("APP_SIZE", "1.5", "expected a whole number"),
        ("APP_SIZE", "500", "APP_SIZE must be from 1 to 100; got 500"),
        ("APP_RATIO", "nan", "APP_RATIO='nan' is not valid: expected a number"),
        ("APP_RATIO", "1e999", "expected a finite number"),
        ("APP_ON", "maybe", "APP_ON='maybe' is not valid: expected true or false"),
    ],
)
def test_a_bad_value_names_the_variable_the_value_and_the_rule(
    variable: str, raw: str, message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load(Example, {"APP_NAME": "x", variable: raw}, prefix="APP")
    assert message in str(caught.value)


def test_a_required_setting_left_unset_is_named() -> None:
    with pytest.raises(ConfigError, match="APP_NAME is not set"):
        load(Example, {}, prefix="APP")


def test_settings_built_in_code_are_checked_the_same_way() -> None:
    with pytest.raises(ConfigError, match="APP_SIZE must be from 1 to 100; got 0"):
        Example(prefix="APP", name="x", size=0)
