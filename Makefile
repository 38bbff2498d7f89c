# The two everyday commands (see README.md):
#   make run   - the whole stack locally on localhost:5050 (moto started for you), the web
#                console at localhost:5050/console/
#   make test  - formatting, lints, every test (the console's in headless Chromium), the template
#                checks, and a smoke run of `make run`
# and the deployment artifacts (CI runs it after `make test`):
#   make package - every function's arm64 binary and the bridge image, then the image's smoke test
# and the opt-in measurements: make bench (Lambda size and cold start), make soak (~40 minutes)

.PHONY: setup console run test bench soak package

setup:
	infra/scripts/install-tools.sh

# The web console's static files (console/dist), served by the local stack at /console/.
console:
	cd console && npm ci --no-audit --no-fund --loglevel=error && npm run build

run: setup console
	cargo run -p infra --bin local-stack

test: setup console
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings
	mkdir -p target && rm -f target/iam-used.txt
	LOCAL_IAM_USED=$(CURDIR)/target/iam-used.txt cargo test --workspace
	cargo run -q -p infra --bin unused-grants target/iam-used.txt
	cfn-lint template.yaml
	SAM_CLI_TELEMETRY=0 sam validate --lint --template template.yaml --region us-east-1
	infra/scripts/smoke-local-stack.sh

bench:
	cargo run --release -p infra --bin lambda-bench
	cargo run --release -p infra --bin transcript-bench

# Opt-in, about 40 minutes: the API under bounded load for 10 minutes (p50/p99, errors, the
# server's memory each minute), then the bridge with 500 calls for 30 minutes (RSS and CPU per
# call each minute). Not part of `make test`.
soak: setup
	cargo build --release -p infra --bin local-stack
	cargo run --release -p e2e-tests --bin api-soak -- target/release/local-stack 600
	cargo run --release -p e2e-tests --bin bridge-load -- 500 1800

package: setup
	infra/scripts/package.sh
	infra/scripts/smoke-bridge-image.py
