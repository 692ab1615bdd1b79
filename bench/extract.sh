#!/usr/bin/env bash
# Benchmark (not a test): extracting the national-scale synthetic tables from the SQL Server
# stand-in, three ways, in rows per second:
#   scrutiny   `scrutiny extract` (tiberius -> Arrow -> Parquet, 4 connections)
#   connectorx ConnectorX (PyPI) reading the same queries from the same stand-in into Arrow, then
#              pyarrow writing Parquet, one table at a time
#   drain      a null client: tiberius reading the rows and dropping them (the TDS limit here)
#   bench/extract.sh [SCALE] [WORKDIR]
set -euo pipefail
cd "$(dirname "$0")/.."
scale=${1:-150}
work=${2:-/tmp/scrutiny-bench-$scale}
cargo build --release -p scrutiny -p mssql-standin -p scrutiny-extract --bins --examples
bin=target/release
mkdir -p "$work"
[ -f "$work/ssd/ssd_person.csv" ] || "$bin/scrutiny" synth --out "$work/ssd" --scale "$scale" --seed 1
printf 'bench-password' > "$work/pw"; chmod 600 "$work/pw"
export BENCH_SQL_PASSWORD=bench-password
port=14399
"$bin/mssql-standin" --schema sql/ssd/schema.sql --data "$work/ssd" --port $port --user scrutiny --password-env BENCH_SQL_PASSWORD > "$work/standin.log" 2>&1 &
standin=$!
trap 'kill $standin 2>/dev/null' EXIT
for _ in $(seq 1 600); do grep -q serving "$work/standin.log" && break; sleep 1; done
cat "$work/standin.log"
rows=$(tail -n +2 -q "$work"/ssd/ssd_*.csv | wc -l)
echo "rows in the source: $rows"

cat > "$work/extract.yaml" <<YAML
source:
  sqlserver:
    host: 127.0.0.1
    port: $port
    database: ssd
    user: scrutiny
    password_file: ./pw
    encrypt: off
    parallel_connections: 4
storage:
  landing: ./landing
  mart: ./mart
reference:
  team_org_units: ./ssd/team_org_units.csv
measures:
  sql_dir: $PWD/sql
YAML
rm -rf "$work/landing"
start=$(date +%s.%N)
/usr/bin/time -f "scrutiny extract: %e s wall, %M KiB peak" "$bin/scrutiny" extract --config "$work/extract.yaml" --period 2022-01 > /dev/null
end=$(date +%s.%N)
python3 -c "print(f'scrutiny: {$rows/($end-$start):,.0f} rows/s')"

"$bin/examples/drain" 127.0.0.1 $port ssd scrutiny "$work/pw" sql

if python3 -c "import connectorx, pyarrow" 2>/dev/null || pip install -q connectorx pyarrow; then
  python3 - "$work" $port <<'PY'
import sys, time, re, pathlib, connectorx as cx, pyarrow.parquet as pq
work, port = pathlib.Path(sys.argv[1]), sys.argv[2]
url = f"mssql://scrutiny:bench-password@127.0.0.1:{port}/ssd?encrypt=false&trust_server_certificate=true"
out = work / "cx"; out.mkdir(exist_ok=True)
total, t0 = 0, time.time()
for f in sorted(pathlib.Path("sql/extract/ssd").glob("*.sql")):
    q = f.read_text().replace("{{ table }}", f"[ssd_development].[{f.stem}]")
    q = re.sub(r"\{\{ col\('(\w+)'\) \}\}", r"[\1]", q)
    q = "\n".join(l for l in q.splitlines() if not l.startswith("--"))
    t = cx.read_sql(url, q, return_type="arrow")
    pq.write_table(t, out / f"{f.stem}.parquet", compression="zstd")
    total += t.num_rows
secs = time.time() - t0
print(f"connectorx: {total} rows in {secs:.1f} s = {total/secs:,.0f} rows/s")
PY
else
  echo "connectorx: could not be installed"
fi
