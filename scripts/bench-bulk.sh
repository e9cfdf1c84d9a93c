#!/usr/bin/env bash
# Bulk Data export benchmark: 1,000,000 Patients and Observations as static NDJSON files on
# nginx (plus a stub kick-off and status URL) over loopback, `fhirforge export` (release build)
# vs plain curl of the same files. Installs nginx from Debian when missing. Not part of the
# tests. Needs about 2.2 GB free in BENCH_DIR (1.4 GB served, 0.7 GB output) (a temporary directory by default).
# Usage: scripts/bench-bulk.sh
#   (env: BENCH_RUNS, BENCH_RESOURCES, BENCH_PER_FILE, BENCH_LAYOUTS, BENCH_VARIANTS, BENCH_DIR,
#    FHIRFORGE_BASELINE=<an older fhirforge binary> to run it interleaved as "baseline")
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
if [[ ! -x /usr/sbin/nginx ]]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light || \
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx
fi
if [[ ! -x /usr/bin/time ]]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time
fi
# The Debian package may start a system nginx on port 80; the bench runs its own on a free port.
cargo build --release -p fhirforge-cli
NGINX=/usr/sbin/nginx cargo bench -p fhirforge-runtime --bench bulk
