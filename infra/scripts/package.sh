#!/usr/bin/env bash
# Builds every deployable artifact for linux/arm64, offline, without a Docker daemon:
#   target/lambda/<crate>/bootstrap   one static binary per function crate (what template.yaml's
#                                     CodeUri points at; `sam deploy` zips and uploads them)
#   target/bridge-image/bridge.oci.tar  the media bridge image as an OCI archive
# and prints each artifact's size. One cargo invocation builds every function crate, so the
# workspace is compiled once, not once per function. Needs cargo-lambda and zig (PyPI) and
# buildah (Debian); infra/scripts/install-tools.sh --package installs them.
#
#   infra/scripts/package.sh            both
#   infra/scripts/package.sh lambdas    the function binaries only
#   infra/scripts/package.sh bridge     the bridge image only
set -euo pipefail
cd "$(dirname "$0")/../.."
repo="$PWD"
what="${1:-all}"

# Static musl binaries: the Lambda runtime (provided.al2023) and the scratch image need no libc.
TARGET=aarch64-unknown-linux-musl
target_dir="$(cargo metadata --format-version 1 --no-deps |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"

elapsed() { echo "$(( $(date +%s) - $1 )) s"; }

build_lambdas() {
  local started packages=()
  started=$(date +%s)
  for dir in functions/*/; do
    packages+=(-p "$(basename "$dir")")
  done
  # The `lambda` profile (Cargo.toml) favours size: a handler waits on the network, not the CPU.
  cargo lambda build --profile lambda --target "$TARGET" --lambda-dir "$repo/target/lambda" \
    "${packages[@]}"
  echo "lambdas built in $(elapsed "$started")"
  printf '%-24s %12s %12s\n' function bytes zipped
  for bootstrap in target/lambda/*/bootstrap; do
    local name zipped
    name="$(basename "$(dirname "$bootstrap")")"
    # What Lambda stores: the zip `sam deploy` uploads (deflate, like zip -9).
    zipped="$(python3 -c 'import sys, zlib; print(len(zlib.compress(open(sys.argv[1], "rb").read(), 9)))' "$bootstrap")"
    printf '%-24s %12d %12d\n' "$name" "$(stat -c %s "$bootstrap")" "$zipped"
  done
}

build_bridge() {
  local started context storage
  started=$(date +%s)
  # The bridge is built for speed (release profile), not size: it relays audio all day.
  # cargo-lambda only links it (with zig); it moves the binary to <lambda-dir>/<name>/bootstrap.
  cargo lambda build --release --target "$TARGET" --lambda-dir "$target_dir/bridge-bin" \
    -p bridge-container
  context="$repo/target/bridge-image/context"
  rm -rf "$context" && mkdir -p "$context"
  cp "$target_dir/bridge-bin/bridge-container/bootstrap" "$context/bridge"
  cp /etc/ssl/certs/ca-certificates.crt "$context/ca-certificates.crt"
  storage="$repo/target/bridge-image/storage"
  local buildah=(buildah --storage-driver vfs --root "$storage/root" --runroot "$storage/run")
  "${buildah[@]}" bud --isolation chroot --platform linux/arm64 --layers=false \
    -f bridge-container/Containerfile -t localhost/phone-agents-bridge:latest "$context"
  rm -f target/bridge-image/bridge.oci.tar
  "${buildah[@]}" push localhost/phone-agents-bridge:latest \
    "oci-archive:$repo/target/bridge-image/bridge.oci.tar:phone-agents-bridge:latest"
  echo "bridge image built in $(elapsed "$started"):" \
    "$(stat -c %s target/bridge-image/bridge.oci.tar) bytes (target/bridge-image/bridge.oci.tar)"
}

case "$what" in
  lambdas) build_lambdas ;;
  bridge) build_bridge ;;
  all) build_lambdas && build_bridge ;;
  *) echo "usage: $0 [lambdas|bridge|all]" >&2; exit 2 ;;
esac
