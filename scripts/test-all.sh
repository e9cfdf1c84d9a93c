#!/usr/bin/env bash
# Runs every test on a fresh machine: installs what the end-to-end tests need (the hfs FHIR
# server, the oidc-provider authorization server, Chromium for the studio), then runs the whole workspace's tests.
# The README's test command; .ci/run calls it after the format and lint checks.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

# hfs first: its ~22-minute build must not fight the workspace build for the two cores.
"$root/scripts/install-hfs.sh"
if [[ -x "$root/scripts/install-oauth-server.sh" ]]; then
  "$root/scripts/install-oauth-server.sh"
fi
# headless Chromium, chromedriver and axe-core for the studio's browser tests
"$root/scripts/install-browser.sh"

export FHIRFORGE_HFS_BIN=${FHIRFORGE_HFS_BIN:-/opt/hfs/bin/hfs}
cargo nextest --version >/dev/null 2>&1 || cargo install cargo-nextest --locked
cargo nextest run --workspace --locked --no-fail-fast "$@"
# The keyring token store is behind a feature (desktop apps); its test runs against
# keyring-core's in-memory store.
cargo nextest run -p fhirforge-runtime --locked --features keyring --lib keyring
# nextest does not run doc tests.
cargo test --workspace --locked --doc
