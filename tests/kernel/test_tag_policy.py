"""The tag policy's lookups: normalised keys and aliases, allowed values, what the tag action applies, and
validation errors naming the exact field."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from cloudoptima.domain.tag_policy import TagPolicy, error_field, tag_value
from cloudoptima.services.tag_actions import missing_tags

POLICY = TagPolicy.model_validate(
    {
        "required": [
            {"key": "cost-center", "aliases": ["finance code"], "default_value": "cc-0"},
            {"key": "env", "aliases": ["environment", "stage"], "allowed_values": ["prod", "dev"]},
            {"key": "owner"},
        ]
    }
)


def test_keys_compare_across_spellings_and_aliases() -> None:
    assert tag_value({"Cost_Center": "cc-9"}, "cost-center") == "cc-9"
    assert tag_value({"COSTCENTER": " "}, "cost-center") is None, "a blank value is no value"
    assert tag_value({"Environment": "x", "env": "prod"}, "env", ("environment",)) == "prod", (
        "canonical first"
    )
    env = POLICY.required[1]
    assert env.value_in({"Stage": "DEV"}) == "DEV" and env.value_in({"env": "qa"}) is None
    assert POLICY.missing({"finance-code": "1", "ENV": "prod"}) == ["owner"]
    assert POLICY.rule("Finance_Code") is POLICY.required[0]


def test_the_tag_action_applies_only_missing_keys_with_a_value() -> None:
    assert missing_tags(POLICY, {}, {"env": "qa"}) == {"cost-center": "cc-0"}, (
        "env has no default; owner neither"
    )
    assert missing_tags(POLICY, {"tags": {"ENV": "dev", "Owner": "me"}}, {"env": "qa"}) == {
        "cost-center": "cc-0",
        "env": "dev",
        "owner": "me",
    }
    assert missing_tags(POLICY, {"tags": {"env": "staging"}}, {}) == {"cost-center": "cc-0"}, "not allowed"
    assert missing_tags(POLICY, {"keys": ["owner"], "tags": {"owner": "me"}}, {}) == {"owner": "me"}
    assert missing_tags(POLICY, {}, {"Cost Center": "x", "stage": "prod", "owner": "o"}) == {}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"required": [{"key": "a"}, {"key": "A"}]}, "required[1].key"),
        ({"required": [{"key": "a", "aliases": ["b", "c\n"]}]}, "required[0].aliases[1]"),
        ({"required": [{"key": "a", "allowed_values": ["x", " "]}]}, "required[0].allowed_values[1]"),
        (
            {"required": [{"key": "a", "allowed_values": ["x"], "default_value": "y"}]},
            "required[0].default_value",
        ),
        ({"required": [{"key": "aws:a"}]}, "required[0].key"),
    ],
)
def test_errors_name_the_field(body: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        TagPolicy.model_validate(body)
    error = caught.value.errors()[0]
    assert error_field(tuple(error["loc"]), str(error["msg"]))[0] == field


def test_an_unreadable_stored_policy_reads_as_none() -> None:
    assert TagPolicy.of({"tag_policy": {"required": [{"key": ""}]}}) == TagPolicy()
    assert TagPolicy.of(None).required == ()
