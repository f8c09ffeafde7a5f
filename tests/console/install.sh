#!/usr/bin/env bash
# Installs what 30-console.bats runs (puppeteer-core, which drives Debian's
# chromium, and axe-core) from the npm registry into tests/console/
# node_modules (ignored by git), at the versions in package-lock.json, as
# tests/openapi/install.sh does for its suite. Does nothing when they are
# there already.
set -euo pipefail
cd "$(dirname "$0")"
[ node_modules/.package-lock.json -nt package-lock.json ] && exit 0
command -v npm >/dev/null || { echo "tests/console/install.sh: npm is missing (deploy/install-deps.sh)" >&2; exit 1; }
npm ci --no-audit --no-fund --loglevel=error >&2
