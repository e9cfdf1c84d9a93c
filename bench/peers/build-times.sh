#!/usr/bin/env bash
# Rebuild time of one crate's own code, its dependencies already built: the generated Epic
# connector (connectors/epic, a member of the repository's workspace) next to fhir-sdk's model
# crate (fhir-model from crates.io with the R4B models and builders, the features fhir-sdk's
# client needs). For each: build once, then BUILD_RUNS times touch its src/lib.rs and time
# `cargo build` (debug, then release) of that crate alone; prints the medians.
# Run through `scripts/bench-peers.sh build-times`. Each uses a target dir of its own, so other
# builds in the workspace neither hold its lock nor change its dependencies.
set -euo pipefail
peers=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$peers/../.." && pwd)
runs=${BUILD_RUNS:-3}

# Times `cargo build $profile` in a directory after touching a file, BUILD_RUNS times; fails when
# anything but the crate itself was compiled. Prints the median in seconds.
median_rebuild() {
  local label=$1 dir=$2 touch_file=$3 crate=$4
  shift 4
  local times=() log
  log=$(mktemp)
  (cd "$dir" && cargo build "$@" >/dev/null 2>&1)
  for _ in $(seq "$runs"); do
    touch "$touch_file"
    local start end
    start=$(date +%s.%N)
    (cd "$dir" && cargo build "$@" 2>"$log")
    end=$(date +%s.%N)
    if grep '^ *Compiling' "$log" | grep -v " $crate v" | grep -q .; then
      echo "$label: more than $crate was rebuilt:" >&2
      grep '^ *Compiling' "$log" >&2
      exit 1
    fi
    times+=("$(echo "$end - $start" | bc)")
  done
  rm -f "$log"
  local sorted
  sorted=$(printf '%s\n' "${times[@]}" | sort -n | tr '\n' ' ')
  printf '%-40s median %6.1f s   (runs: %s)\n' "$label" \
    "$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(((runs + 1) / 2))p")" "$sorted"
}

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

# (a) The Epic connector in the repository's workspace, its own target dir.
export CARGO_TARGET_DIR="$root/target/build-times"
lines=$(cat "$root"/connectors/epic/src/*.rs | wc -l)
echo "connectors/epic: $(ls "$root"/connectors/epic/src/*.rs | wc -l) files, $lines lines"
median_rebuild "fhirforge-epic debug" "$root" "$root/connectors/epic/src/lib.rs" fhirforge-epic \
  --locked -p fhirforge-epic
median_rebuild "fhirforge-epic release" "$root" "$root/connectors/epic/src/lib.rs" fhirforge-epic \
  --locked -p fhirforge-epic --release

# (b) fhir-model: a copy of the registry source (touching the registry's copy rebuilds
# nothing), made its own workspace, with bench/peers' lock file so its dependencies are the
# versions the peers use.
version=$(grep -A1 '^name = "fhir-model"$' "$peers/Cargo.lock" | sed -n 's/^version = "\(.*\)"$/\1/p')
src=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/"fhir-model-$version" | head -1)
copy="$peers/target/fhir-model-src"
rm -rf "$copy"
cp -r "$src" "$copy"
printf '\n[workspace]\n' >>"$copy/Cargo.toml"
cp "$peers/Cargo.lock" "$copy/Cargo.lock"
export CARGO_TARGET_DIR="$peers/target/build-times"
lines=$(find "$copy/src" -name '*.rs' -path '*r4b*' -exec cat {} + | wc -l)
echo "fhir-model $version (r4b, builders): $lines lines of R4B code"
median_rebuild "fhir-model r4b debug" "$copy" "$copy/src/lib.rs" fhir-model \
  --no-default-features --features r4b,builders
median_rebuild "fhir-model r4b release" "$copy" "$copy/src/lib.rs" fhir-model \
  --no-default-features --features r4b,builders --release
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
