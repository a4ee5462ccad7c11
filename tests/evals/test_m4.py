"""The forecaster on public series it was never tuned on: M4 weekly (every 6th series), scored as M4 does.

Floors sit a little under what this subset measured (see cloudoptima_evals/m4.py and the README's eval table): the
product must beat naive, seasonal naive and the Theta-like benchmark on both sMAPE and MASE, and its 95 %
intervals must cover 0.93–0.97 of the actuals over three rolling origins.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cloudoptima_evals.data import m4_weekly
from cloudoptima_evals.m4 import M4FormatError, load_m4, score_m4

FIXTURES = m4_weekly()


@pytest.fixture(scope="module")
def scores() -> dict[str, Any]:
    return score_m4(load_m4(FIXTURES), rolling_origins=3)


def test_the_product_beats_every_benchmark_on_both_measures(scores: dict[str, Any]) -> None:
    methods = scores["methods"]
    ours = methods["cloudoptima"]
    assert scores["series"] == 60
    for name in ("naive", "seasonal naive", "theta-like"):
        assert ours["smape"] < methods[name]["smape"], name
        assert ours["mase"] < methods[name]["mase"], name
    assert ours["smape"] <= 7.6 and ours["mase"] <= 2.7


def test_the_95_percent_intervals_cover_about_95_percent(scores: dict[str, Any]) -> None:
    assert 0.93 <= scores["methods"]["cloudoptima"]["coverage_95"] <= 0.97


def test_the_naive_benchmark_matches_m4s_published_definition() -> None:
    data = load_m4(FIXTURES, every=20)
    actual = data.test
    last = np.stack([s[-1:] for s in data.train])
    smape = np.mean(200 * np.abs(last - actual) / (np.abs(last) + np.abs(actual)))
    assert score_m4(data, product=False)["methods"]["naive"]["smape"] == pytest.approx(smape, abs=1e-3)


def test_a_malformed_file_names_the_file_line_and_series(tmp_path: Path) -> None:
    (tmp_path / "Weekly-train.csv").write_text('"V1","V2","V3"\n"W1","1","2"\n"W2","3","x"\n')
    (tmp_path / "Weekly-test.csv").write_text('"V1","V2"\n"W1","1"\n"W2","1"\n')
    with pytest.raises(M4FormatError, match=r"Weekly-train.csv:3: W2: not a number"):
        load_m4(tmp_path)
