#!/usr/bin/env bash
# Peers benchmark: the same static searchset pages served by nginx over loopback, read in one
# run, interleaved, by the fhirforge CLI (`search --all --ndjson` to a file), a minimal
# reqwest + serde_json program (the limit), fhir-sdk (crates.io, R4B models), fhirpy (PyPI,
# async) and plain Python requests; each writes the same NDJSON to a file. Reports medians of
# wall time, CPU time (user + sys) and peak RSS per variant. Not part of the tests.
#
# The peers live in bench/peers: their own Cargo workspace, lock file and target dir (the
# repository's workspace never builds them) and a Python venv (bench/peers/.venv, gitignored)
# installed from PyPI here. nginx comes from Debian when missing.
#
# Usage:
#   scripts/bench-peers.sh              # the benchmark
#   scripts/bench-peers.sh build-times  # rebuild time of the Epic connector's own code and of
#                                       # fhir-sdk's model crate (fhir-model, R4B), deps built
# Environment: BENCH_PATIENTS (100000), BENCH_PAGE_SIZE (100), BENCH_RUNS (5),
#   BENCH_VARIANTS (fhirforge,raw,fhirsdk,fhirpy,requests; also fhirsdk-all-matches),
#   BUILD_RUNS (3, for build-times).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
peers="$root/bench/peers"
cd "$root"

if [[ ${1:-} == build-times ]]; then
  exec bash "$peers/build-times.sh"
fi

if [[ ! -x /usr/sbin/nginx ]]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light || \
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx
fi
if [[ ! -x "$peers/.venv/bin/python" ]]; then
  python3 -m venv "$peers/.venv"
fi
"$peers/.venv/bin/pip" install -q --disable-pip-version-check -r "$peers/python/requirements.txt"

cargo build --release --locked -p fhirforge-cli
cargo build --release --locked --manifest-path "$peers/Cargo.toml"
echo "fhirforge at $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- crates || echo ' + uncommitted changes in crates/')" >&2

# The Debian package may start a system nginx on port 80; the bench runs its own on a free port.
FHIRFORGE="$root/target/release/fhirforge" BENCH_PYTHON="$peers/.venv/bin/python" \
  NGINX=/usr/sbin/nginx "$peers/target/release/bench"
