#!/usr/bin/env bash
# Paging benchmark: 100,000 Patients served as static Bundle pages by nginx over
# loopback, fhirforge vs raw reqwest + serde_json. Installs nginx from Debian when missing.
# Not part of the tests. Usage: scripts/bench-paging.sh  (env: BENCH_RUNS, BENCH_PATIENTS, BENCH_PAGE_SIZE)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
if [[ ! -x /usr/sbin/nginx ]]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light || \
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx
fi
# The Debian package may start a system nginx on port 80; the bench runs its own on a free port.
NGINX=/usr/sbin/nginx cargo bench -p fhirforge-runtime --bench paging
