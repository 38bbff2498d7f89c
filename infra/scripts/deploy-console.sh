#!/usr/bin/env bash
# Builds the web console and uploads it to the stack's console bucket, with a config.json that
# points it at the stack's API (the PublicUrl parameter), then invalidates CloudFront's copy.
#
# Usage: infra/scripts/deploy-console.sh <stack-name>
# Optional: CAPTCHA_SITE_KEY and CAPTCHA_PROVIDER (turnstile | hcaptcha | recaptcha) for the
# register and sign-in widget (the site key is public; its secret goes in the stack's secret).
set -euo pipefail
cd "$(dirname "$0")/../.."
stack="${1:?usage: $0 <stack-name>}"

output() {
  aws cloudformation describe-stacks --stack-name "$stack" \
    --query "Stacks[0].Outputs[?OutputKey=='$1'].OutputValue" --output text
}
bucket="$(output ConsoleBucketName)"
distribution="$(output ConsoleDistributionId)"
api="$(aws cloudformation describe-stacks --stack-name "$stack" \
  --query "Stacks[0].Parameters[?ParameterKey=='PublicUrl'].ParameterValue" --output text)"

(cd console && npm ci --no-audit --no-fund --loglevel=error && npm run build)
python3 - "$api" > console/dist/config.json <<'PY'
import json, os, sys
config = {"apiBaseUrl": sys.argv[1].rstrip("/")}
if os.environ.get("CAPTCHA_SITE_KEY"):
    config["captchaSiteKey"] = os.environ["CAPTCHA_SITE_KEY"]
    config["captchaProvider"] = os.environ.get("CAPTCHA_PROVIDER", "turnstile")
print(json.dumps(config))
PY

# Hashed assets first (cached for a year), then the files that must always be fresh.
aws s3 sync console/dist "s3://$bucket/console/" --delete \
  --exclude index.html --exclude config.json \
  --cache-control 'public, max-age=31536000, immutable'
aws s3 cp console/dist/index.html "s3://$bucket/console/index.html" --cache-control no-cache
aws s3 cp console/dist/config.json "s3://$bucket/console/config.json" --cache-control no-cache
aws cloudfront create-invalidation --distribution-id "$distribution" \
  --paths '/console/index.html' '/console/config.json' >/dev/null
echo "console deployed: $(output ConsoleUrl) (API $api)"
echo "set FrontendUrl to its origin if you have not: sam deploy --parameter-overrides FrontendUrl=https://<console domain>"
