"""Cost Explorer resource-level costs (``cost_resource_level``, ``cost_tag_keys``): moto does not implement
``GetCostAndUsageWithResources``, so the ``ce`` client is driven by botocore's Stubber with the exact
parameters each request must carry (a different filter, grouping or period fails the test)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from botocore.stub import Stubber

from cloudoptima.clouds.aws.cost_cache import CostQueryCache
from cloudoptima.clouds.aws.provider import AwsProvider
from tests.clouds.aws.conftest import ACCOUNT, KEYS, Estate

TODAY = date(2026, 11, 20)
START, END = TODAY - timedelta(days=15), TODAY - timedelta(days=12)  # 2 coarse days, then 1 recent day
RECENT = TODAY - timedelta(days=13)  # the oldest day AWS keeps resource-level data for
EC2 = "Amazon Elastic Compute Cloud - Compute"
METRICS = ["UnblendedCost", "AmortizedCost", "UsageQuantity"]


def _provider(estate: Estate, **settings: Any) -> AwsProvider:
    base = {
        "endpoint_url": estate.endpoint,
        "use_pricing_api": False,
        "account_id": ACCOUNT,
        "max_attempts": 1,
    }
    return AwsProvider(
        KEYS,
        base | settings,
        clock=lambda: datetime(TODAY.year, TODAY.month, TODAY.day, 9, tzinfo=UTC),
        cost_cache=CostQueryCache(),
    )


def _money(amount: str) -> dict[str, dict[str, str]]:
    return {
        "UnblendedCost": {"Amount": amount, "Unit": "USD"},
        "AmortizedCost": {"Amount": amount, "Unit": "USD"},
        "UsageQuantity": {"Amount": "24", "Unit": "Hrs"},
    }


def _period(day: date, groups: list[tuple[list[str], str]]) -> dict[str, Any]:
    return {
        "TimePeriod": {"Start": day.isoformat(), "End": (day + timedelta(days=1)).isoformat()},
        "Groups": [{"Keys": keys, "Metrics": _money(amount)} for keys, amount in groups],
        "Estimated": False,
    }


COARSE = {
    "ResultsByTime": [
        _period(day, [([EC2, "BoxUsage:m5.large"], "2.30"), (["Amazon Simple Storage Service", "TimedStorage-ByteHrs"], "0.70")])
        for day in (START, START + timedelta(days=1), RECENT)
    ]
}  # fmt: skip
COARSE_QUERY = {
    "TimePeriod": {"Start": START.isoformat(), "End": END.isoformat()},
    "Granularity": "DAILY",
    "Metrics": METRICS,
    "GroupBy": [{"Type": "DIMENSION", "Key": "SERVICE"}, {"Type": "DIMENSION", "Key": "USAGE_TYPE"}],
}
RESOURCE_BASE = {
    "TimePeriod": {"Start": RECENT.isoformat(), "End": END.isoformat()},
    "Granularity": "DAILY",
    "Filter": {"Dimensions": {"Key": "SERVICE", "Values": [EC2, "Amazon Simple Storage Service"]}},
    "Metrics": METRICS,
}


def _resource_query(second: dict[str, str]) -> dict[str, Any]:
    return {**RESOURCE_BASE, "GroupBy": [{"Type": "DIMENSION", "Key": "RESOURCE_ID"}, second]}


def test_recent_days_are_resource_level_with_cost_allocation_tags(estate: Estate) -> None:
    provider = _provider(estate, cost_resource_level=True, cost_tag_keys=["team"])
    ce = provider.session.client("ce", "us-east-1")
    with Stubber(ce) as stub:
        stub.add_response("get_cost_and_usage", COARSE, COARSE_QUERY)
        stub.add_response(
            "get_cost_and_usage_with_resources",
            {
                "ResultsByTime": [
                    _period(
                        RECENT,
                        [
                            (["i-0aaa", "BoxUsage:m5.large"], "1.50"),
                            (["i-0bbb", "BoxUsage:m5.large"], "0.80"),
                            (["acme-logs", "TimedStorage-ByteHrs"], "0.70"),
                        ],
                    )
                ]
            },
            _resource_query({"Type": "DIMENSION", "Key": "USAGE_TYPE"}),
        )
        stub.add_response(
            "get_cost_and_usage_with_resources",
            {
                "ResultsByTime": [
                    _period(
                        RECENT,
                        [
                            (["i-0aaa", "team$data"], "1.50"),
                            (["i-0bbb", "team$"], "0.80"),
                            (["acme-logs", "team$web"], "0.70"),
                        ],
                    )
                ]
            },
            _resource_query({"Type": "TAG", "Key": "team"}),
        )
        read = provider.costs(START, END)
        assert read.complete, read.failures
        stub.assert_no_pending_responses()
    rows = read.items
    coarse = [r for r in rows if r.day < RECENT]
    recent = {r.resource_id: r for r in rows if r.day == RECENT}
    assert len(coarse) == 4 and all(r.resource_id is None and not r.tags for r in coarse)
    assert set(recent) == {"i-0aaa", "i-0bbb", "acme-logs"}
    assert recent["i-0aaa"].service_name == EC2 and recent["i-0aaa"].usage_type == "BoxUsage:m5.large"
    assert recent["i-0aaa"].region == "us-east-1" and recent["i-0aaa"].tags == {"team": "data"}
    assert recent["i-0bbb"].tags == {} and recent["acme-logs"].tags == {"team": "web"}
    assert recent["acme-logs"].service_name == "Amazon Simple Storage Service"
    # The recent day's resource rows add up to what the coarse read said for it.
    assert sum(r.billed_cost for r in recent.values()) == Decimal("3.00")
    assert sum(r.billed_cost for r in rows) == Decimal("9.00")


def test_an_account_without_resource_level_data_keeps_the_coarse_rows(estate: Estate) -> None:
    provider = _provider(estate, cost_resource_level=True)
    ce = provider.session.client("ce", "us-east-1")
    with Stubber(ce) as stub:
        stub.add_response("get_cost_and_usage", COARSE, COARSE_QUERY)
        stub.add_client_error(
            "get_cost_and_usage_with_resources",
            service_error_code="DataUnavailableException",
            service_message="Resource level data is not available for this account.",
            http_status_code=400,
            expected_params=_resource_query({"Type": "DIMENSION", "Key": "USAGE_TYPE"}),
        )
        read = provider.costs(START, END)
        stub.assert_no_pending_responses()
    assert read.complete and len(read.items) == 6
    assert all(r.resource_id is None for r in read.items)
    assert sum(r.billed_cost for r in read.items) == Decimal("9.00")


def test_resource_level_is_opt_in(estate: Estate) -> None:
    provider = _provider(estate)
    with Stubber(provider.session.client("ce", "us-east-1")) as stub:
        stub.add_response("get_cost_and_usage", COARSE, COARSE_QUERY)
        rows = provider.costs(START, END).items
        stub.assert_no_pending_responses()  # no GetCostAndUsageWithResources request (each is billed)
    assert len(rows) == 6 and all(r.resource_id is None for r in rows)


def test_what_resource_rows_do_not_cover_stays_as_a_coarse_remainder(estate: Estate) -> None:
    """S3 was not opted in to resource-level data and one EC2 charge has no resource: the recent day keeps
    the EC2 instances' rows plus the uncovered amounts, so its total equals the coarse read's."""
    provider = _provider(estate, cost_resource_level=True)
    with Stubber(provider.session.client("ce", "us-east-1")) as stub:
        stub.add_response("get_cost_and_usage", COARSE, COARSE_QUERY)
        stub.add_response(
            "get_cost_and_usage_with_resources",
            {"ResultsByTime": [_period(RECENT, [(["i-0aaa", "BoxUsage:m5.large"], "1.50"), (["i-0bbb", "BoxUsage:m5.large"], "0.50")])]},
            _resource_query({"Type": "DIMENSION", "Key": "USAGE_TYPE"}),
        )  # fmt: skip
        read = provider.costs(START, END)
        stub.assert_no_pending_responses()
    recent = [r for r in read.items if r.day == RECENT]
    by_resource = {r.resource_id: r.billed_cost for r in recent if r.resource_id}
    assert by_resource == {"i-0aaa": Decimal("1.50"), "i-0bbb": Decimal("0.50")}
    remainders = {(r.service_name, r.usage_type): r for r in recent if r.resource_id is None}
    assert {k: r.billed_cost for k, r in remainders.items()} == {
        (EC2, "BoxUsage:m5.large"): Decimal("0.30"),
        ("Amazon Simple Storage Service", "TimedStorage-ByteHrs"): Decimal("0.70"),
    }
    assert remainders[(EC2, "BoxUsage:m5.large")].usage_quantity is None  # partly covered
    assert remainders[("Amazon Simple Storage Service", "TimedStorage-ByteHrs")].usage_quantity == Decimal(24)
    assert sum(r.billed_cost for r in recent) == Decimal("3.00")
    assert sum(r.billed_cost for r in read.items) == Decimal("9.00")
