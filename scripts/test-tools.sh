#!/usr/bin/env bash
# Debian packages the tests use beside the services: each missing one is installed (as root) from
# Debian's packages, so a fresh machine needs nothing by hand. One list for every test tool.
#   espeak-ng  test speech from a second synthesiser (tests/pipeline/support/speech.ts)
#   chromium   the real browser of the web page's tests (tests/web; driven by playwright-core, no browser download)
#   redis-sentinel  Redis high availability (scripts/redis-ha.sh: tests/redis-sentinel.test.ts, scripts/cluster.sh)
#   haproxy    the load balancer in front of the gateways (scripts/cluster.sh, tests/cluster)
set -euo pipefail
PACKAGES=(espeak-ng chromium redis-sentinel haproxy)
missing=()
for package in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if (( ${#missing[@]} == 0 )); then
  echo "test-tools.sh: present: ${PACKAGES[*]}"
  exit 0
fi
if [[ "$(id -u)" != 0 ]] || ! command -v apt-get >/dev/null; then
  echo "test-tools.sh: ${missing[*]} missing; install them (apt-get install ${missing[*]})" >&2
  exit 1
fi
echo "test-tools.sh: installing ${missing[*]} from Debian's packages"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
