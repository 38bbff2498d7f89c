# The two everyday commands (see README.md):
#   make run   - the whole stack locally on localhost:5050 (moto started for you)
#   make test  - formatting, lints, every test, the template checks, and a smoke run of `make run`
# and the deployment artifacts (CI runs it after `make test`):
#   make package - every function's arm64 binary and the bridge image, then the image's smoke test

.PHONY: setup run test bench package

setup:
	infra/scripts/install-tools.sh

run: setup
	cargo run -p infra --bin local-stack

test: setup
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

package: setup
	infra/scripts/package.sh
	infra/scripts/smoke-bridge-image.py
