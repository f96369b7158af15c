"""Shared helpers of the cloudsift notebooks: reading the lake's Parquet outputs, loud
schema checks, Benjamini–Hochberg adjustment and a per-principal hourly baseline band.

Everything here reads only what `cloudsift run` writes under the lake root:

- `events/provider=P/date=YYYY-MM-DD/part-<run>-<n>.parquet` — the normalised events
  (columns: `src/schema.rs`, `COLUMNS`);
- `findings/date=YYYY-MM-DD/part-<hash>.parquet` — the findings (columns:
  `src/findings.rs`, `findings_schema`), one file per day of `window_end` (UTC).

Files whose names start with `.` or `_` are writes in progress and are skipped, as the
Rust reader does.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import polars as pl
import pyarrow.dataset as ds
from scipy import stats

#: Severity names, lowest first (`Severity::ALL` in `src/findings.rs`).
SEVERITIES: tuple[str, ...] = ("info", "low", "medium", "high", "critical")

#: Findings columns the notebooks use; a run fails loudly when one disappears.
FINDING_COLUMNS: tuple[str, ...] = (
    "finding_uid", "analytic_uid", "title", "description", "severity", "risk_score",
    "p_value", "p_value_adjusted", "observed", "expected", "baseline_days", "window_start",
    "window_end", "provider", "account_uid", "region", "actor_uid", "src_ip", "user_agent",
    "service", "operation", "resource_uid", "data_component", "attack_techniques",
    "attack_version", "evidence_event_uids", "evidence_count", "suppressed",
    "suppression_reason", "run_uid",
)

#: Event columns the notebooks use (a subset of `src/schema.rs` `COLUMNS`).
EVENT_COLUMNS: tuple[str, ...] = (
    "time", "event_uid", "provider", "log_format", "account_uid", "region", "actor_uid",
    "actor_type", "src_ip", "user_agent", "service", "operation", "status", "resource_uid",
    "source_object", "source_locator", "hour_of_week",
)


def lake_root(default: str = "../out/lake") -> Path:
    """The lake folder: `$CLOUDSIFT_LAKE`, else `default` (relative to the notebook's
    folder, i.e. the repository's `out/lake`). Raises `FileNotFoundError` naming the path
    when it has no `findings/` or `events/` folder."""
    root = Path(os.environ.get("CLOUDSIFT_LAKE") or default).expanduser().resolve()
    for sub in ("findings", "events"):
        if not (root / sub).is_dir():
            raise FileNotFoundError(
                f"{root / sub} does not exist: set CLOUDSIFT_LAKE to the lake folder of a "
                "`cloudsift run` (the pipeline's [lake] url, e.g. out/lake)"
            )
    return root


def pipeline_path(default: str = "../pipelines/default.toml") -> Path:
    """The pipeline file: `$CLOUDSIFT_PIPELINE`, else `default` (relative to the notebook's
    folder)."""
    return Path(os.environ.get("CLOUDSIFT_PIPELINE") or default).expanduser().resolve()


def require_columns(names: Iterable[str], required: Iterable[str], what: str) -> None:
    """Raises `AssertionError` listing every `required` column missing from `names`;
    `what` names the table (and path) in the message."""
    have = set(names)
    missing = [c for c in required if c not in have]
    assert not missing, f"{what}: missing column(s) {missing}; present: {sorted(have)}"


def _dataset(path: Path) -> ds.Dataset:
    # Hive partitions (`date=...`, `provider=...`) are also columns of the files; reading
    # them from the path too would duplicate them, so partition values are not added.
    return ds.dataset(path, format="parquet", ignore_prefixes=[".", "_"])


def read_findings(root: Path) -> pl.DataFrame:
    """Every finding under `root/findings`, one row per `finding_uid` (a later file wins,
    as in `findings::read_findings`), sorted by `window_end` then `finding_uid`, with a
    `severity_rank` column (0 = info … 4 = critical). Asserts the columns of
    [`FINDING_COLUMNS`] exist and that every severity is one of [`SEVERITIES`]."""
    path = root / "findings"
    dataset = _dataset(path)
    require_columns(dataset.schema.names, FINDING_COLUMNS, f"findings table {path}")
    df = pl.from_arrow(dataset.to_table(columns=list(FINDING_COLUMNS)))
    df = df.unique("finding_uid", keep="last", maintain_order=True)
    unknown = set(df["severity"].unique().to_list()) - set(SEVERITIES)
    assert not unknown, f"findings table {path}: unknown severities {sorted(unknown)}"
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    return df.with_columns(
        pl.col("severity").replace_strict(rank, return_dtype=pl.Int8).alias("severity_rank")
    ).sort("window_end", "finding_uid")


def read_events(
    root: Path,
    columns: Sequence[str] = EVENT_COLUMNS,
    actor_uid: str | None = None,
    event_uids: Sequence[str] | None = None,
) -> pl.DataFrame:
    """Events under `root/events` (only `columns`), optionally only one principal's or only
    the given `event_uid`s; the filters are pushed down to the Parquet reader. Asserts the
    columns exist."""
    path = root / "events"
    dataset = _dataset(path)
    require_columns(dataset.schema.names, columns, f"events table {path}")
    flt = None
    if actor_uid is not None:
        flt = ds.field("actor_uid") == actor_uid
    if event_uids is not None:
        part = ds.field("event_uid").isin(list(event_uids))
        flt = part if flt is None else flt & part
    return pl.from_arrow(dataset.to_table(columns=list(columns), filter=flt)).sort("time")


def bh_adjust(p: Sequence[float] | np.ndarray) -> np.ndarray:
    """Benjamini & Hochberg (1995) step-up adjusted p-values, vectorised: for the sorted
    p-values p(1) ≤ … ≤ p(m), q(i) = min over j ≥ i of m·p(j)/j, capped at 1, returned in
    the input order. NaN entries stay NaN and do not count in m. A finding is rejected at
    FDR level q exactly when its adjusted p-value is ≤ q. Same result as
    `scipy.stats.false_discovery_control(p, method="bh")`."""
    p = np.asarray(p, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    vals = p[ok]
    m = vals.size
    if m == 0:
        return out
    order = np.argsort(vals)
    scaled = vals[order] * m / np.arange(1, m + 1)
    adjusted = np.minimum.accumulate(scaled[::-1])[::-1].clip(max=1.0)
    back = np.empty(m)
    back[order] = adjusted
    out[ok] = back
    return out


def hourly_counts(times: pl.Series, start: datetime | None = None, end: datetime | None = None) -> pl.DataFrame:
    """Events per UTC hour, empty hours included, from the hour of `start` (default: the
    first event) to the hour of `end` (default: the last event). Columns `hour`
    (datetime, UTC) and `count` (int)."""
    assert times.len() > 0, "hourly_counts: no events"
    hours = times.dt.truncate("1h")
    lo = start or hours.min()
    hi = end or hours.max()
    grid = pl.DataFrame({"hour": pl.datetime_range(lo, hi, "1h", eager=True, time_zone="UTC")})
    counts = hours.alias("hour").to_frame().group_by("hour").agg(pl.len().alias("count"))
    return (
        grid.join(counts, on="hour", how="left")
        .with_columns(pl.col("count").fill_null(0).cast(pl.Int64))
        .sort("hour")
    )


def baseline_band(
    hourly: pl.DataFrame,
    train_end: datetime,
    alpha: float = 0.001,
    max_history_days: int = 28,
    dispersion_alpha: float = 0.05,
) -> tuple[pl.DataFrame, dict]:
    """Expected count and upper threshold of every hour of `hourly` (from
    [`hourly_counts`]), learned from the hours in [`train_end` − `max_history_days`,
    `train_end`), the way cloudsift's volume engine sets its null model
    (docs/analytics.md, "The volume engine"):

    - season: hour of week (Monday 00:00 UTC = 0) with ≥ 21 days of history, weekday or
      weekend × hour of day with ≥ 7, else one flat rate;
    - expected μ of a bucket: its mean, shrunk toward the flat rate by one pseudo-hour,
      (Σx + flat) / (n + 1), so that a never-active bucket still has a small rate;
    - spread: Poisson, or negative binomial when Fisher's index-of-dispersion test
      (D = Σ (x − μ)² / μ ~ χ²(n − buckets)) rejects at `dispersion_alpha`, with the moment
      estimate 1/r = Σ((x − μ)² − μ) / Σ μ² (variance μ + μ²/r);
    - threshold: the (1 − `alpha`) quantile; `p_upper` = P(X ≥ observed); `flagged` is
      `p_upper` ≤ `alpha` (same as observed > threshold). `alpha` is per hour, with no
      correction for the number of hours plotted.

    Returns the frame with columns `expected`, `threshold`, `p_upper`, `flagged`, `in_history`
    and a dict describing the model (`season`, `model`, `history_days`, `r`,
    `dispersion_p`). Raises `ValueError` when there is no history before `train_end`."""
    lo = train_end - timedelta(days=max_history_days)
    df = hourly.with_columns(
        (pl.col("hour").dt.weekday().cast(pl.Int32) - 1).alias("_dow"),  # Monday = 0
        pl.col("hour").dt.hour().cast(pl.Int32).alias("_hod"),
        ((pl.col("hour") >= lo) & (pl.col("hour") < train_end)).alias("in_history"),
    )
    hist = df.filter("in_history")
    if hist.height == 0:
        raise ValueError(f"no hourly history before {train_end}")
    days = hist.height / 24
    if days >= 21:
        season, key = "hour of week", pl.col("_dow") * 24 + pl.col("_hod")
    elif days >= 7:
        season, key = "weekday/weekend × hour of day", (pl.col("_dow") >= 5).cast(pl.Int32) * 24 + pl.col("_hod")
    else:
        season, key = "flat", pl.lit(0)
    df = df.with_columns(key.alias("_bucket"))
    hist = df.filter("in_history")
    flat = float(hist["count"].mean())
    buckets = hist.group_by("_bucket").agg(
        ((pl.col("count").sum() + flat) / (pl.len() + 1)).alias("expected")
    )
    df = df.join(buckets, on="_bucket", how="left").with_columns(
        pl.col("expected").fill_null(flat).clip(lower_bound=1e-9)
    ).sort("hour")
    h = df.filter("in_history")
    x, mu = h["count"].to_numpy().astype(float), h["expected"].to_numpy()
    dof = max(h.height - buckets.height, 1)
    disp_p = float(stats.chi2.sf(np.sum((x - mu) ** 2 / mu), dof))
    inv_r = np.sum((x - mu) ** 2 - mu) / np.sum(mu**2)
    mu_all = df["expected"].to_numpy()
    obs = df["count"].to_numpy()
    if disp_p < dispersion_alpha and inv_r > 0:
        r = 1.0 / inv_r
        dist = stats.nbinom(r, r / (r + mu_all))
        model = f"negative binomial (r = {r:.3g})"
    else:
        r = None
        dist = stats.poisson(mu_all)
        model = "Poisson"
    df = df.with_columns(
        pl.Series("threshold", dist.ppf(1 - alpha)),
        pl.Series("p_upper", dist.sf(obs - 1)),
    ).with_columns((pl.col("p_upper") <= alpha).alias("flagged"))
    info = {
        "season": season, "model": model, "history_days": round(days, 1), "r": r,
        "dispersion_p": disp_p, "alpha": alpha, "flat_rate": flat,
    }
    return df.drop("_dow", "_hod", "_bucket"), info


def first_seen(events: pl.DataFrame, column: str) -> pl.DataFrame:
    """First and last time, and event count, of each distinct non-null value of `column`
    in `events` (which needs `time`), sorted by first time, with `n_distinct_so_far`
    (1, 2, …): the curve of new values over time."""
    return (
        events.filter(pl.col(column).is_not_null())
        .group_by(column)
        .agg(
            pl.col("time").min().alias("first_seen"),
            pl.col("time").max().alias("last_seen"),
            pl.len().alias("events"),
        )
        .sort("first_seen", column)
        .with_row_index("n_distinct_so_far", offset=1)
    )
