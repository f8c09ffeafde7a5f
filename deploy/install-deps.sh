#!/usr/bin/env bash
# Installs the Debian packages backend needs, only those missing.
#   deploy/install-deps.sh            build + run + test (make test, CI)
#   deploy/install-deps.sh --build    what building the executables needs
#   deploy/install-deps.sh --runtime  what the container's runtime stage needs
#   deploy/install-deps.sh --bench    what make bench adds (wrk, gnuplot, node)
#   deploy/install-deps.sh --docs     Swagger UI's files for /docs and uPlot's
#                                     for /console (node, npm; the image's
#                                     build stage)
# Used by the Makefile, .ci/run and the Dockerfile, so CI proves what the
# image does.
set -euo pipefail

# tzdata: the zone database the queue's schedules read (/usr/share/zoneinfo);
# slim images lack it, and without it every zone but UTC is unknown.
runtime=(lighttpd lighttpd-modules-lua libfcgi0ldbl libjansson4 libpq5 libssl3 libmicrohttpd12 ca-certificates curl tzdata)
build=(gcc make pkg-config libfcgi-dev libjansson-dev libpq-dev libssl-dev libmicrohttpd-dev)
test=(postgresql pgbouncer bats curl jq procps clang libclang-rt-14-dev valgrind libfcgi-bin python3-yaml
    cppcheck shellcheck clang-format gcovr bear # make lint, format, coverage, compile_commands.json
    universal-ctags # tests/arch/long-functions.sh
    prometheus # promtool check metrics (17-metrics)
    chromium # /docs in a real browser (18-openapi, with puppeteer-core)
    patroni etcd-server python3-psycopg2 python3-etcd) # make test-ha: PostgreSQL under Patroni, over etcd

bench=(wrk gnuplot-nox postgresql postgresql-contrib jq curl) # and node + npm (below)

case "${1:-}" in
--runtime) wanted=("${runtime[@]}") ;;
--bench) wanted=("${bench[@]}") ;;
--build) wanted=("${build[@]}") ;;
--docs) wanted=() ;;
"") wanted=("${runtime[@]}" "${build[@]}" "${test[@]}") ;;
*) echo "usage: $0 [--build | --runtime | --bench | --docs]" >&2; exit 2 ;;
esac

missing=()
for p in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# The MCP tests (and make bench) run clients from the npm registry: Node and
# npm, from Debian when the machine has none of its own.
if [ "${1:-}" = "" ] || [ "${1:-}" = "--bench" ] || [ "${1:-}" = "--docs" ]; then
    command -v node >/dev/null || missing+=(nodejs)
    command -v npm >/dev/null || missing+=(npm)
fi
if [ ${#missing[@]} -gt 0 ]; then
    echo "install-deps: installing ${missing[*]}" >&2
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    # shellcheck disable=SC2086
    $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Swagger UI's files, which lighttpd serves at /docs (deploy/api-docs), at
# the version its package-lock.json pins, into a node_modules folder git
# ignores; left alone when its install is newer than its lock file. (The
# test suites' npm tools are installed by the suites themselves:
# tests/mcp/install.sh, tests/openapi/install.sh.)
# The same for uPlot, which lighttpd serves at /console (deploy/console).
if [ "${1:-}" = "" ] || [ "${1:-}" = "--docs" ]; then
    for name in api-docs console; do
        dir=$(cd "$(dirname "$0")" && pwd)/$name
        if [ ! "$dir/node_modules/.package-lock.json" -nt "$dir/package-lock.json" ]; then
            echo "install-deps: npm ci in deploy/$name" >&2
            (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >&2)
        fi
    done
fi
