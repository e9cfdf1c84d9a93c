#!/usr/bin/env bash
# Installs the real FHIR test server (Helios hfs, cargo package `helios-hfs`) once, outside the
# repository. The build takes ~22 minutes on 2 cores, so it is skipped when the binary of the
# pinned version is already present. See ../shared/peers.md.
set -euo pipefail
HFS_VERSION=0.2.7
HFS_ROOT=${HFS_ROOT:-/opt/hfs}
bin="$HFS_ROOT/bin/hfs"
stamp="$HFS_ROOT/.version"
if [[ -x "$bin" && "$(cat "$stamp" 2>/dev/null)" == "$HFS_VERSION" ]]; then
  echo "hfs $HFS_VERSION already installed at $bin"
  exit 0
fi
echo "installing hfs $HFS_VERSION into $HFS_ROOT (about 22 minutes on 2 cores)" >&2
# A fixed build directory, so that a build that was interrupted (a session or CI run stopped
# mid-way) resumes from what it had compiled instead of starting the 22 minutes again.
build_dir=${HFS_BUILD_DIR:-/var/tmp/fhirforge-hfs-build}
# A link to an earlier build directory that is gone is dropped, not followed.
if [[ -L "$build_dir" && ! -e "$build_dir" ]]; then rm -f "$build_dir"; fi
mkdir -p "$build_dir"
CARGO_TARGET_DIR="$build_dir" cargo install helios-hfs --version "$HFS_VERSION" --locked \
  --no-default-features --features R4,sqlite --root "$HFS_ROOT"
rm -rf "$build_dir"
echo "$HFS_VERSION" > "$stamp"
