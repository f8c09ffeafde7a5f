#!/usr/bin/env bash
# Installs the Debian packages backend needs, only those missing.
#   deploy/install-deps.sh            build + run + test (make test, CI)
#   deploy/install-deps.sh --runtime  what the container's runtime stage needs
# Used by the Makefile, .ci/run and the Dockerfile, so CI proves what the
# image does.
set -euo pipefail

runtime=(lighttpd libfcgi0ldbl libjansson4 libpq5 ca-certificates curl)
build=(gcc make pkg-config libfcgi-dev libjansson-dev libpq-dev)
test=(postgresql bats curl jq procps clang valgrind libfcgi-bin)

if [ "${1:-}" = "--runtime" ]; then
    wanted=("${runtime[@]}")
else
    wanted=("${runtime[@]}" "${build[@]}" "${test[@]}")
fi

missing=()
for p in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
