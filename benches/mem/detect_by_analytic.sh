#!/usr/bin/env bash
# Peak memory of `cloudsift detect` per analytic (issue 6: "under 2 GB peak on a 5 GB corpus").
#
# Usage:
#   benches/mem/detect_by_analytic.sh BINARY LAKE DAY [PIPELINE]
#
#   BINARY    a cloudsift binary (release build), e.g. $CARGO_TARGET_DIR/release/cloudsift
#   LAKE      a local lake folder written by `cloudsift ingest` / `run` (has events/)
#   DAY       the UTC day scored, YYYY-MM-DD: detect runs with
#             --as-of DAY+1T00:00:00Z --window-hours 24, as `run` scores a day
#   PIPELINE  optional pipeline file whose [analytics.<id>] settings (directory,
#             change_requests, history lengths...) and [catalog] apply; without it every
#             analytic runs with its defaults, as `cloudsift detect` without --pipeline does
#
# Environment:
#   ALL_ANALYTICS  space-separated ids of every analytic the binary has (each is disabled
#                  unless measured); default: ANALYTIC_IDS of src/analytics/mod.rs in the
#                  checkout this script sits in (set it when BINARY is of another version)
#   ANALYTICS      the ids to measure, one row each; default: ALL_ANALYTICS
#   SKIP_ALL=1     omit the last row (every analytic enabled)
#
# For each analytic it writes a copy of PIPELINE (or a minimal one) with that analytic's
# `[analytics.<id>] enabled = true` and every other `enabled = false`, runs
#   /usr/bin/time -v BINARY detect --lake LAKE --as-of ... --window-hours 24 --pipeline COPY -q
# once, and prints one Markdown row: peak RSS ("Maximum resident set size", in MB = 10^6
# bytes), wall clock seconds and the number of findings detect reported (suppressed
# included). The last row has every analytic enabled. The copies sit beside PIPELINE (its
# relative paths resolve against its folder) as .detect_by_analytic.<pid>.<id>.toml and are
# removed on exit. Runs are sequential and each is a separate process, so the peaks do not
# mix; run it on an otherwise idle machine for wall times (RSS does not depend on load).
#
# Note: detect writes its findings into LAKE/findings (as any detect does); per-analytic
# runs add the same findings the all-analytics run rewrites, so repeating the script gives
# the same table.
#
# Needs: bash, GNU time at /usr/bin/time, python3 (3.11+, for tomllib), GNU date.
set -euo pipefail

die() { echo "detect_by_analytic.sh: $*" >&2; exit 2; }

[ $# -ge 3 ] && [ $# -le 4 ] || die "usage: $0 BINARY LAKE DAY [PIPELINE] (see the header of this file)"
bin=$1 lake=$2 day=$3 pipeline=${4:-}

[ -f "$bin" ] && [ -x "$bin" ] || die "binary \`$bin\` is missing or not executable (build it: cargo build --release)"
[ -d "$lake" ] || die "lake \`$lake\` is not a folder"
[ -d "$lake/events" ] || die "lake \`$lake\` has no events/ folder: ingest a corpus into it first (cloudsift ingest ... --lake $lake)"
[[ $day =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}$ ]] || die "DAY \`$day\` is not YYYY-MM-DD"
as_of=$(date -u -d "$day + 1 day" +%Y-%m-%dT00:00:00Z 2>/dev/null) || die "DAY \`$day\` is not a valid date"
[ -x /usr/bin/time ] || die "/usr/bin/time (GNU time) is missing: apt-get install time"
command -v python3 >/dev/null || die "python3 is missing"
if [ -n "$pipeline" ]; then
    [ -f "$pipeline" ] || die "pipeline file \`$pipeline\` is missing"
fi

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ -z "${ALL_ANALYTICS:-}" ]; then
    mod="$here/../../src/analytics/mod.rs"
    [ -f "$mod" ] || die "cannot find $mod to read ANALYTIC_IDS; set ALL_ANALYTICS=\"id1 id2 ...\""
    # The array literal `pub const ANALYTIC_IDS: [&str; N] = [ "a", "b", ... ];`.
    ALL_ANALYTICS=$(sed -n '/pub const ANALYTIC_IDS/,/\];/p' "$mod" | grep -o '"[a-z_0-9]*"' | tr -d '"' | tr '\n' ' ')
    [ -n "$ALL_ANALYTICS" ] || die "no ANALYTIC_IDS found in $mod; set ALL_ANALYTICS=\"id1 id2 ...\""
fi
read -r -a all_ids <<< "$ALL_ANALYTICS"
read -r -a ids <<< "${ANALYTICS:-$ALL_ANALYTICS}"
for id in "${ids[@]}"; do
    [[ " $ALL_ANALYTICS " == *" $id "* ]] || die "analytic \`$id\` is not one of: $ALL_ANALYTICS"
done

if [ -n "$pipeline" ]; then
    cfg_dir=$(cd "$(dirname "$pipeline")" && pwd)
else
    cfg_dir=$(mktemp -d)
fi
tmp_files=()
cleanup() {
    for f in "${tmp_files[@]}"; do rm -f "$f"; done
    [ -n "$pipeline" ] || rm -rf "$cfg_dir"
}
trap cleanup EXIT

# write_config OUT ENABLED_IDS...: PIPELINE (or a minimal pipeline) with `enabled` set for
# every analytic of $ALL_ANALYTICS: true for ENABLED_IDS, false for the others. Existing
# `enabled` keys in [analytics.<id>] tables are replaced; the result is checked with tomllib.
write_config() {
    local out=$1; shift
    python3 - "$out" "$pipeline" "$ALL_ANALYTICS" "$*" <<'PY'
import re, sys, tomllib
out, base, all_ids, on = sys.argv[1], sys.argv[2], sys.argv[3].split(), set(sys.argv[4].split())
if base:
    text = open(base, encoding="utf-8").read()
else:
    # Pipeline::load needs a source and a lake; detect reads neither from the file.
    text = '[[sources]]\nname = "unused"\nurl = "unused"\n\n[lake]\nurl = "unused"\n'
header = re.compile(r'^\s*\[\s*analytics\.([A-Za-z0-9_]+)\s*\]\s*(#.*)?$')
any_header = re.compile(r'^\s*\[')
enabled_key = re.compile(r'^\s*enabled\s*=')
lines, section, seen = [], None, set()
for line in text.splitlines():
    m = header.match(line)
    if m:
        section = m.group(1)
    elif any_header.match(line):
        section = None
    if section in all_ids and enabled_key.match(line):
        continue
    lines.append(line)
    if m and section in all_ids:
        seen.add(section)
        lines.append(f"enabled = {'true' if section in on else 'false'}")
for a in all_ids:
    if a not in seen:
        lines += ["", f"[analytics.{a}]", f"enabled = {'true' if a in on else 'false'}"]
result = "\n".join(lines) + "\n"
parsed = tomllib.loads(result).get("analytics", {})
for a in all_ids:
    got = parsed.get(a, {}).get("enabled")
    if got is not (a in on):
        sys.exit(f"detect_by_analytic.sh: could not set analytics.{a}.enabled in {base or 'the minimal pipeline'} (got {got!r}); "
                 "is it set with a dotted key under [analytics]?")
open(out, "w", encoding="utf-8").write(result)
PY
}

# measure LABEL ENABLED_IDS...: one detect run; prints one Markdown row.
measure() {
    local label=$1; shift
    local cfg="$cfg_dir/.detect_by_analytic.$$.$label.toml"
    local tv stdout rc
    tmp_files+=("$cfg")
    write_config "$cfg" "$@"
    tv=$(mktemp) stdout=$(mktemp)
    tmp_files+=("$tv" "$stdout")
    rc=0
    /usr/bin/time -v -o "$tv" "$bin" detect --lake "$lake" --as-of "$as_of" --window-hours 24 --pipeline "$cfg" -q >"$stdout" 2>"$stdout.err" || rc=$?
    tmp_files+=("$stdout.err")
    local kb wall findings
    kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tv")
    # "Elapsed (wall clock) time (h:mm:ss or m:ss): 0:52.31"
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; printf "%.1f", s}' "$tv")
    findings=$(sed -n 's/^scored .*; \([0-9]*\) finding(s) written.*/\1/p' "$stdout" | head -1)
    if [ "$rc" -ne 0 ] || [ -z "$findings" ]; then
        echo "detect with $label failed (exit $rc); its stderr:" >&2
        tail -20 "$stdout.err" >&2
        findings="failed (exit $rc)"
    fi
    # Findings of an analytic that should have been off mean ALL_ANALYTICS misses an id of
    # this binary: that analytic ran (and used memory) in every row.
    local others
    others=$(awk -v on=" $* " '/^analytic +severity +count$/ {t = 1; next} t && NF == 0 {t = 0} t && index(on, " " $1 " ") == 0 {print $1}' "$stdout" | sort -u | tr '\n' ' ')
    if [ -n "$others" ]; then
        echo "detect with $label reported findings of $others: set ALL_ANALYTICS to every analytic id of $bin" >&2
    fi
    printf '| %s | %s | %s | %s |\n' "$label" "$(awk -v k="$kb" 'BEGIN {printf "%d", k * 1024 / 1e6}')" "$wall" "$findings"
}

echo "detect on \`$lake\`, day $day (--as-of $as_of, 24 h window), binary \`$bin\`${pipeline:+, settings of \`$pipeline\`}"
echo
echo "| analytic | peak RSS (MB) | wall (s) | findings |"
echo "|---|---:|---:|---:|"
for id in "${ids[@]}"; do
    measure "$id" "$id"
done
if [ "${SKIP_ALL:-0}" != 1 ]; then
    measure "all" "${all_ids[@]}"
fi
