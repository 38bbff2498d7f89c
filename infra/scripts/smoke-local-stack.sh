#!/usr/bin/env bash
# Starts the local stack exactly as `make run` does (nothing configured, moto started by the
# runner) on a spare port, checks /health, /docs, the web console, the browser-session route
# and a register call, then stops it.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --quiet -p infra --bin local-stack
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port="$(free_port)"
bridge_port="$(free_port)"
log="$(mktemp)"
env -u AWS_ENDPOINT_URL PORT="$port" BRIDGE_PORT="$bridge_port" "${CARGO_TARGET_DIR:-target}/debug/local-stack" >"$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fsS "http://127.0.0.1:$port/health" | grep -q '"ok"'
curl -fsS "http://127.0.0.1:$port/docs" | grep -q '/docs/app.js'
curl -fsS "http://127.0.0.1:$bridge_port/health" | grep -q ok
grep -q "http://localhost:$port/docs" "$log"
grep -q "http://localhost:$port/console/" "$log"
curl -fsS "http://127.0.0.1:$port/console/" | grep -q '<div id="root"'
status="$(curl -s -o /dev/null -w '%{http_code}' -H 'content-type: application/json' \
  -d '{"email":"smoke@example.com","password":"smoke-test-password-1"}' \
  "http://127.0.0.1:$port/auth/register")"
[ "$status" = 201 ] || { echo "register answered $status"; cat "$log"; exit 1; }
echo "local stack smoke test: ok (port $port)"
