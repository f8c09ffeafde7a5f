#!/usr/bin/env bash
# Installs what 18-openapi.bats runs (redocly, ajv, puppeteer-core) from the
# npm registry into tests/openapi/node_modules (ignored by git), at the
# versions in package-lock.json, the way tests/mcp/install.sh does for the
# MCP clients: the suite's own tools, not the service's, so the install
# step (deploy/install-deps.sh, which installs Swagger UI for /docs) stays
# short on a fresh machine. Does nothing when they are there already.
set -euo pipefail
cd "$(dirname "$0")"
[ node_modules/.package-lock.json -nt package-lock.json ] && exit 0
command -v npm >/dev/null || { echo "tests/openapi/install.sh: npm is missing (deploy/install-deps.sh)" >&2; exit 1; }
npm ci --no-audit --no-fund --loglevel=error >&2
