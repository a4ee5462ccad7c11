"""Anomaly detection: planted events found, root cause, additivity, impact semantics, dedup, CSV."""

from __future__ import annotations

import csv
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from cloudoptima.analytics.anomalies import (
    AnomalyConfig,
    config_for_step,
    detect_anomalies_csv,
    detect_cost_anomalies,
    detect_matrix,
    score_matrix,
    severity,
)
from cloudoptima.domain.analytics import AnomalySeverity, CostAnomaly
from tests.analytics.synthetic_costs import START, Planted, cost_estate

SEEDS = range(8)


def read_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def planted_date(p: Planted) -> date:
    return (START + pd.Timedelta(days=p.day)).date()


def matches(anomaly: CostAnomaly, p: Planted) -> bool:
    day = planted_date(p)
    if p.kind == "spike":
        return anomaly.start_date <= day <= anomaly.end_date
    return day <= anomaly.start_date <= day + timedelta(days=3)


def test_planted_spikes_and_level_shifts_are_found_with_good_precision_and_recall() -> None:
    hits = planted_total = true_incidents = incidents = 0
    for seed in SEEDS:
        rows, planted = cost_estate(seed)
        found = detect_cost_anomalies(rows)
        planted_total += len(planted)
        hits += sum(any(matches(a, p) for a in found) for p in planted)
        incidents += len(found)
        true_incidents += sum(any(matches(a, p) for p in planted) for a in found)
    recall, precision = hits / planted_total, true_incidents / incidents
    assert recall >= 0.85, recall
    assert precision >= 0.8, precision


@pytest.mark.parametrize("seed", SEEDS)
def test_top_root_cause_names_the_planted_cell(seed: int) -> None:
    rows, planted = cost_estate(seed)
    found = detect_cost_anomalies(rows)
    for p in planted:
        match = [a for a in found if matches(a, p)]
        if not match:
            continue  # recall is measured above
        top = match[0].root_causes[0].dimensions
        assert top == {k: p.cell[k] for k in ("service", "account", "region", "usage_type")}
        assert match[0].impact > 0


@pytest.mark.parametrize("seed", SEEDS[:4])
def test_contributions_add_up_to_the_impact(seed: int) -> None:
    rows, _ = cost_estate(seed)
    found = detect_cost_anomalies(rows)
    assert found
    for anomaly in found:
        assert anomaly.impact == anomaly.actual_spend - anomaly.expected_spend
        assert sum(rc.contribution for rc in anomaly.root_causes) == anomaly.impact
        for dim in ("service", "account", "region", "usage_type", "resource_id", "tag:team"):
            listed = [c.contribution for c in anomaly.contributions if c.dimension == dim]
            assert listed, dim
            assert sum(listed) == anomaly.impact, dim


def test_one_incident_per_event_across_levels() -> None:
    rows, planted = cost_estate(11, n_spikes=1, n_shifts=0)
    big = planted[0]
    # make the spike large enough to show in the total, every level sees it
    mask = (rows["date"] == planted_date(big)) & (rows["usage_type"] == big.cell["usage_type"])
    mask &= (rows["account"] == big.cell["account"]) & (rows["region"] == big.cell["region"])
    rows.loc[mask, "cost"] += 2000.0
    found = [a for a in detect_cost_anomalies(rows) if a.start_date == planted_date(big)]
    assert len(found) == 1
    seen = [found[0].scope, *found[0].related_scopes]
    assert {} in seen
    assert {"service": big.cell["service"]} in seen
    assert {"account": big.cell["account"]} in seen
    assert found[0].severity in (AnomalySeverity.HIGH, AnomalySeverity.CRITICAL)


def test_two_simultaneous_events_in_different_services_stay_two_incidents() -> None:
    rows, _ = cost_estate(5, n_spikes=0, n_shifts=0)
    day = date(2024, 4, 10)
    first = (rows["date"] == day) & (rows["service"] == "AmazonEC2") & (rows["account"] == "111111111111")
    second = (rows["date"] == day) & (rows["service"] == "AmazonS3") & (rows["account"] == "333333333333")
    rows.loc[first & (rows["region"] == "us-east-1") & rows["usage_type"].str.endswith("Usage"), "cost"] += (
        900
    )
    rows.loc[
        second & (rows["region"] == "eu-west-1") & rows["usage_type"].str.endswith("Storage"), "cost"
    ] += 300
    found = [a for a in detect_cost_anomalies(rows) if a.start_date == day]
    assert sorted(a.root_causes[0].dimensions["service"] for a in found) == ["AmazonEC2", "AmazonS3"]


@pytest.mark.parametrize("seed", SEEDS[:4])
def test_weekday_pattern_and_trend_alone_raise_no_anomaly(seed: int) -> None:
    rows, planted = cost_estate(seed, n_spikes=0, n_shifts=0)
    assert planted == []
    assert detect_cost_anomalies(rows) == []


def test_weekend_spike_to_weekday_level_is_found_only_by_the_weekday_aware_baseline() -> None:
    days = pd.date_range("2024-01-01", periods=140)
    values = np.where(days.day_of_week < 5, 100.0, 10.0) * np.random.default_rng(0).lognormal(0, 0.03, 140)
    saturday = int(np.flatnonzero(days.day_of_week == 5)[-3])
    values[saturday] = 70.0  # a weekday-like cost on a Saturday
    aware = score_matrix(values[None, :], direction="both")
    assert np.flatnonzero(aware.score[0] >= 0.5).tolist() == [saturday]
    blind = score_matrix(values[None, :], m=1, weeks=4, direction="both")  # no weekly season
    assert blind.score[0, saturday] < 0.5


def test_new_service_has_no_impact_percentage() -> None:
    rows, _ = cost_estate(2, n_spikes=0, n_shifts=0)
    day = date(2024, 4, 15)
    new = pd.DataFrame(
        {
            "date": [day],
            "cost": [750.0],
            "service": ["AmazonSageMaker"],
            "account": ["111111111111"],
            "region": ["us-east-1"],
            "usage_type": ["SageMaker:ml.p4d"],
            "resource_id": ["nb-1"],
            "tag:team": ["red"],
        }
    )
    found = detect_cost_anomalies(pd.concat([rows, new], ignore_index=True))
    sagemaker = [
        a
        for a in found
        if a.scope.get("service") == "AmazonSageMaker" or a.scope.get("usage_type") == "SageMaker:ml.p4d"
    ]
    assert len(sagemaker) == 1
    assert sagemaker[0].expected_spend == Decimal("0.00")
    assert sagemaker[0].impact_pct is None
    assert sagemaker[0].impact == Decimal("750.00")


def test_pyarrow_table_input_gives_the_same_incidents() -> None:
    rows, _ = cost_estate(3)
    from_pandas = detect_cost_anomalies(rows)
    from_arrow = detect_cost_anomalies(pa.Table.from_pandas(rows))
    assert [a.anomaly_id for a in from_arrow] == [a.anomaly_id for a in from_pandas]
    assert [a.impact for a in from_arrow] == [a.impact for a in from_pandas]


def test_evaluate_from_limits_reported_incidents() -> None:
    rows, planted = cost_estate(0)
    cutoff = max(planted_date(p) for p in planted)
    found = detect_cost_anomalies(rows, config=AnomalyConfig(evaluate_from=cutoff))
    assert found
    assert all(a.start_date >= cutoff for a in found)


def test_severity_thresholds() -> None:
    assert severity(Decimal("12000"), 5.0) is AnomalySeverity.CRITICAL
    assert severity(Decimal("1500"), 150.0) is AnomalySeverity.CRITICAL
    assert severity(Decimal("1500"), 10.0) is AnomalySeverity.HIGH
    assert severity(Decimal("150"), 60.0) is AnomalySeverity.HIGH
    assert severity(Decimal("150"), 10.0) is AnomalySeverity.MEDIUM
    assert severity(Decimal("15"), None) is AnomalySeverity.MEDIUM
    assert severity(Decimal("5"), 500.0) is AnomalySeverity.LOW


def test_anomalies_csv_round_trip(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    stamps = pd.date_range("2024-01-01", periods=150, freq="D")
    values = np.where(stamps.day_of_week < 5, 50.0, 20.0) + rng.normal(0, 1.5, 150)
    values[120] += 40.0
    values[130] -= 30.0
    lines = ["timestamp,value"] + [f"{s.date()},{v:.4f}" for s, v in zip(stamps, values, strict=True)]
    lines[49] = f"{stamps[48].date()},"  # a missing value (line 50 of the file)
    source = tmp_path / "series.csv"
    source.write_text("\n".join(lines) + "\n")
    out = tmp_path / "scores.csv"
    result = detect_anomalies_csv(source, out)
    rows = read_rows(out)
    assert list(rows[0]) == ["timestamp", "value", "expected", "score", "is_anomaly", "alert"]
    assert len(rows) == 150
    assert result.grid.label == "1D"
    scores = np.array([float(r["score"]) for r in rows])
    assert np.all((scores >= 0) & (scores <= 1))
    flagged = [r["timestamp"] for r in rows if r["is_anomaly"] == "true"]
    assert flagged == [str(stamps[120].date()), str(stamps[130].date())]
    assert [r["alert"] for r in rows if r["alert"]] == ["anomaly", "anomaly"]
    assert rows[48]["value"] == ""
    assert rows[48]["score"] == "0.000000"
    assert result.is_anomaly.sum() == 2


def _five_minute_csv(path: Path, *, drop: slice, duplicate_at: int, step_at: int | None = None) -> None:
    """12 days of 5-minute utilisation with a daily cycle, a spike at 10 d, a gap and a duplicate row."""
    rng = np.random.default_rng(7)
    stamps = pd.date_range("2024-03-01", periods=12 * 288, freq="5min", tz="UTC")
    hours = np.asarray(stamps.hour + stamps.minute / 60, dtype=np.float64)
    values = 40 + 20 * np.sin(2 * np.pi * hours / 24) + rng.normal(0, 1.0, len(stamps))
    values[10 * 288 + 100] += 30.0
    if step_at is not None:
        values[step_at:] += 25.0
    keep = np.ones(len(stamps), dtype=bool)
    keep[drop] = False
    lines = ["timestamp,value"]
    for ts, v, k in zip(stamps, values, keep, strict=True):
        if k:
            lines.append(f"{ts.isoformat()},{v:.3f}")
    lines.insert(duplicate_at, lines[duplicate_at])  # the same timestamp twice
    path.write_text("\n".join(lines) + "\n")


def test_five_minute_series_with_a_gap_and_a_duplicate_is_scored_on_its_inferred_grid(tmp_path: Path) -> None:
    source, out = tmp_path / "cpu.csv", tmp_path / "scores.csv"
    _five_minute_csv(source, drop=slice(5 * 288, 5 * 288 + 24), duplicate_at=2000)
    result = detect_anomalies_csv(source, out)
    assert result.grid.label == "5min"
    assert len(result.timestamps) == 12 * 288  # the gap stays on the grid
    rows = read_rows(out)
    gap = rows[5 * 288 + 3]
    assert gap["value"] == "" and gap["is_anomaly"] == "false"
    assert [str(ts) for ts, kind in result.alerts] == ["2024-03-11 08:20:00"]  # the spike, and only it
    forced = detect_anomalies_csv(source, out, freq="5min")
    assert np.array_equal(forced.is_anomaly, result.is_anomaly)


def test_a_lasting_step_is_one_change_from_its_start(tmp_path: Path) -> None:
    source, out = tmp_path / "cpu.csv", tmp_path / "scores.csv"
    step = 6 * 288 + 50
    _five_minute_csv(source, drop=slice(0, 0), duplicate_at=10, step_at=step)
    result = detect_anomalies_csv(source, out)
    stamps = [ts for ts, _ in result.alerts]
    assert result.alerts[0] == (result.timestamps[step], "change")  # the step, once, from its first point
    assert result.timestamps[10 * 288 + 100] in stamps  # the later spike is still found
    assert len(stamps) <= 3


def test_a_bad_freq_is_refused_with_the_accepted_forms(tmp_path: Path) -> None:
    source = tmp_path / "s.csv"
    source.write_text("timestamp,value\n2024-01-01 00:00,1\n2024-01-01 00:05,2\n")
    with pytest.raises(ValueError, match="1min"):
        detect_anomalies_csv(source, tmp_path / "o.csv", freq="7 parsecs")


def test_scan_of_many_series_is_vectorised() -> None:
    rng = np.random.default_rng(0)
    matrix = 100 * rng.lognormal(0, 0.05, (2000, 120))
    matrix[7, 100] *= 3
    scores = score_matrix(matrix, direction="up")
    flagged = np.argwhere(scores.score >= 0.5)
    assert [7, 100] in flagged.tolist()
    assert len(flagged) <= 1 + 0.001 * matrix.size


def _flat_account(days: int = 120) -> pd.DataFrame:
    """One account: a $900-a-day VM fleet and a $3-a-day snapshot line, both flat with a weekday dip."""
    dates = pd.date_range("2024-01-01", periods=days)
    weekday = np.where(dates.day_of_week < 5, 1.0, 0.9)
    rows = []
    for usage, cost in (("BoxUsage:m5.large", 900.0), ("SnapshotUsage", 3.0)):
        for day, factor in zip(dates, weekday, strict=True):
            rows.append(
                {"date": day, "cost": cost * factor, "service": "AmazonEC2", "account": "111111111111"}
                | {"region": "us-east-1", "usage_type": usage}
            )
    return pd.DataFrame(rows)


def test_an_immaterial_change_is_not_an_anomaly_of_a_large_account() -> None:
    rows = _flat_account()
    late = (rows["date"] >= pd.Timestamp("2024-04-01")) & (rows["usage_type"] == "SnapshotUsage")
    rows.loc[late, "cost"] *= 2.0  # $3 → $6 a day: real, but 0.3 % of the account's spend
    assert detect_cost_anomalies(rows) == []
    found = detect_cost_anomalies(rows, config=AnomalyConfig(min_account_share=0.0))
    assert [a.start_date for a in found] == [date(2024, 4, 1)]
    bigger = rows.copy()
    bigger.loc[late, "cost"] += 60.0  # now about 7 % of the account's daily spend
    assert [a.start_date for a in detect_cost_anomalies(bigger)] == [date(2024, 4, 1)]


def test_a_change_during_the_warm_up_is_dated_from_its_first_day() -> None:
    rows = _flat_account()
    fleet = (rows["date"] >= pd.Timestamp("2024-02-20")) & (rows["usage_type"] == "BoxUsage:m5.large")
    rows.loc[fleet, "cost"] += 400.0  # day 50: the baseline exists, its noise scale not yet (day 56)
    found = detect_cost_anomalies(rows)
    assert len(found) == 1
    assert found[0].start_date == date(2024, 2, 20)


def test_a_burst_no_single_point_reveals_is_one_alert_at_its_start() -> None:
    """Spikes of the usual height growing dense for a few hours: judged on the 3-hour mean, alerted once."""
    rng = np.random.default_rng(11)
    n = 6 * 288
    values = np.abs(rng.normal(0.0, 0.05, n))
    spikes = rng.choice(np.arange(n), size=n // 40, replace=False)  # a spike every ~3 hours on average
    values[spikes] = rng.uniform(2.0, 3.0, spikes.size)
    start = 4 * 288 + 100
    dense = np.arange(start, start + 48, 2)  # four hours with a spike every 10 minutes
    values[dense] = rng.uniform(2.0, 3.0, dense.size)
    cfg = config_for_step(pd.Timedelta(minutes=5))
    assert cfg.burst_span == 36
    alerts = np.flatnonzero(detect_matrix(values[None, :], cfg).alert[0])
    assert alerts.size == 1 and start <= alerts[0] < start + 36, alerts
    quiet = detect_matrix(values[None, :], config_for_step(pd.Timedelta(minutes=5), burst_span=0))
    assert not quiet.alert[0, start : start + 48].any()  # no single spike stands out
    assert config_for_step(pd.Timedelta(days=1)).burst_span == 0  # daily costs: points only
