#!/usr/bin/env bash
# The generated client's test (tests/integration/18-openapi.bats): a typed
# client generated from the served /openapi.json drives every operation,
# and every answer is checked against that document.
#   1. setup.mjs: each mode's requests/<mode>.setup.json (data the
#      document describes: a sql table), then the document, with the token;
#   2. openapi-typescript: build/api.d.ts, the document's types;
#   3. tsc (strict, noEmitOnError): the requests files type-check against
#      those types, or nothing runs: a request that does not fit the
#      document fails here; then the JavaScript, in build/js/;
#   4. main.js: every requests/<mode>.ts through openapi-fetch (check.ts).
# Tools pinned in tests/openapi/package-lock.json (tests/openapi/install.sh).
#   tests/openapi/client/run.sh URL TOKEN
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=$here/../node_modules/.bin
url=$1
token=$2
rm -rf "$here/build"
mkdir -p "$here/build"
node "$here/setup.mjs" "$url" "$token" "$here/build/openapi.json"
"$bin/openapi-typescript" "$here/build/openapi.json" -o "$here/build/api.d.ts" --silent
"$bin/tsc" -p "$here/tsconfig.json"
node "$here/build/js/main.js" "$url" "$token" "$here/build/openapi.json"
