#!/usr/bin/env bash
# Benchmark (not a test): the monthly run on national-scale synthetic data.
#   bench/compute.sh [SCALE] [WORKDIR]
# Synthesises `scrutiny synth --scale SCALE` (default 150, about England), runs January 2022,
# and reports each stage's wall time from the JSON log plus the run's peak memory. Also times
# the demo (release build). Needs GNU time (/usr/bin/time, Debian package `time`).
set -euo pipefail
cd "$(dirname "$0")/.."
scale=${1:-150}
work=${2:-/tmp/scrutiny-bench-$scale}
cargo build --release -p scrutiny
bin=target/release/scrutiny
command -v /usr/bin/time >/dev/null || { echo "needs /usr/bin/time (apt-get install time)"; exit 1; }

echo "== demo (release)"
rm -rf var/demo
/usr/bin/time -f "demo: %e s wall, %M KiB peak" "$bin" demo >/dev/null 2>"$work-demo.log"

mkdir -p "$work"
if [ ! -f "$work/ssd/ssd_person.csv" ]; then
  echo "== synth --scale $scale"
  /usr/bin/time -f "synth: %e s wall, %M KiB peak" "$bin" synth --out "$work/ssd" --scale "$scale" --seed 1
fi
du -sh "$work/ssd"
source bench/settings.sh
files_settings "$work/scrutiny.yaml" "$PWD/sql" .
rm -rf "$work/landing" "$work/mart"
echo "== run --period 2022-01"
/usr/bin/time -f "run: %e s wall, %M KiB peak" "$bin" --log-format json run --config "$work/scrutiny.yaml" --period 2022-01 2> "$work/run.log" || { tail -5 "$work/run.log"; exit 1; }
tail -1 "$work/run.log"
python3 - "$work/run.log" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    try:
        e = json.loads(line)
    except ValueError:
        print(line.strip()); continue
    f = e.get("fields", {})
    if f.get("message") in ("landed", "computed", "run complete"):
        print(f'{f["message"]:>12}: {f.get("ms")} ms  rows={f.get("rows", "")}')
PY
