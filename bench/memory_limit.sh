#!/usr/bin/env bash
# Benchmark (not a test): the monthly run at national scale with and without
# `compute.memory_limit`, side by side on the same files in one invocation.
#   bench/memory_limit.sh [SCALE] [LIMIT] [WORKDIR]      (defaults: 150, 1.5GiB)
# Prints wall time and peak RSS of each run and their ratios, and checks both marts agree.
# Needs GNU time (/usr/bin/time, Debian package `time`).
set -euo pipefail
cd "$(dirname "$0")/.."
scale=${1:-150}
limit=${2:-1.5GiB}
work=${3:-/tmp/scrutiny-bench-$scale}
cargo build --release -p scrutiny
bin=${CARGO_TARGET_DIR:-target}/release/scrutiny
command -v /usr/bin/time >/dev/null || { echo "needs /usr/bin/time (apt-get install time)"; exit 1; }
# An independent reader for the comparison of the two marts.
python3 -c "import pyarrow" 2>/dev/null || python3 -m pip install --quiet --disable-pip-version-check pyarrow

mkdir -p "$work"
if [ ! -f "$work/ssd/ssd_person.csv" ]; then
  echo "== synth --scale $scale"
  /usr/bin/time -f "synth: %e s wall, %M KiB peak" "$bin" synth --out "$work/ssd" --scale "$scale" --seed 7
fi
du -sh "$work/ssd"

source bench/settings.sh
settings() { # $1 name, $2 extra YAML
  files_settings "$work/$1.yaml" "$PWD/sql" "./$1" "$2"
  rm -rf "${work:?}/$1"
}
settings unlimited ""
settings limited "compute:
  memory_limit: $limit
  spill_dir: ./limited/spill"

declare -A wall peak
for name in unlimited limited; do
  echo "== run --period 2022-01 ($name)"
  /usr/bin/time -o "$work/$name.time" -f "%e %M" "$bin" --log-format json run --config "$work/$name.yaml" --period 2022-01 \
    2> "$work/$name.log" || { tail -5 "$work/$name.log"; exit 1; }
  read -r wall[$name] peak[$name] < "$work/$name.time"
  awk -v n="$name" -v w="${wall[$name]}" -v p="${peak[$name]}" 'BEGIN { printf "%-10s %8.1f s wall %8.0f MiB peak\n", n, w, p / 1024 }'
done
python3 - "$work" "${wall[limited]}" "${wall[unlimited]}" "${peak[limited]}" "${peak[unlimited]}" <<'PY'
import sys, pyarrow.parquet as pq
work, wl, wu, pl, pu = sys.argv[1], *map(float, sys.argv[2:])
print(f"limited / unlimited: wall {wl / wu:.2f}x, peak RSS {pl / pu:.2f}x")
cols = ["metric_id", "period", "org_unit", "category", "numerator", "denominator", "value"]
a = pq.read_table(f"{work}/limited/mart/current/metric_values.parquet", columns=cols).to_pylist()
b = pq.read_table(f"{work}/unlimited/mart/current/metric_values.parquet", columns=cols).to_pylist()
key = lambda r: tuple(str(r[c]) for c in cols)
print("marts agree:", sorted(a, key=key) == sorted(b, key=key), f"({len(a)} rows)")
PY
