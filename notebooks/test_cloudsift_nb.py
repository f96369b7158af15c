"""Tests of the notebook helpers (run by scripts/notebooks.sh before the notebooks)."""

from datetime import datetime, timedelta, timezone

import numpy as np
import polars as pl
import pytest
from scipy import stats

import cloudsift_nb as nb

UTC = timezone.utc


def test_bh_adjust_matches_hand_computation():
    # Sorted 0.01, 0.03, 0.04 (m = 3): 0.03, 0.045, 0.04 → running min from the top.
    got = nb.bh_adjust([0.01, 0.04, 0.03])
    assert got == pytest.approx([0.03, 0.04, 0.04])
    # Equal-step p-values all adjust to the largest.
    assert nb.bh_adjust([0.01, 0.02, 0.03, 0.04, 0.05]) == pytest.approx([0.05] * 5)


def test_bh_adjust_matches_scipy_and_ignores_nan():
    rng = np.random.default_rng(7)
    p = np.concatenate([rng.uniform(size=200), rng.uniform(0, 1e-4, size=20)])
    assert nb.bh_adjust(p) == pytest.approx(stats.false_discovery_control(p, method="bh"))
    got = nb.bh_adjust([0.02, np.nan, 0.5])
    assert np.isnan(got[1])
    assert got[[0, 2]] == pytest.approx([0.04, 0.5])
    assert nb.bh_adjust([2.0, 0.9])[0] == 1.0


def test_hourly_counts_fills_empty_hours():
    t = pl.Series(
        [datetime(2024, 3, 4, 0, 5, tzinfo=UTC), datetime(2024, 3, 4, 0, 50, tzinfo=UTC),
         datetime(2024, 3, 4, 3, 1, tzinfo=UTC)]
    )
    h = nb.hourly_counts(t)
    assert h["count"].to_list() == [2, 0, 0, 1]
    assert h["hour"][0] == datetime(2024, 3, 4, tzinfo=UTC)


def _weeks_of_counts(weeks: int) -> pl.DataFrame:
    # Four events at 09:00 every Monday (hour of week 9), nothing else.
    start = datetime(2024, 1, 1, tzinfo=UTC)  # a Monday
    hours = [start + timedelta(hours=i) for i in range(weeks * 168)]
    counts = [4 if i % 168 == 9 else 0 for i in range(weeks * 168)]
    return pl.DataFrame({"hour": hours, "count": counts})


def test_baseline_band_learns_hour_of_week_and_flags_a_spike():
    df = _weeks_of_counts(5)
    train_end = datetime(2024, 1, 29, tzinfo=UTC)  # 4 weeks of history
    spike = train_end + timedelta(hours=30)  # Tuesday 06:00, never active before
    df = df.with_columns(
        pl.when(pl.col("hour") == spike).then(12).otherwise(pl.col("count")).alias("count")
    )
    band, info = nb.baseline_band(df, train_end, alpha=0.001)
    assert info["season"] == "hour of week"
    assert info["history_days"] == 28.0
    assert info["model"] == "Poisson"
    flat = 16 / (28 * 24)
    monday9 = band.filter(pl.col("hour") == train_end + timedelta(hours=9)).row(0, named=True)
    assert monday9["expected"] == pytest.approx((16 + flat) / 5)
    assert monday9["threshold"] == stats.poisson((16 + flat) / 5).ppf(0.999)
    assert not monday9["flagged"]
    flagged = band.filter("flagged")["hour"].to_list()
    assert flagged == [spike]


def test_baseline_band_short_history_is_flat_and_needs_history():
    df = _weeks_of_counts(1)
    band, info = nb.baseline_band(df, datetime(2024, 1, 4, tzinfo=UTC))
    assert info["season"] == "flat"
    assert band["expected"].n_unique() == 1
    with pytest.raises(ValueError):
        nb.baseline_band(df, datetime(2024, 1, 1, tzinfo=UTC))


def test_first_seen_orders_new_values():
    ev = pl.DataFrame(
        {
            "time": [datetime(2024, 1, d, tzinfo=UTC) for d in (3, 1, 2, 5)],
            "src_ip": ["10.0.0.2", "10.0.0.1", "10.0.0.1", None],
        }
    )
    fs = nb.first_seen(ev, "src_ip")
    assert fs["src_ip"].to_list() == ["10.0.0.1", "10.0.0.2"]
    assert fs["events"].to_list() == [2, 1]
    assert fs["n_distinct_so_far"].to_list() == [1, 2]


def test_require_columns_names_the_missing():
    with pytest.raises(AssertionError, match=r"findings x: missing column\(s\) \['p_value'\]"):
        nb.require_columns(["risk_score"], ["risk_score", "p_value"], "findings x")
