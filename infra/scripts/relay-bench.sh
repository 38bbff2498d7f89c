#!/usr/bin/env bash
# The media bridge beside the bare "floor" relay, under the same yardstick, in one run.
#
# Builds relay-bench (yardstick + floor-relay, from ../shared/relay-bench or $RELAY_BENCH) into
# target/relay-bench, the release bridge and yardstick-prep (infra), starts moto, then for each number
# of calls runs the bridge and the floor relay one after the other, each pinned to core 0 with
# the yardstick on core 1, and prints the table and the bridge/floor ratios: CPU per
# call-minute, RSS per call, worst-leg p99, and each one's one-core capacity (the most calls
# with p99 <= 20 ms on both legs and no loss, over the points run).
#
#   infra/scripts/relay-bench.sh                  # 100 and 500 calls, capacity over 300..900
#   NS="100 500" CAPACITY_NS="" infra/scripts/relay-bench.sh   # the two fixed points only
#   D=60 infra/scripts/relay-bench.sh             # 60 s of audio per call (default 40)
#   BRIDGE_BIN=path/to/bridge-container infra/scripts/relay-bench.sh   # another build of it
#   KINDS=bridge NS=500 CAPACITY_NS="" infra/scripts/relay-bench.sh      # one relay only (ratios need both)
#
# Results: target/relay-bench/results.jsonl (one yardstick JSON line per point), logs beside.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo="$PWD"
bench_src="${RELAY_BENCH:-$repo/../shared/relay-bench}"
[ -f "$bench_src/Cargo.toml" ] || { echo "relay-bench not found at $bench_src (set RELAY_BENCH)" >&2; exit 1; }
NS="${NS:-100 500}"
CAPACITY_NS="${CAPACITY_NS-300 700 900}"
D="${D:-40}"
# Calls started per second. Each start costs the bridge one conditional write to local
# DynamoDB, and moto takes milliseconds of CPU for one: started faster, calls wait seconds for
# admission, and the caller audio buffered meanwhile comes back from the echoing model as a
# backlog the pacing keeps for the whole call (DynamoDB itself answers in milliseconds).
RAMP_RATE="${RAMP_RATE:-25}"
WARMUP="${WARMUP:-1000}"
work="$repo/target/relay-bench"
logs="$work/logs"
results="$work/results.jsonl"
mkdir -p "$logs"
: >"$results"

echo "building relay-bench, the bridge and yardstick-prep (release)..."
CARGO_TARGET_DIR="$work" cargo build --quiet --release --manifest-path "$bench_src/Cargo.toml"
[ -n "${BRIDGE_BIN:-}" ] || cargo build --quiet --release -p bridge-container
# Only writes the call records and tokens: a debug build is enough (and usually already built).
cargo build --quiet -p infra --bin yardstick-prep
target_dir="$(cargo metadata --format-version 1 --no-deps |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
bridge_bin="${BRIDGE_BIN:-$target_dir/release/bridge-container}"
prep_bin="$target_dir/debug/yardstick-prep"
yardstick="$work/release/yardstick"
floor="$work/release/floor-relay"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }
relay_port="$(free_port)"
oai_port="$(free_port)"
moto_port="$(free_port)"
moto=""
relay=""
trap 'kill $moto $relay 2>/dev/null || true' EXIT

auth=bench-auth-token
export DEVELOPMENT_MODE=true CAPTCHA_DISABLED=true AWS_ENDPOINT_URL="http://127.0.0.1:$moto_port" \
  AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench \
  TWILIO_ACCOUNT_SID=AC000000000000000000000000000000ac TWILIO_AUTH_TOKEN="$auth" \
  BRIDGE_WS_URL="ws://127.0.0.1:$relay_port/twilio" \
  STREAM_TOKEN_SECRET=bench-stream-token-secret-0123456789abcdef \
  OPENAI_REALTIME_URL="ws://127.0.0.1:$oai_port/v1/realtime" OPENAI_API_KEY=sk-bench \
  MAX_CALL_DURATION_SECONDS=3600 RUST_LOG=warn PORT="$relay_port"

# One point: a fresh relay pinned to core 0, the yardstick on core 1.
run_point() {
  local kind="$1" n="$2" url extra=()
  local ramp=$(( n / RAMP_RATE > 5 ? n / RAMP_RATE : 5 ))
  if [ "$kind" = bridge ]; then
    # A fresh local DynamoDB per point, on the relay's core: it is busy only while calls are
    # admitted (a conditional write and a few reads each, during the ramp), and the yardstick's
    # core is the one that runs hot under load. Started as the local stack starts it (the
    # launcher, without moto's per-request log line: a tenth of its CPU, taken from the relay).
    taskset -c 0 python3 infra/src/moto_launcher.py "$moto_port" >"$logs/moto-$n.log" 2>&1 &
    moto=$!
    wait_port "$moto_port"
    export TABLE_NAME="bench-$n"
    "$prep_bin" "$n" "$logs/tokens-$n.jsonl" >"$logs/prep-$n.log" 2>&1
    taskset -c 0 "$bridge_bin" >"$logs/bridge-$n.log" 2>&1 &
    url="ws://127.0.0.1:$relay_port/twilio"
    extra=(--twilio-auth-token "$auth" --params-file "$logs/tokens-$n.jsonl")
  else
    taskset -c 0 "$floor" --listen "127.0.0.1:$relay_port" --ws-buf 4096 \
      --openai-url "ws://127.0.0.1:$oai_port/v1/realtime?model=gpt-realtime" >"$logs/floor-$n.log" 2>&1 &
    url="ws://127.0.0.1:$relay_port/media-stream"
  fi
  relay=$!
  wait_port "$relay_port"
  echo "$kind, $n calls..."
  if [ -n "${PERF_RECORD:-}" ]; then
    # Samples the relay's stacks during the steady state (PERF_RECORD=seconds).
    (sleep $((ramp + 5)); perf record -e cpu-clock -F 1999 -g -p "$relay" -o "$logs/perf-$kind-$n.data" \
      -- sleep "$PERF_RECORD" >"$logs/perf-$kind-$n.log" 2>&1) &
  fi
  if [ -n "${SYSCALLS:-}" ]; then
    # Counts the relay's system calls during the steady state (SYSCALLS=seconds).
    (sleep $((ramp + 5)); timeout -s INT "$SYSCALLS" strace -c -f -p "$relay" \
      -o "$logs/syscalls-$kind-$n.txt" >/dev/null 2>&1) &
  fi
  taskset -c 1 timeout $((D + ramp + 90)) "$yardstick" --url "$url" --oai-listen "127.0.0.1:$oai_port" \
    --calls "$n" --duration-s "$D" --ramp-s "$ramp" --warmup-ms "$WARMUP" --pid "$relay" \
    --label "$kind" --out "$results" "${extra[@]}" >"$logs/yardstick-$kind-$n.txt" 2>&1 || true
  kill "$relay" $moto 2>/dev/null || true
  wait "$relay" $moto 2>/dev/null || true
  relay=""
  moto=""
  sleep 2
}

for n in $NS $CAPACITY_NS; do
  for kind in ${KINDS:-bridge floor}; do
    run_point "$kind" "$n"
  done
done
python3 "$repo/infra/scripts/relay-bench-report.py" "$results" $NS
