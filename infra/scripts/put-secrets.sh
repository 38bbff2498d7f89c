#!/usr/bin/env bash
# Fills the deployed stack's application secret (AppSecret) with the provider credentials,
# which never pass through template parameters. Reads the values from the environment, merges
# them into the secret's current JSON (JWT_SECRET and any key not given stay as they are),
# and stores the result as a new version. Prints which keys it set, never a value.
#
#   CAPTCHA_SECRET=... TWILIO_ACCOUNT_SID=AC... TWILIO_AUTH_TOKEN=... OPENAI_API_KEY=sk-... \
#     infra/scripts/put-secrets.sh <stack-name> [--restart]
#
# Keys taken (only those set and non-empty): CAPTCHA_SECRET, TWILIO_ACCOUNT_SID,
# TWILIO_AUTH_TOKEN, OPENAI_API_KEY, GOOGLE_CLIENT_ID, GOOGLE_CLIENT_SECRET,
# CALENDAR_TOKEN_KEY. Read them without echoing, e.g. `read -rs TWILIO_AUTH_TOKEN; export
# TWILIO_AUTH_TOKEN`, so they stay out of the shell history.
#
# The functions and the bridge read the secret once per cold start. A function that failed
# its cold start for lack of a key (CAPTCHA_SECRET) picks the secret up on its next request;
# warm ones keep what they read until Lambda recycles them. --restart makes every function of
# the stack start afresh (it sets APP_SECRET_VERSION, the new secret version, in each
# function's environment; the next `sam deploy` that changes a function removes it again)
# and rolls the bridge service (aws ecs update-service --force-new-deployment). Without it,
# do the latter yourself when the bridge runs:
#   aws ecs update-service --cluster <BridgeClusterName> --service <BridgeServiceName> \
#     --force-new-deployment
#
# Needs the AWS CLI (v2) with credentials for the stack's account and region, and python3.
set -euo pipefail

usage() {
  echo "usage: [KEY=value ...] $0 <stack-name> [--restart]" >&2
  exit 2
}

stack=""
restart=false
for arg in "$@"; do
  case "$arg" in
    --restart) restart=true ;;
    -h | --help) usage ;;
    -*) usage ;;
    *) [ -z "$stack" ] || usage; stack="$arg" ;;
  esac
done
[ -n "$stack" ] || usage
for tool in aws python3; do
  command -v "$tool" >/dev/null || { echo "$0: $tool is required" >&2; exit 1; }
done

output() {
  aws cloudformation describe-stacks --stack-name "$stack" \
    --query "Stacks[0].Outputs[?OutputKey=='$1'].OutputValue" --output text
}

secret_arn="$(output AppSecretArn)"
case "$secret_arn" in
  arn:aws*:secretsmanager:*) ;;
  *) echo "$0: stack $stack has no AppSecretArn output" >&2; exit 1 ;;
esac

# Secret material only ever lives in files of this private directory, never on a command
# line (where other users could read it from /proc) nor on the terminal.
umask 077
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

aws secretsmanager get-secret-value --secret-id "$secret_arn" --output json >"$work/current.json"

# Merges the keys given in the environment; checks what the code checks at cold start, so a
# bad value fails here rather than taking every function down.
python3 - "$work/current.json" "$work/new.json" <<'PY'
import json, os, re, sys

KEYS = [
    "CAPTCHA_SECRET",
    "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN",
    "OPENAI_API_KEY",
    "GOOGLE_CLIENT_ID",
    "GOOGLE_CLIENT_SECRET",
    "CALENDAR_TOKEN_KEY",
]

def fail(message):
    print(f"put-secrets: {message}; nothing was changed", file=sys.stderr)
    sys.exit(1)

with open(sys.argv[1]) as f:
    response = json.load(f)
try:
    secret = json.loads(response.get("SecretString") or "{}")
except ValueError:
    fail("the secret does not hold a JSON object")
if not isinstance(secret, dict):
    fail("the secret does not hold a JSON object")

given = {k: os.environ[k] for k in KEYS if os.environ.get(k, "").strip()}
if not given:
    fail("none of " + ", ".join(KEYS) + " is set in the environment")
for key, value in given.items():
    if value != value.strip():
        fail(f"{key} has leading or trailing white space")
secret.update(given)

sid = secret.get("TWILIO_ACCOUNT_SID", "")
if sid and not re.fullmatch(r"AC[0-9a-fA-F]{32}", sid):
    fail("TWILIO_ACCOUNT_SID must be AC followed by 32 hexadecimal digits")
for pair in [("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"), ("GOOGLE_CLIENT_ID", "GOOGLE_CLIENT_SECRET")]:
    if bool(secret.get(pair[0])) != bool(secret.get(pair[1])):
        fail(f"{pair[0]} and {pair[1]} go together (the functions refuse to start with one)")
if "CALENDAR_TOKEN_KEY" in given and len(given["CALENDAR_TOKEN_KEY"].encode()) < 32:
    fail("CALENDAR_TOKEN_KEY must be at least 32 bytes")
if len(secret.get("JWT_SECRET", "")) < 32:
    fail("the secret has no generated JWT_SECRET: is this the stack's AppSecret?")

with open(sys.argv[2], "w") as f:
    json.dump(secret, f)
print("set: " + ", ".join(sorted(given)))
missing = [k for k in ("CAPTCHA_SECRET", "TWILIO_ACCOUNT_SID", "OPENAI_API_KEY") if not secret.get(k)]
if missing:
    print("still missing: " + ", ".join(missing) + " (see README, Deploy)")
PY

version="$(aws secretsmanager put-secret-value --secret-id "$secret_arn" \
  --secret-string "file://$work/new.json" --query VersionId --output text)"
echo "stored as version $version of $secret_arn"

if ! $restart; then
  echo "functions read it on their next cold start; add --restart to start them afresh now"
  exit 0
fi

# Every function of the stack: its current environment plus APP_SECRET_VERSION.
functions="$(aws cloudformation list-stack-resources --stack-name "$stack" \
  --query "StackResourceSummaries[?ResourceType=='AWS::Lambda::Function'].PhysicalResourceId" \
  --output text)"
count=0
for function in $functions; do
  aws lambda get-function-configuration --function-name "$function" \
    --query Environment --output json >"$work/environment.json"
  python3 - "$work/environment.json" "$version" <<'PY'
import json, sys
path, version = sys.argv[1], sys.argv[2]
with open(path) as f:
    environment = json.load(f) or {}
environment.setdefault("Variables", {})["APP_SECRET_VERSION"] = version
environment.pop("Error", None)
with open(path, "w") as f:
    json.dump(environment, f)
PY
  aws lambda update-function-configuration --function-name "$function" \
    --environment "file://$work/environment.json" >/dev/null
  count=$((count + 1))
done
echo "restarted $count functions"

cluster="$(output BridgeClusterName)"
service="$(output BridgeServiceName)"
running="$(aws ecs describe-services --cluster "$cluster" --services "$service" \
  --query 'services[0].desiredCount' --output text)"
if [ "$running" != "0" ]; then
  aws ecs update-service --cluster "$cluster" --service "$service" --force-new-deployment \
    >/dev/null
  echo "bridge service $service rolling to new tasks ($running running)"
else
  echo "bridge service $service runs no task (BridgeState stopped): nothing to restart"
fi
