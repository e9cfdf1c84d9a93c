#!/usr/bin/env bash
# Fuzz every reader and the generator with cargo-fuzz (libFuzzer), one target after another,
# then print one summary line per target. Not part of CI: run it by hand before a release or
# after touching a reader.
#
#   scripts/fuzz.sh [SECONDS]            # each target for SECONDS (default 600)
#   FUZZ_TARGETS="openapi codegen" scripts/fuzz.sh 60
#
# Needs the nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz --locked`). The fuzz
# project is `fuzz/` (its own cargo workspace). Environment:
#   FUZZ_TARGETS    space-separated subset of the targets below (default: all, in this order)
#   FUZZ_SANITIZER  cargo-fuzz --sanitizer (default `none`: the fuzzed crates forbid unsafe code,
#                   so AddressSanitizer mostly halves the executions; use `address` to check deps)
#   FUZZ_MAX_LEN    libFuzzer -max_len (default: the largest seed; the OpenAPI seeds reach
#                   390 kB, which keeps the openapi and codegen targets near 100 executions/s,
#                   so a second run with e.g. 4096 explores small documents much faster)
#   FUZZ_NO_BUILD   set to run the binaries built last time without rebuilding
#   FUZZ_MAX_RESTARTS  how often a target is restarted after a crash within its time (default 5)
#
# Each run keeps its working corpus in fuzz/corpus/<target>/ (seeded from specs/ and the
# committed fuzz/seeds/<target>/, grown by every run; git-ignored), its log in
# fuzz/logs/<target>.log and any crash, timeout (-timeout=10) or out-of-memory input
# (-rss_limit_mb=2048) in fuzz/artifacts/<target>/. Minimize one with
#   cd fuzz && cargo +nightly fuzz tmin <target> artifacts/<target>/<file>
# and keep it as a regression test in the crate that owns the reader.
set -euo pipefail

seconds="${1:-600}"
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -lt 1 ]; then
    echo "usage: $0 [SECONDS]   (SECONDS: a positive whole number, default 600)" >&2
    exit 2
fi
root="$(cd "$(dirname "$0")/.." && pwd)"
fuzz="$root/fuzz"
specs="$root/specs"
targets="${FUZZ_TARGETS:-capability_json capability_xml smart_config openapi codegen}"
sanitizer="${FUZZ_SANITIZER:-none}"
max_restarts="${FUZZ_MAX_RESTARTS:-5}"

if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    echo "cargo-fuzz (and the nightly toolchain) are needed: cargo install cargo-fuzz --locked" >&2
    exit 1
fi

# The spec files each target starts from, besides fuzz/seeds/<target>/.
spec_seeds() {
    case "$1" in
    capability_json) ls "$specs"/vendors/*-capability.json "$specs"/synthetic/*.json ;;
    capability_xml) ls "$specs"/synthetic/*.xml ;;
    smart_config) ls "$specs"/vendors/*-smart-configuration.json ;;
    openapi) ls "$specs"/openapi/* "$specs"/openapi-synthetic/*.json "$specs"/openapi-synthetic/*.yaml ;;
    # Generating a whole connector is slow, so only specs up to 100 kB (still every kind).
    codegen)
        find "$specs"/synthetic "$specs"/vendors "$specs"/openapi "$specs"/openapi-synthetic \
            -type f \( -name '*.json' -o -name '*.yaml' -o -name '*.xml' \) -size -100k \
            ! -name '*smart-configuration*' | sort
        ;;
    *)
        echo "unknown fuzz target: $1" >&2
        exit 2
        ;;
    esac
}

dict_for() {
    case "$1" in
    capability_xml) echo "$fuzz/dicts/xml.dict" ;;
    openapi) echo "$fuzz/dicts/openapi.dict" ;;
    *) echo "$fuzz/dicts/json.dict" ;;
    esac
}

for target in $targets; do spec_seeds "$target" >/dev/null; done

if [ -z "${FUZZ_NO_BUILD:-}" ]; then
    echo "== building fuzz targets (sanitizer: $sanitizer, debug assertions on)"
    (cd "$fuzz" && cargo +nightly fuzz build --sanitizer "$sanitizer" --debug-assertions)
fi
# Run the binaries just built rather than `cargo fuzz run`, which would rebuild (and could fail
# on someone's half-saved edit) before every target and count the build as fuzzing time.
bin_dir="$fuzz/target/$(rustc +nightly -vV | sed -n 's/^host: //p')/release"

mkdir -p "$fuzz/logs"
summary="$fuzz/logs/summary.txt"
printf '%-16s %8s %12s %8s %7s %7s %7s %s\n' target seconds executions exec/s cov ft corpus \
    'crashes (new artifacts)' >"$summary"

for target in $targets; do
    corpus="$fuzz/corpus/$target"
    artifacts="$fuzz/artifacts/$target"
    log="$fuzz/logs/$target.log"
    mkdir -p "$corpus" "$artifacts"
    spec_seeds "$target" | while read -r f; do cp -n "$f" "$corpus/"; done
    before="$(ls "$artifacts" | grep -E '^(crash|timeout|oom|leak)-' || true)"
    : >"$log"
    start=$(date +%s)
    runs=0
    echo "== $target: ${seconds}s (log: $log)"
    while :; do
        elapsed=$(($(date +%s) - start))
        remaining=$((seconds - elapsed))
        [ "$remaining" -gt 0 ] || break
        runs=$((runs + 1))
        # One process (no -jobs/-fork): the machine is shared. libFuzzer stops at the first
        # crash; the loop below restarts it for the rest of the time, with the grown corpus.
        set +e
        "$bin_dir/$target" "$corpus" "$fuzz/seeds/$target" \
            -max_total_time="$remaining" -timeout=10 -rss_limit_mb=2048 \
            -dict="$(dict_for "$target")" -artifact_prefix="$artifacts/" \
            -print_final_stats=1 ${FUZZ_MAX_LEN:+-max_len="$FUZZ_MAX_LEN"} >>"$log" 2>&1
        status=$?
        set -e
        [ "$status" -eq 0 ] && break
        if [ "$runs" -gt "$max_restarts" ]; then
            echo "   $target: stopped after $runs runs that each ended in a crash" | tee -a "$log"
            break
        fi
        echo "   $target: run $runs ended with status $status; restarting" | tee -a "$log"
    done
    took=$(($(date +%s) - start))
    # Executions: libFuzzer's final stats, summed over the runs.
    execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | awk '{s += $2} END {print s + 0}')
    # Coverage: the last status line of the last run (it reloads the whole corpus).
    last=$(grep -E '^#[0-9]+[[:space:]]+(INITED|NEW|REDUCE|pulse|DONE|RELOAD)[[:space:]].*cov: ' "$log" | tail -n 1)
    cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$last")
    ft=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$last")
    after="$(ls "$artifacts" | grep -E '^(crash|timeout|oom|leak)-' || true)"
    new=$(comm -13 <(sort <<<"$before") <(sort <<<"$after") | grep -c . || true)
    rate=$((execs / (took > 0 ? took : 1)))
    printf '%-16s %8s %12s %8s %7s %7s %7s %s\n' "$target" "$took" "$execs" "$rate" \
        "${cov:-?}" "${ft:-?}" "$(ls "$corpus" | wc -l)" "$new" | tee -a "$summary"
    comm -13 <(sort <<<"$before") <(sort <<<"$after") | sed "s|^|   new: $artifacts/|"
done

echo
echo "== summary (also in $summary)"
cat "$summary"
