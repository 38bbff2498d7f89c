#!/usr/bin/env bash
# Installs what the local stack and the tests need beyond the Rust toolchain:
# moto (local AWS) and cfn-lint (template checks) from PyPI, and make if the machine lacks it.
# Idempotent: already-installed packages make this a quick no-op.
set -euo pipefail

if ! command -v make >/dev/null 2>&1; then
  apt-get update -qq && apt-get install -y -qq make
fi

PYTHON="${PYTHON:-python3}"
"$PYTHON" -m pip install --quiet --disable-pip-version-check --root-user-action=ignore \
  'moto[server]>=5.1,<6' 'cfn-lint>=1.20,<2'

for component in rustfmt clippy; do
  if ! rustup component list --installed 2>/dev/null | grep -q "^${component}"; then
    rustup component add "$component"
  fi
done
