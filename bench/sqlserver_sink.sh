#!/usr/bin/env bash
# The SQL Server sink's load rate: a run publishes the mart and loads it into the stand-in
# (mssql-standin, strict TLS) with INSERT BULK; then `scrutiny sink --resend` loads the same mart
# twice more. Rows per second come from the run's own log ("loaded into SQL Server"), beside the
# publish stage's time for the same tables (Parquet written locally), in one run.
#   bench/sqlserver_sink.sh SCALE [WORKDIR]
# The stand-in decodes and stores every row in memory on loopback: the figures are scrutiny's,
# tiberius's and the stand-in's cost together, not a real SQL Server's (which logs to disk, and
# sits across a network). SCRUTINY_BIN names the binary (default: a release build of the
# workspace); mssql-standin is taken from beside it.
set -euo pipefail
scale=${1:?usage: bench/sqlserver_sink.sh SCALE [WORKDIR]}
repo=$(cd "$(dirname "$0")/.." && pwd)
work=${2:-$(mktemp -d)}
mkdir -p "$work"
work=$(cd "$work" && pwd)
bin=${SCRUTINY_BIN:-}
if [ -z "$bin" ]; then
  (cd "$repo" && cargo build --release --quiet -p scrutiny -p mssql-standin)
  bin="${CARGO_TARGET_DIR:-$repo/target}/release/scrutiny"
fi
standin="$(dirname "$bin")/mssql-standin"
. "$repo/bench/settings.sh"

cd "$work"
if [ ! -f ssd/.scale-$scale ]; then
  rm -rf ssd
  "$bin" synth --out ssd --scale "$scale" --seed 7 >/dev/null 2>&1
  touch ssd/.scale-$scale
fi

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p reporting && : > reporting/schema.sql
export BENCH_SINK_PASSWORD="bench-$RANDOM$RANDOM"
"$standin" --schema reporting/schema.sql --data reporting --database reporting --port "$port" \
  --user loader --password-env BENCH_SINK_PASSWORD --tls --certificate-out reporting/standin.pem 2>/dev/null &
standin_pid=$!
trap 'kill $standin_pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done

rm -rf sink
files_settings "$work/sink.yaml" "$repo/sql" "./sink" "sinks:
  sqlserver:
    host: 127.0.0.1
    port: $port
    database: reporting
    user: loader
    password: \${BENCH_SINK_PASSWORD}
    encrypt: strict
    ca_file: $work/reporting/standin.pem"

field() {
  python3 - "$1" "$2" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    try: e = json.loads(line)
    except ValueError: continue
    f = e.get("fields", {})
    if f.get("message") == sys.argv[2]:
        print(json.dumps(f))
PY
}

"$bin" --log-format json run --config "$work/sink.yaml" --period 2022-01 2>"$work/run.log" >/dev/null
published=$(field "$work/run.log" published | python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["ms"])')
printf 'scale %s: publish (Parquet, local) %s ms\n' "$scale" "$published"
printf '%-22s %10s %8s %10s %12s\n' "load" "tables" "rows" "ms" "rows/s"
show() {
  field "$1" "loaded into SQL Server" | python3 -c '
import json, sys
f = json.loads(sys.stdin.read())
print("%-22s %10s %8s %10s %12s" % (sys.argv[1], f["tables"], f["rows"], f["ms"], f["rows_per_second"]))' "$2"
}
show "$work/run.log" "run (creates tables)"
for k in 1 2; do
  "$bin" --log-format json sink --resend --config "$work/sink.yaml" 2>"$work/resend-$k.log" >/dev/null
  show "$work/resend-$k.log" "sink --resend #$k"
done
