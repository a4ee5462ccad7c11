"""The price store keeps exact Decimal prices per provider, replaces a provider's list whole, and keeps the last
good list when a refresh fails."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from cloudoptima.domain.inventory import CloudProvider
from cloudoptima.domain.prices import ListPrice, PriceKind
from cloudoptima.storage.price_store import load_snapshots, record_failure, refresh_status, replace_prices

AWS, AZURE = CloudProvider.AWS, CloudProvider.AZURE
DAY1 = datetime(2031, 3, 1, 4, tzinfo=UTC)
DAY2 = datetime(2031, 3, 2, 4, tzinfo=UTC)


def _m5(price: str, region: str = "eu-west-1") -> ListPrice:
    return ListPrice(
        AWS, PriceKind.INSTANCE, region, "m5.large", Decimal(price), "AmazonEC2", "SKU1", "m5", 2, Decimal(8)
    )


def test_round_trip_replace_and_failure_keep_the_last_good_list(db_session: Session) -> None:
    gp3 = ListPrice(AWS, PriceKind.DISK, "eu-west-1", "gp3", Decimal("0.0880000001"), "AmazonEC2")
    stored = replace_prices(db_session, AWS, [_m5("0.107"), _m5("0.999"), gp3], "AWS Price List", DAY1)
    replace_prices(
        db_session,
        AZURE,
        [ListPrice(AZURE, PriceKind.SNAPSHOT, "westeurope", "standard", Decimal("0.055"), "Storage")],
        "Azure Retail Prices",
        DAY1,
    )
    assert stored == 2, "a duplicate (kind, region, sku) keeps the first price"

    snapshots = load_snapshots(db_session)
    aws = snapshots[AWS]
    assert aws.label == "AWS Price List, fetched 2031-03-01"
    assert set(aws.prices) == {_m5("0.107"), gp3}, "every field comes back, money to the last digit"

    replace_prices(db_session, AWS, [_m5("0.110", "us-east-1")], "AWS Price List", DAY2)
    record_failure(db_session, AZURE, "Azure Retail Prices", "HTTP 503 after 5 attempts", DAY2)

    snapshots = load_snapshots(db_session)
    assert [p.region for p in snapshots[AWS].prices] == ["us-east-1"], "the old AWS list is gone, whole"
    assert snapshots[AZURE].fetched_at == DAY1, "the failed refresh left Azure's last good list"
    status = refresh_status(db_session)
    assert (status[AWS].status, status[AWS].succeeded_at, status[AWS].price_count) == ("ok", DAY2, 1)
    assert (status[AZURE].status, status[AZURE].error) == ("failed", "HTTP 503 after 5 attempts")
    assert status[AZURE].succeeded_at == DAY1 and status[AZURE].price_count == 1


def test_a_price_of_another_provider_is_refused(db_session: Session) -> None:
    with pytest.raises(ValueError, match="cannot be stored as azure"):
        replace_prices(db_session, AZURE, [_m5("0.1")], "Azure Retail Prices", DAY1)
