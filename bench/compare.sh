#!/usr/bin/env bash
# Benchmark (not a test): scrutiny and DuckDB side by side on the same synthetic files.
#   bench/compare.sh [SCALE] [WORKDIR]        SCALE 1 is the seed's council, 150 about England
#
# One run, one machine, so the ratios mean something on a noisy host. It measures:
#   synth    scrutiny synth --scale SCALE --seed 7 (wall, peak)
#   run      scrutiny run from the CSV files (land + compute + publish) against DuckDB reading
#            the same CSV files as text, typing them in SQL and computing the same measures
#   compute  scrutiny compute from that run's landing against DuckDB over the same Parquet
#   land     scrutiny's landing (CSV to Parquet, from the run's log) against DuckDB's
#            COPY (SELECT ...) TO ... (FORMAT parquet) on the same files, in MB/s of CSV
# and checks that both give the same rows (metric, period, org unit, category, numerator,
# denominator) and the same data-quality counts. DuckDB's side is bench/duckdb/measures.py: it
# runs the project's own SQL (sql/staging, sql/measures, sql/quality) in DuckDB, with the Rust
# functions written as DuckDB macros. scrutiny's compute always runs the quality rules, so DuckDB
# runs them too; the "measures only" lines (*) take DuckDB's time for the rules off its wall time,
# and the "both measures only" lines (**) take each side's rules off its own. scrutiny's rules
# share a queue with its measures, two statements at a time, so they have no phase of their own:
# its log gives the queue's wall time (first start to last end) and each statement's ms, and the
# rules' share is that wall time times their ms over all the queue's ms.
#
# Needs python3 and GNU time (/usr/bin/time); installs PyPI duckdb and PyYAML when missing.
# COMPARE_ROUNDS (default 3): how many times run and compute are timed on each side, alternating;
# the table shows medians. COMPARE_MEMORY_LIMIT (e.g. 1GiB) sets scrutiny's compute.memory_limit.
# For a before/after table: SCRUTINY_BIN (an older build) and SCRUTINY_SQL (its sql/ directory)
# replace scrutiny's side; DuckDB always runs this checkout's SQL.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
scale=${1:-150}
work=${2:-/tmp/scrutiny-compare-$scale}
command -v /usr/bin/time >/dev/null || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 1; }
python3 -c 'import duckdb, yaml' 2>/dev/null || python3 -m pip install --quiet duckdb pyyaml
if [ -n "${SCRUTINY_BIN:-}" ]; then
  bin=$SCRUTINY_BIN
else
  cargo build --release -p scrutiny
  bin=${CARGO_TARGET_DIR:-target}/release/scrutiny
fi
sql_dir=${SCRUTINY_SQL:-$root/sql}
mkdir -p "$work"
timed() { # timed NAME CMD...: runs CMD, appends "NAME wall_s peak_kib" to $work/times
  local name=$1; shift
  /usr/bin/time -f "$name %e %M" -a -o "$work/times" "$@"
}
: > "$work/times"

echo "== synth --scale $scale --seed 7"
rm -rf "$work/ssd"
timed synth "$bin" synth --out "$work/ssd" --scale "$scale" --seed 7 >/dev/null
csv_mb=$(du -sm "$work/ssd" | cut -f1)

source bench/settings.sh
files_settings "$work/scrutiny.yaml" "$sql_dir" . "${COMPARE_MEMORY_LIMIT:+compute:
  memory_limit: $COMPARE_MEMORY_LIMIT
  spill_dir: ./spill}"
# The machine is shared and noisy: each side runs ROUNDS times, alternating, and the table
# shows medians (peaks: the largest) with the spread of the per-round ratios.
rounds=${COMPARE_ROUNDS:-3}
for round in $(seq 1 "$rounds"); do
  rm -rf "$work/landing" "$work/mart" "$work/scratch" "$work/duck-land"
  echo "== round $round of $rounds: scrutiny run"
  timed scrutiny_run "$bin" --log-format json run --config "$work/scrutiny.yaml" --period 2022-01 2> "$work/run-$round.log" \
    || { tail -5 "$work/run-$round.log"; exit 1; }
  landing=$(ls -d "$work"/landing/*/ | head -1)
  echo "== round $round of $rounds: DuckDB run"
  timed duckdb_run python3 bench/duckdb/measures.py --sources "csv:$work/ssd" --project sql --reference config/reference \
    --teams "$work/ssd/team_org_units.csv" --period 2022-01 --out "$work/duckdb-rows.csv" \
    --timings "$work/duckdb-run-$round.json" --quality "$work/duckdb-quality.csv"
  echo "== round $round of $rounds: scrutiny compute (from the landing)"
  timed scrutiny_compute "$bin" --log-format json compute --config "$work/scrutiny.yaml" --period 2022-01 \
    --out "$work/scratch" >/dev/null 2> "$work/compute-$round.log" || { tail -5 "$work/compute-$round.log"; exit 1; }
  echo "== round $round of $rounds: DuckDB compute (from the same Parquet)"
  timed duckdb_compute python3 bench/duckdb/measures.py --sources "parquet:$landing" --project sql \
    --reference config/reference --teams "$work/ssd/team_org_units.csv" --period 2022-01 \
    --out "$work/duckdb-compute-rows.csv" --timings "$work/duckdb-compute-$round.json" \
    --quality "$work/duckdb-compute-quality.csv"
done
echo "== DuckDB landing (COPY to Parquet)"
python3 bench/duckdb/measures.py --sources "csv:$work/ssd" --project sql --reference config/reference \
  --teams "$work/ssd/team_org_units.csv" --period 2022-01 --land "$work/duck-land" --timings "$work/duckdb-land.json" 2>/dev/null

echo
echo "== same rows?"
python3 bench/duckdb/same_rows.py "$work/mart/current/metric_values.parquet" "$work/duckdb-rows.csv"
python3 bench/duckdb/same_rows.py "$work/mart/current/metric_values.parquet" "$work/duckdb-compute-rows.csv" >/dev/null \
  || { echo "DuckDB over scrutiny's landing differs from the mart"; exit 1; }
python3 bench/duckdb/same_rows.py --quality "$work/mart/current/data_quality.parquet" "$work/duckdb-quality.csv"
python3 bench/duckdb/same_rows.py --quality "$work/mart/current/data_quality.parquet" "$work/duckdb-compute-quality.csv" >/dev/null \
  || { echo "DuckDB's quality counts over scrutiny's landing differ from the mart"; exit 1; }

python3 - "$work" "$scale" "$csv_mb" "$rounds" <<'PY'
import datetime, json, statistics, sys
work, scale, csv_mb, rounds = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
t = {}
for line in open(f"{work}/times"):
    parts = line.split()
    if len(parts) == 3 and parts[0].replace("_", "").isalpha():
        t.setdefault(parts[0], []).append((float(parts[1]), int(parts[2]) / 1024))
wall = lambda name: [w for w, _ in t[name]]
med = lambda xs: statistics.median(xs)
landed = []
for r in range(1, rounds + 1):
    for line in open(f"{work}/run-{r}.log"):
        try:
            f = json.loads(line).get("fields", {})
        except ValueError:
            continue
        if f.get("message") == "landed":
            landed.append(f["ms"] / 1000)
duck_land = json.load(open(f"{work}/duckdb-land.json"))["sources_ms"] / 1000
def own_rules(log):
    """scrutiny's quality rules' share of the wall time of its measures-and-rules queue."""
    spans = {"measure computed": [], "quality rule run": []}
    for line in open(log):
        try:
            j = json.loads(line)
        except ValueError:
            continue
        f = j.get("fields", {})
        if f.get("message") in spans:
            end = datetime.datetime.fromisoformat(j["timestamp"].replace("Z", "+00:00")).timestamp()
            spans[f["message"]].append((end - f["ms"] / 1000, end))
    every = spans["measure computed"] + spans["quality rule run"]
    wall = max(e for _, e in every) - min(s for s, _ in every)
    busy = lambda xs: sum(e - s for s, e in xs)
    return wall * busy(spans["quality rule run"]) / busy(every)
own = {s: [own_rules(f"{work}/{s}-{r}.log") for r in range(1, rounds + 1)] for s in ("run", "compute")}
rules = {s: [json.load(open(f"{work}/duckdb-{s}-{r}.json"))["quality_ms"] / 1000 for r in range(1, rounds + 1)]
         for s in ("run", "compute")}
print(f"\nscale {scale}: {csv_mb:.0f} MB of CSV; medians of {rounds} rounds (peaks: the largest)")
print(f"{'':10} {'scrutiny':>18} {'DuckDB':>18} {'ratio':>12}  {'per round':>10}")
spread = lambda xs: f"x{min(xs):.2f}-x{max(xs):.2f}" if len(xs) > 1 else ""
for stage in ("run", "compute"):
    s, d = wall(f"scrutiny_{stage}"), wall(f"duckdb_{stage}")
    sp, dp = max(p for _, p in t[f"scrutiny_{stage}"]), max(p for _, p in t[f"duckdb_{stage}"])
    per = [a / b for a, b in zip(s, d)]
    print(f"{stage:10} {med(s):8.1f} s {sp:6.0f} MiB {med(d):8.1f} s {dp:6.0f} MiB   time x{med(s) / med(d):.2f} "
          f"peak x{sp / dp:.2f}  {spread(per)}")
for stage in ("run", "compute"):
    s = wall(f"scrutiny_{stage}")
    d = [w - q for w, q in zip(wall(f"duckdb_{stage}"), rules[stage])]
    per = [a / b for a, b in zip(s, d)]
    print(f"{stage + '*':10} {med(s):8.1f} s {'':10} {med(d):8.1f} s {'':10}   time x{med(s) / med(d):.2f} "
          f"{'':10}  {spread(per)}")
for stage in ("run", "compute"):
    s = [w - q for w, q in zip(wall(f"scrutiny_{stage}"), own[stage])]
    d = [w - q for w, q in zip(wall(f"duckdb_{stage}"), rules[stage])]
    per = [a / b for a, b in zip(s, d)]
    print(f"{stage + '**':10} {med(s):8.1f} s {'':10} {med(d):8.1f} s {'':10}   time x{med(s) / med(d):.2f} "
          f"{'':10}  {spread(per)}")
sl = med(landed)
print(f"{'land':10} {csv_mb / sl:8.1f} MB/s        {csv_mb / duck_land:8.1f} MB/s          time x{sl / duck_land:.2f}")
sw, sp = t["synth"][0]
print(f"{'synth':10} {sw:8.1f} s {sp:6.0f} MiB")
print("* DuckDB measures only: its wall time less the quality rules' (medians: run {:.1f} s, compute {:.1f} s)".format(
    med(rules["run"]), med(rules["compute"])))
print("** both measures only: each side's wall time less its own quality rules' (scrutiny's medians: run {:.1f} s, "
      "compute {:.1f} s)".format(med(own["run"]), med(own["compute"])))
PY
