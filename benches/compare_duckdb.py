#!/usr/bin/env python3
"""Side-by-side ingest throughput: cloudsift vs DuckDB on the same generated CloudTrail corpus.

Both sides read the same gzip CloudTrail objects (``{"Records":[...]}``) and write Parquet
with the same 30 columns (``src/schema.rs``), zstd level 1, 128 Ki-row row groups, sorted by
time, hive-partitioned by provider and date:

* cloudsift: ``cloudsift ingest CORPUS --lake LAKE [--no-raw-event]`` (release build).
* DuckDB (Python package pinned in ``requirements.txt``, installed into ``benches/.venv``),
  given the schema explicitly and ``records=true``, in two variants (``--duckdb-modes``):

  - ``struct``: ``read_json(..., format='unstructured', records=true, compression='gzip',
    columns={'Records': <explicit STRUCT of the CloudTrail fields>[]})`` then ``unnest``;
  - ``transform``: the same ``read_json`` with ``columns={'Records': 'JSON[]'}``, ``unnest``,
    and one ``json_transform`` per record against the same explicit structure. This is the
    only way to keep the original record text, so it is the DuckDB variant of the
    ``raw_event`` runs; on this corpus it is also the faster of the two.

  Then the cloudsift normalisation written in SQL (actor by ``userIdentity.type``, role ARN
  from ``sessionIssuer``, ``src_ip``/``src_host`` split, status table, ``resource_uid``
  precedence, JSON text columns, ``date``, ``hour_of_week``) and ``COPY ... (FORMAT parquet,
  COMPRESSION zstd, PARTITION_BY (provider, date))``. The ratio is reported against the
  faster DuckDB variant. Known simplifications in the SQL (absent from generated data):
  IPv6 text is lower-cased, not re-compressed; ``ip:port`` sources are not split.

Both sides get the same number of threads (``--threads``, default 2: DuckDB ``SET
threads``; cloudsift ``RAYON_NUM_THREADS``). Each side runs ``--runs`` times (default 3,
interleaved); the table reports medians of wall time, throughput in MB/s of *uncompressed*
JSON (1 MB = 10^6 bytes) and the peak RSS (``/usr/bin/time -v`` when present, else
``getrusage`` of the children; DuckDB's includes its Python interpreter, about 30 MB). Afterwards the two outputs are checked: same row count, same
column names and types, and per-column agreement of the values joined on ``event_uid``.

Not done on the DuckDB side (so the comparison does not flatter cloudsift): deduplication by
(provider, account_uid, event_uid) against earlier runs, the manifest and quarantine
bookkeeping. Pass ``--duckdb-dedup`` to add an in-run dedup (``QUALIFY``) to DuckDB.

Usage::

    python3 benches/compare_duckdb.py                   # default: 14 days, ~1.6 GB of JSON
    python3 benches/compare_duckdb.py --size-gb 0.1 --runs 1   # quick check
    python3 benches/compare_duckdb.py --days 30 --scale 2 --keep-corpus

The corpus and outputs live under ``--workdir`` (default ``/tmp/cloudsift-bench``); outputs
are deleted after the run and the corpus too unless ``--keep-corpus``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import statistics
import struct
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
VENV = HERE / ".venv"
REQUIREMENTS = HERE / "requirements.txt"

# Uncompressed JSON per generated day at --scale 1 (measured: about 23.5 MB averaged over a
# week); only used to turn --size-gb into a scale.
MB_PER_DAY_AT_SCALE_1 = 23.5

# ---------------------------------------------------------------------------------------------
# The DuckDB side: explicit CloudTrail structure and the normalisation in SQL.

USER_IDENTITY = (
    'STRUCT("type" VARCHAR, principalId VARCHAR, arn VARCHAR, accountId VARCHAR, '
    "accessKeyId VARCHAR, userName VARCHAR, invokedBy VARCHAR, "
    "sessionContext STRUCT(sessionIssuer STRUCT(arn VARCHAR, userName VARCHAR)), "
    "onBehalfOf STRUCT(userId VARCHAR, identityStoreArn VARCHAR))"
)

RECORD_STRUCT = (
    "STRUCT(eventTime VARCHAR, eventID VARCHAR, eventSource VARCHAR, eventName VARCHAR, "
    "awsRegion VARCHAR, sourceIPAddress VARCHAR, userAgent VARCHAR, errorCode VARCHAR, "
    "errorMessage VARCHAR, recipientAccountId VARCHAR, "
    f"userIdentity {USER_IDENTITY}, "
    "requestParameters JSON, responseElements JSON, resources STRUCT(ARN VARCHAR)[])"
)

# The same structure for json_transform (raw_event mode).
RECORD_JSON_STRUCTURE = json.dumps(
    {
        "eventTime": "VARCHAR",
        "eventID": "VARCHAR",
        "eventSource": "VARCHAR",
        "eventName": "VARCHAR",
        "awsRegion": "VARCHAR",
        "sourceIPAddress": "VARCHAR",
        "userAgent": "VARCHAR",
        "errorCode": "VARCHAR",
        "errorMessage": "VARCHAR",
        "recipientAccountId": "VARCHAR",
        "userIdentity": {
            "type": "VARCHAR",
            "principalId": "VARCHAR",
            "arn": "VARCHAR",
            "accountId": "VARCHAR",
            "accessKeyId": "VARCHAR",
            "userName": "VARCHAR",
            "invokedBy": "VARCHAR",
            "sessionContext": {"sessionIssuer": {"arn": "VARCHAR", "userName": "VARCHAR"}},
            "onBehalfOf": {"userId": "VARCHAR", "identityStoreArn": "VARCHAR"},
        },
        "requestParameters": "JSON",
        "responseElements": "JSON",
        "resources": [{"ARN": "VARCHAR"}],
    }
)

RESOURCE_KEYS = ["roleArn", "secretId", "trailName", "functionName", "bucketName", "logGroupName",
                 "detectorId", "modelId", "userName", "name"]
OUTCOME_OPS = ["ConsoleLogin", "CheckMfa", "SwitchRole", "ExternalIdPDirectoryLogin", "RenewRoleCredentials"]
MASKED = "HIDDEN_DUE_TO_SECURITY_REASONS"


def sql_quote(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def duckdb_query(files_glob: str, out_dir: str, mode: str, keep_raw: bool, dedup: bool, max_object: int) -> str:
    """The COPY statement that normalises the corpus like src/sources/cloudtrail.rs.

    `mode` `struct`: `read_json` parses `Records` straight into the explicit STRUCT type.
    `mode` `transform`: `read_json` gives each record as JSON text (`JSON[]`), parsed once by
    `json_transform` with the same explicit structure; needed to keep `raw_event`.
    """
    common = (f"format='unstructured', records=true, compression='gzip', filename=true, "
              f"maximum_object_size={max_object}")
    if keep_raw or mode == "transform":
        raw = "j::VARCHAR" if keep_raw else "NULL::VARCHAR"
        source = f"""
        SELECT filename, {raw} AS raw_event, json_transform(j, {sql_quote(RECORD_JSON_STRUCTURE)}) AS r, idx
        FROM (
            SELECT filename, unnest(Records) AS j, generate_subscripts(Records, 1) - 1 AS idx
            FROM read_json({sql_quote(files_glob)}, {common}, columns={{'Records': 'JSON[]'}})
        )"""
    else:
        source = f"""
        SELECT filename, NULL::VARCHAR AS raw_event, unnest(Records) AS r, generate_subscripts(Records, 1) - 1 AS idx
        FROM read_json({sql_quote(files_glob)}, {common}, columns={{'Records': {sql_quote(RECORD_STRUCT + '[]')}}})"""
    res_paths = "[" + ", ".join(sql_quote("$." + k) for k in RESOURCE_KEYS) + "]"
    outcome = "CASE r.eventName " + " ".join(
        f"WHEN {sql_quote(op)} THEN json_extract_string(r.responseElements, {sql_quote('$.' + op)})" for op in OUTCOME_OPS
    ) + " END"
    dedup_sql = "QUALIFY row_number() OVER (PARTITION BY account_uid, event_uid ORDER BY time) = 1" if dedup else ""
    return f"""
COPY (
  WITH src AS ({source}),
  n AS (
    SELECT
      CAST(r.eventTime AS TIMESTAMPTZ) AS time,
      r.eventID AS event_uid,
      'aws' AS provider,
      'cloudtrail' AS log_format,
      coalesce(r.recipientAccountId, r.userIdentity.accountId) AS account_uid,
      r.awsRegion AS region,
      r.userIdentity AS ui,
      r.userIdentity."type" AS ut,
      r.sourceIPAddress AS sip,
      r.userAgent AS user_agent,
      r.eventSource AS service,
      r.eventName AS operation,
      {outcome} AS outcome,
      r.errorCode AS error_code,
      r.errorMessage AS error_message,
      coalesce(list_filter(json_extract_string(r.requestParameters, {res_paths}), lambda x: x IS NOT NULL AND x <> '')[1],
               r.resources[1].ARN) AS resource_uid,
      r.requestParameters::VARCHAR AS request_params,
      r.responseElements::VARCHAR AS response_elements,
      raw_event,
      filename AS source_object,
      'record:' || idx AS source_locator
    FROM src
  )
  SELECT
    time, event_uid, provider, log_format, account_uid, region,
    CASE
      WHEN ut = 'IAMUser' AND ui.userName = '{MASKED}' THEN NULL
      WHEN ut = 'IAMUser' THEN coalesce(ui.arn, 'arn:aws:iam::' || ui.accountId || ':user/' || ui.userName)
      WHEN ut = 'AssumedRole' THEN coalesce(ui.sessionContext.sessionIssuer.arn,
          CASE WHEN ui.arn LIKE '%:assumed-role/%' THEN 'arn:' || split_part(ui.arn, ':', 2) || ':iam::'
               || split_part(ui.arn, ':', 5) || ':role/' || split_part(split_part(ui.arn, ':assumed-role/', 2), '/', 1) END)
      WHEN ut = 'Root' THEN coalesce(ui.arn, 'arn:aws:iam::' || ui.accountId || ':root')
      WHEN ut = 'AWSService' THEN ui.invokedBy
      WHEN ut = 'FederatedUser' THEN coalesce(ui.arn, ui.principalId)
      WHEN ut = 'IdentityCenterUser' THEN coalesce(ui.onBehalfOf.identityStoreArn || '/user/' || ui.onBehalfOf.userId, ui.onBehalfOf.userId)
      WHEN ut = 'AWSAccount' THEN ui.accountId
      WHEN ut IN ('SAMLUser', 'WebIdentityUser') THEN coalesce(ui.userName, ui.principalId)
      WHEN ut IS NULL OR ui.userName = '{MASKED}' THEN NULL
      ELSE coalesce(ui.arn, ui.principalId)
    END AS actor_uid,
    CASE
      WHEN ut = 'IAMUser' AND ui.userName = '{MASKED}' THEN NULL
      WHEN ut IN ('IAMUser', 'FederatedUser', 'IdentityCenterUser', 'SAMLUser', 'WebIdentityUser') THEN ui.userName
      WHEN ut = 'AssumedRole' THEN coalesce(ui.sessionContext.sessionIssuer.userName,
          nullif(split_part(split_part(ui.arn, ':assumed-role/', 2), '/', 1), ''))
      WHEN ut = 'Root' THEN 'root'
      WHEN ut = 'AWSService' THEN ui.invokedBy
      WHEN ut IN ('AWSAccount') OR ut IS NULL THEN NULL
      WHEN ui.userName = '{MASKED}' THEN NULL
      ELSE ui.userName
    END AS actor_name,
    CASE
      WHEN ut IS NULL THEN 'none'
      WHEN ut = 'IAMUser' AND ui.userName = '{MASKED}' THEN 'unknown'
      WHEN ut = 'IAMUser' THEN 'iam_user'
      WHEN ut = 'AssumedRole' THEN 'assumed_role'
      WHEN ut = 'Root' THEN 'root'
      WHEN ut = 'AWSService' THEN 'aws_service'
      WHEN ut IN ('FederatedUser', 'SAMLUser', 'WebIdentityUser') THEN 'federated_user'
      WHEN ut = 'IdentityCenterUser' THEN 'identity_center_user'
      WHEN ut = 'AWSAccount' THEN 'aws_account'
      ELSE 'unknown'
    END AS actor_type,
    CASE
      WHEN ut IN ('IAMUser', 'Root', 'FederatedUser') AND coalesce(ui.userName, '') <> '{MASKED}' THEN ui.accessKeyId
      WHEN ut = 'AssumedRole' THEN coalesce(nullif(regexp_extract(ui.arn, ':assumed-role/[^/]*/(.+)$', 1), ''),
                                            nullif(split_part(ui.principalId, ':', 2), ''))
      WHEN ut = 'AWSAccount' THEN ui.principalId
    END AS actor_session_uid,
    CASE WHEN ut = 'AWSService' OR ut IS NULL THEN NULL ELSE ui.accountId END AS actor_account_uid,
    CASE
      WHEN regexp_full_match(sip, '[0-9]{{1,3}}(\\.[0-9]{{1,3}}){{3}}') THEN sip
      WHEN contains(sip, ':') AND regexp_full_match(sip, '[0-9A-Fa-f:.]+') THEN lower(sip)
    END AS src_ip,
    NULL::USMALLINT AS src_port,
    CASE
      WHEN regexp_full_match(sip, '[0-9]{{1,3}}(\\.[0-9]{{1,3}}){{3}}') THEN NULL
      WHEN contains(sip, ':') AND regexp_full_match(sip, '[0-9A-Fa-f:.]+') THEN NULL
      ELSE nullif(trim(sip), '')
    END AS src_host,
    user_agent, service, operation,
    CASE
      WHEN lower(outcome) = 'success' THEN 'success'
      WHEN lower(outcome) IN ('failure', 'failed') THEN 'failure'
      WHEN outcome IS NOT NULL THEN 'unknown'
      WHEN error_code IS NOT NULL THEN 'failure'
      ELSE 'success'
    END AS status,
    coalesce(outcome, error_code) AS status_raw,
    error_code, error_message, resource_uid, request_params, response_elements, raw_event,
    source_object, source_locator,
    strftime(time, '%Y-%m-%d') AS date,
    ((isodow(time) - 1) * 24 + hour(time))::UTINYINT AS hour_of_week,
    'duckdb-bench' AS ingest_run_uid
  FROM n
  {dedup_sql}
  ORDER BY time
) TO {sql_quote(out_dir)} (FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1, ROW_GROUP_SIZE 131072,
     PARTITION_BY (provider, date), WRITE_PARTITION_COLUMNS true, OVERWRITE_OR_IGNORE true)
"""


def worker(argv: list[str]) -> int:
    """Runs one DuckDB ingest in this (child) process: `--worker GLOB OUT THREADS MODE RAW DEDUP MAXOBJ`."""
    import duckdb

    files_glob, out_dir, threads, mode, keep_raw, dedup, max_object = argv
    Path(out_dir).parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"SET threads = {int(threads)}")
    con.execute("SET preserve_insertion_order = true")
    q = duckdb_query(files_glob, out_dir, mode, keep_raw == "1", dedup == "1", int(max_object))
    con.execute(q)
    return 0


# ---------------------------------------------------------------------------------------------
# Orchestration.

def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def ensure_venv() -> Path:
    """Creates benches/.venv with the pinned DuckDB when needed; returns its python."""
    py = VENV / "bin" / "python"
    pinned = re.search(r"duckdb==([\w.]+)", REQUIREMENTS.read_text()).group(1)
    if py.exists():
        ok = subprocess.run([str(py), "-c", f"import duckdb, sys; sys.exit(duckdb.__version__ != '{pinned}')"],
                            capture_output=True).returncode == 0
        if ok:
            return py
    log(f"setting up {VENV} with duckdb=={pinned} ...")
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    subprocess.run([str(py), "-m", "pip", "install", "-q", "-r", str(REQUIREMENTS)], check=True)
    return py


def target_dir() -> Path:
    return Path(os.environ.get("CARGO_TARGET_DIR") or REPO / "target")


def build() -> Path:
    log("building cloudsift (release) ...")
    subprocess.run(["cargo", "build", "--release", "--bin", "cloudsift"], cwd=REPO, check=True)
    return target_dir() / "release" / "cloudsift"


def corpus_stats(root: Path) -> dict:
    """Objects, gzip bytes and JSON bytes (from each gzip trailer's ISIZE) of the corpus."""
    files, gz, js, largest = 0, 0, 0, 0
    for p in (root / "AWSLogs").rglob("*.json.gz"):
        size = p.stat().st_size
        with open(p, "rb") as f:
            f.seek(-4, os.SEEK_END)
            isize = struct.unpack("<I", f.read(4))[0]  # < 4 GiB per object
        files, gz, js, largest = files + 1, gz + size, js + isize, max(largest, isize)
    return {"objects": files, "gzip_bytes": gz, "json_bytes": js, "largest_object": largest}


def timed(cmd: list[str], env: dict | None = None) -> tuple[float, float, str]:
    """Runs `cmd`; returns (wall seconds, peak RSS in MB, stdout)."""
    gnu_time = Path("/usr/bin/time")
    use_time = gnu_time.exists()
    full = [str(gnu_time), "-v", *cmd] if use_time else cmd
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    p = subprocess.run(full, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        log(p.stdout[-3000:])
        log(p.stderr[-3000:])
        raise SystemExit(f"command failed ({p.returncode}): {' '.join(cmd)}")
    if use_time:
        m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr)
        rss_kb = int(m.group(1)) if m else 0
    else:
        # ru_maxrss of children is the largest of any child so far: exact only when this one is
        # the largest (good enough as a fallback).
        rss_kb = max(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, before)
    return wall, rss_kb / 1024, p.stdout


def dir_bytes(d: Path) -> int:
    return sum(p.stat().st_size for p in d.rglob("*.parquet"))


def verify(py: Path, cs_lake: Path, dd_out: Path, threads: int) -> dict:
    """Row counts, schemas and per-column agreement of the two outputs (run in the venv)."""
    code = f"""
import duckdb, json
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
con.execute("SET TimeZone = 'UTC'")
con.execute("SET threads = {threads}")
a = {sql_quote(str(cs_lake / 'events' / '**' / '*.parquet'))}
b = {sql_quote(str(dd_out / '**' / '*.parquet'))}
src = lambda g: f"read_parquet('{{g}}', hive_partitioning=false, union_by_name=false)"
out = {{}}
out['rows'] = [con.execute(f"SELECT count(*) FROM {{src(a)}}").fetchone()[0],
               con.execute(f"SELECT count(*) FROM {{src(b)}}").fetchone()[0]]
da = con.execute(f"DESCRIBE SELECT * FROM {{src(a)}}").fetchall()
db = con.execute(f"DESCRIBE SELECT * FROM {{src(b)}}").fetchall()
out['columns'] = [[c[0] for c in da], [c[0] for c in db]]
ta = {{c[0]: c[1] for c in da}}; tb = {{c[0]: c[1] for c in db}}
out['type_mismatch'] = {{k: [ta[k], tb.get(k)] for k in ta if ta[k] != tb.get(k)}}
cols = [c for c in ta if c in tb and c not in ('ingest_run_uid', 'source_object', 'raw_event', 'request_params', 'response_elements')]
diff = ", ".join(f"count(*) FILTER (WHERE x.{{c}} IS DISTINCT FROM y.{{c}}) AS {{c}}" for c in cols)
row = con.execute(f"SELECT count(*) AS joined, {{diff}} FROM {{src(a)}} x JOIN {{src(b)}} y USING (account_uid, event_uid)").fetchone()
out['joined'] = row[0]
out['differences'] = {{c: v for c, v in zip(cols, row[1:]) if v}}
# JSON columns compared as parsed JSON (DuckDB may re-serialise whitespace).
for c in ('request_params', 'response_elements', 'raw_event'):
    out['differences_' + c] = con.execute(f"SELECT count(*) FILTER (WHERE json(x.{{c}}) IS DISTINCT FROM json(y.{{c}})) FROM {{src(a)}} x JOIN {{src(b)}} y USING (account_uid, event_uid)").fetchone()[0]
print(json.dumps(out))
"""
    p = subprocess.run([str(py), "-c", code], capture_output=True, text=True)
    if p.returncode != 0:
        log(p.stderr[-3000:])
        raise SystemExit("verification query failed")
    return json.loads(p.stdout.strip().splitlines()[-1])


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        return worker(sys.argv[2:])
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--days", type=int, default=14, help="days of activity to generate (default 14)")
    ap.add_argument("--scale", type=float, help="generator volume multiplier (default: from --size-gb)")
    ap.add_argument("--size-gb", type=float, default=1.6, help="target uncompressed JSON in GB (10^9 bytes) when --scale is not given (default 1.6)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--runs", type=int, default=3, help="runs per side; medians are reported (default 3)")
    ap.add_argument("--threads", type=int, default=2, help="threads for each side (default 2)")
    ap.add_argument("--workdir", default="/tmp/cloudsift-bench", help="where the corpus and outputs go")
    ap.add_argument("--bin", help="cloudsift binary to use (default: build the release binary)")
    ap.add_argument("--no-raw-variants", action="store_true", help="skip the runs that keep raw_event")
    ap.add_argument("--duckdb-modes", default="struct,transform",
                    help="DuckDB variants without raw_event: struct (read_json into the explicit STRUCT), "
                         "transform (JSON[] + json_transform with the same structure); default both")
    ap.add_argument("--duckdb-dedup", action="store_true", help="add an in-run dedup by (account_uid, event_uid) to DuckDB")
    ap.add_argument("--keep-corpus", action="store_true", help="keep (and reuse) the generated corpus")
    args = ap.parse_args()

    py = ensure_venv()
    exe = Path(args.bin) if args.bin else build()
    scale = args.scale if args.scale else round(args.size_gb * 1000 / (args.days * MB_PER_DAY_AT_SCALE_1), 3)
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    corpus = work / f"corpus-d{args.days}-x{scale}-s{args.seed}"
    if corpus.exists() and not (args.keep_corpus and (corpus / "labels.jsonl").exists()):
        shutil.rmtree(corpus)
    if not corpus.exists():
        log(f"generating {args.days} days at scale {scale} into {corpus} ...")
        t0 = time.perf_counter()
        subprocess.run([str(exe), "generate", "--out", str(corpus), "--days", str(args.days), "--seed", str(args.seed),
                        "--scale", str(scale)], check=True)
        log(f"generated in {time.perf_counter() - t0:.1f} s")
    st = corpus_stats(corpus)
    mb = st["json_bytes"] / 1e6
    log(f"corpus: {st['objects']} objects, {mb:,.0f} MB JSON, {st['gzip_bytes'] / 1e6:,.0f} MB gzip")
    if st["json_bytes"] < 1.5e9 and args.scale is None and args.size_gb >= 1.5:
        log("warning: corpus below 1.5 GB; raise --size-gb or --scale")

    env = dict(os.environ, RAYON_NUM_THREADS=str(args.threads), POLARS_MAX_THREADS=str(args.threads))
    max_object = max(16 << 20, 4 * st["largest_object"])
    modes = [m.strip() for m in args.duckdb_modes.split(",") if m.strip()]
    if not modes or any(m not in ("struct", "transform") for m in modes):
        raise SystemExit("--duckdb-modes takes struct and/or transform")
    # (tool, DuckDB mode, raw_event kept). Keeping raw_event needs the record text: transform.
    variants: list[tuple[str, str, bool]] = [("cloudsift", "", False)] + [("DuckDB", m, False) for m in modes]
    if not args.no_raw_variants:
        variants += [("cloudsift", "", True), ("DuckDB", "transform", True)]
    results: dict[tuple[str, str, bool], list[tuple[float, float]]] = {v: [] for v in variants}
    outputs: dict[tuple[str, str, bool], tuple[Path, int]] = {}
    for run in range(args.runs):
        for v in variants:
            tool, mode, raw = v
            out = work / f"out-{tool.lower()}{'-' + mode if mode else ''}-{'raw' if raw else 'noraw'}"
            shutil.rmtree(out, ignore_errors=True)
            if tool == "cloudsift":
                cmd = [str(exe), "ingest", str(corpus / "AWSLogs"), "--lake", str(out)]
                if not raw:
                    cmd.append("--no-raw-event")
            else:
                glob = str(corpus / "AWSLogs" / "**" / "*.json.gz")
                cmd = [str(py), str(Path(__file__).resolve()), "--worker", glob, str(out / "events"), str(args.threads),
                       mode, "1" if raw else "0", "1" if args.duckdb_dedup else "0", str(max_object)]
            wall, rss, _ = timed(cmd, env)
            results[v].append((wall, rss))
            outputs[v] = (out, dir_bytes(out))
            log(f"run {run + 1}/{args.runs} {label(v):28s}: {wall:7.2f} s {mb / wall:7.1f} MB/s  peak RSS {rss:7.0f} MB")

    checks = {}
    for v in variants:
        if v[0] == "DuckDB":
            checks[v] = verify(py, outputs[("cloudsift", "", v[2])][0], outputs[v][0], args.threads)
    for out, _ in outputs.values():
        shutil.rmtree(out, ignore_errors=True)
    if not args.keep_corpus:
        shutil.rmtree(corpus, ignore_errors=True)

    version = subprocess.run([str(py), "-c", "import duckdb; print(duckdb.__version__)"], capture_output=True, text=True).stdout.strip()
    med = {k: (statistics.median(w for w, _ in v), statistics.median(r for _, r in v)) for k, v in results.items()}
    best = {k: min(w for w, _ in v) for k, v in results.items()}
    print()
    print(f"Corpus: `cloudsift generate --days {args.days} --scale {scale} --seed {args.seed}`: {st['objects']:,} CloudTrail "
          f"objects, {mb:,.0f} MB of JSON ({st['gzip_bytes'] / 1e6:,.0f} MB gzip). Machine: {os.cpu_count()} cores "
          f"({cpu_model()}), {args.threads} threads per side, DuckDB {version}, median of {args.runs} run(s); "
          f"MB = 10^6 bytes of uncompressed JSON.")
    print()
    print("| tool | raw_event | median wall (s) | fastest (s) | throughput (MB/s, median) | peak RSS (MB) | Parquet out (MB) | rows |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for v in variants:
        wall, rss = med[v]
        if v[0] == "cloudsift":
            rows = next((c["rows"][0] for k, c in checks.items() if k[2] == v[2]), None)
        else:
            rows = checks[v]["rows"][1]
        rows_text = f"{rows:,}" if rows is not None else "?"
        print(f"| {label(v)} | {'kept' if v[2] else 'dropped'} | {wall:.2f} | {best[v]:.2f} | {mb / wall:,.1f} | {rss:,.0f} | "
              f"{outputs[v][1] / 1e6:,.0f} | {rows_text} |")
    print()
    for raw in sorted({v[2] for v in variants}):
        cs = med[("cloudsift", "", raw)][0]
        duck = [(med[v][0], v) for v in variants if v[0] == "DuckDB" and v[2] == raw]
        fastest, bv = min(duck)
        ratio = fastest / cs
        print(f"- raw_event {'kept' if raw else 'dropped'}: cloudsift/DuckDB throughput ratio **{ratio:.2f}×** (medians) "
              f"against the faster DuckDB variant ({label(bv)}; {'cloudsift faster' if ratio > 1 else 'DuckDB faster'}); "
              f"{best[bv] / best[('cloudsift', '', raw)]:.2f}× on the fastest runs"
              + "".join(f"; {w / cs:.2f}× against {label(x)}" for w, x in duck if x != bv) + ".")
    ok = True
    for v, c in checks.items():
        same_rows = c["rows"][0] == c["rows"][1]
        ok &= same_rows
        cols = c["columns"]
        print(f"- check {label(v)} vs cloudsift (raw_event {'kept' if v[2] else 'dropped'}): rows {c['rows'][0]:,} vs "
              f"{c['rows'][1]:,} ({'same' if same_rows else 'DIFFERENT'}); {c['joined']:,} joined on (account_uid, event_uid); "
              f"columns {'same names in the same order' if cols[0] == cols[1] else 'same set' if set(cols[0]) == set(cols[1]) else 'DIFFER'}; "
              f"type differences {c['type_mismatch'] or 'none'}; value differences {c['differences'] or 'none'}; "
              f"JSON differences: request_params {c['differences_request_params']}, response_elements "
              f"{c['differences_response_elements']}, raw_event {c['differences_raw_event']}.")
    return 0 if ok else 1


def label(v: tuple[str, str, bool]) -> str:
    return f"DuckDB ({'read_json STRUCT' if v[1] == 'struct' else 'JSON[] + json_transform'})" if v[0] == "DuckDB" else "cloudsift"


if __name__ == "__main__":
    sys.exit(main())
