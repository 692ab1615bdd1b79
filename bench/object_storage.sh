#!/usr/bin/env bash
# The publish stage to each kind of mart, side by side in one run: a local Parquet mart, a local
# Delta mart, Azurite (az://) and moto's S3 server (s3://), on the same synthetic council; with
# the two emulators the landing is on the store too, and its upload is timed ("landing uploaded").
#   bench/object_storage.sh SCALE [WORKDIR]
# Each mart gets two runs (the first creates the Delta tables; the second reads the history back
# from Delta and commits a new version), and the publish stage's milliseconds come from the
# run's own log ("published", ms). The emulators run on loopback: the figures are scrutiny's and
# the emulators' own cost, not a cloud region's latency. SCRUTINY_BIN names the binary (default:
# a release build of the workspace). Needs what scripts/test-prerequisites installs.
set -euo pipefail
scale=${1:?usage: bench/object_storage.sh SCALE [WORKDIR]}
repo=$(cd "$(dirname "$0")/.." && pwd)
work=${2:-$(mktemp -d)}
mkdir -p "$work"
work=$(cd "$work" && pwd)
bin=${SCRUTINY_BIN:-}
if [ -z "$bin" ]; then
  (cd "$repo" && cargo build --release --quiet)
  bin="${CARGO_TARGET_DIR:-$repo/target}/release/scrutiny"
fi
. "$repo/bench/settings.sh"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
az_port=$(free_port); s3_port=$(free_port)
rm -rf "$work/azurite"; mkdir -p "$work/azurite"
azurite-blob --blobHost 127.0.0.1 --blobPort "$az_port" --location "$work/azurite" --silent --skipApiVersionCheck >/dev/null 2>&1 &
az_pid=$!
python3 -m moto.server -H 127.0.0.1 -p "$s3_port" >/dev/null 2>&1 &
s3_pid=$!
trap 'kill $az_pid $s3_pid 2>/dev/null || true' EXIT
for p in "$az_port" "$s3_port"; do
  for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && break; sleep 0.1; done
done
export AZURE_STORAGE_USE_EMULATOR=true AZURITE_BLOB_STORAGE_URL="http://127.0.0.1:$az_port"
export AWS_ENDPOINT_URL="http://127.0.0.1:$s3_port" AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1
for u in az://mart/bench s3://mart/bench az://landing/bench s3://landing/bench; do
  python3 "$repo/tests/support/delta_reader.py" setup "$u"
done

cd "$work"
if [ ! -f ssd/.scale-$scale ]; then
  rm -rf ssd
  "$bin" synth --out ssd --scale "$scale" --seed 7 >/dev/null 2>&1
  touch ssd/.scale-$scale
fi

printf '%-10s %18s %18s %18s\n' "mart" "publish, 1st (ms)" "publish, 2nd (ms)" "upload (ms)"
for kind in parquet delta az s3; do
  files_settings "$work/$kind.yaml" "$repo/sql" "./$kind"
  case $kind in
    delta) sed -i "s|  mart: ./delta/mart|  mart: ./delta/mart\n  mart_format: delta|" "$work/$kind.yaml" ;;
    az|s3) sed -i -e "s|  mart: ./$kind/mart|  mart: $kind://mart/bench\n  options:\n    allow_http: \"true\"|" \
             -e "s|  landing: ./$kind/landing|  landing: $kind://landing/bench|" "$work/$kind.yaml" ;;
  esac
  times=()
  for _ in 1 2; do
    "$bin" --log-format json run --config "$work/$kind.yaml" --period 2022-01 2>"$work/$kind.log" >/dev/null
    times+=("$(python3 -c '
import json, sys
ms = {}
for line in open(sys.argv[1]):
    try: e = json.loads(line)
    except ValueError: continue
    f = e.get("fields", {})
    if f.get("message") in ("published", "landing uploaded"): ms[f["message"]] = f["ms"]
print(ms.get("published", "-"), ms.get("landing uploaded", "-"))
' "$work/$kind.log")")
  done
  read -r p1 u1 <<<"${times[0]}"; read -r p2 _ <<<"${times[1]}"
  printf '%-10s %18s %18s %18s\n' "$kind" "$p1" "$p2" "$u1"
done
