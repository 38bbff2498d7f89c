#!/usr/bin/env bash
# Installs what the local stack and the tests need beyond the Rust toolchain:
# moto (local AWS) and cfn-lint (template checks) from PyPI, and make/curl if the machine lacks them.
# Idempotent: already-installed packages make this a quick no-op.
set -euo pipefail

missing=()
for tool in make curl; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ "${#missing[@]}" -gt 0 ]; then
  apt-get update -qq && apt-get install -y -qq "${missing[@]}"
fi

PYTHON="${PYTHON:-python3}"
"$PYTHON" -m pip install --quiet --disable-pip-version-check --root-user-action=ignore \
  'moto[server]>=5.1,<6' 'cfn-lint>=1.20,<2'

for component in rustfmt clippy; do
  if ! rustup component list --installed 2>/dev/null | grep -q "^${component}"; then
    rustup component add "$component"
  fi
done
