#!/usr/bin/env bash
# Builds the libFuzzer targets of Fuzz/ (one per decoder, docs/FUZZING.md) and runs each one:
# first the saved crash inputs of Fuzz/Crashes/<target>/ (replayed, not fuzzed), then a bounded
# fuzzing run from the committed corpus Fuzz/Corpus/<target>/.
#
#   scripts/fuzz.sh [SECONDS]     fuzz every target for SECONDS (default 60) — `make fuzz`
#   FUZZ_TARGETS="envelope hello" scripts/fuzz.sh 300     only these targets
#   FUZZ_JOBS=1 scripts/fuzz.sh                            one target at a time (default: one per core)
#
# The committed corpus is never written to: each run's first corpus directory is a fresh temp
# directory (libFuzzer adds new inputs to the first one only), the committed one is read second.
# Findings (crash-*, leak-*, timeout-*, oom-* inputs) go to Fuzz/.build/findings/<target>/.
# Exits non-zero when the build fails, when a target list and Fuzz/Corpus/ disagree, when a saved
# crash input crashes again, or when fuzzing finds a crash; prints one summary line per target
# (runs, exec/s, coverage at start and end).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
swift=${SWIFT:-swift}
root=$PWD
fuzz=$root/Fuzz
[[ "$seconds" =~ ^[0-9]+$ ]] || { echo "fuzz: SECONDS must be a whole number, not '$seconds'" >&2; exit 2; }

# Release, with libFuzzer's coverage instrumentation and its main (a debug build gets no coverage
# feedback and fuzzes blind: docs/FUZZING.md has the measurements).
build=(--package-path "$fuzz" -c release --sanitize=fuzzer)
start=$(date +%s)
"$swift" build "${build[@]}"
bin=$("$swift" build "${build[@]}" --show-bin-path)/MeshFuzz
echo "fuzz: built in $(( $(date +%s) - start )) s: $bin"

export SWIFT_BACKTRACE=enable=no
known=$(MESH_FUZZ_LIST=1 "$bin" | sort)
committed=$(ls "$fuzz/Corpus" | sort)
if [ "$known" != "$committed" ]; then
    echo "fuzz: the targets in the binary and the directories of Fuzz/Corpus/ differ:" >&2
    diff <(echo "$known") <(echo "$committed") >&2 || true
    exit 1
fi
targets=${FUZZ_TARGETS:-$known}

jobs=${FUZZ_JOBS:-$(nproc)}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# One target: replay its saved inputs, then fuzz it; writes $work/<target>.result or .failed.
run_target() {
    local target=$1 findings=$fuzz/.build/findings/$1 log=$work/$1.log
    [ -d "$fuzz/Corpus/$target" ] || { echo "fuzz: no target '$target'" > "$work/$target.failed"; return; }
    mkdir -p "$findings" "$work/$target"
    local flags=(-rss_limit_mb=1024 -timeout=10 -artifact_prefix="$findings/")
    # Saved crash and regression inputs: each file is run once, without fuzzing.
    local saved=("$fuzz/Crashes/$target"/*)
    if [ -e "${saved[0]}" ]; then
        if ! MESH_FUZZ_TARGET=$target "$bin" "${flags[@]}" "${saved[@]}" > "$work/$target.replay" 2>&1; then
            { echo "fuzz: $target: a saved input in Fuzz/Crashes/$target/ crashes again:"; tail -20 "$work/$target.replay"; } \
                > "$work/$target.failed"
            return
        fi
    fi
    if ! MESH_FUZZ_TARGET=$target "$bin" "${flags[@]}" -use_value_profile=1 -max_total_time="$seconds" \
        -print_final_stats=1 "$work/$target" "$fuzz/Corpus/$target" > "$log" 2>&1; then
        { echo "fuzz: $target: crashed; the input is in $findings/ (move it to Fuzz/Crashes/$target/ with the fix):"
          grep -v '^#' "$log" | tail -30; } > "$work/$target.failed"
        return
    fi
    local init last cov corp runs speed
    init=$(sed -n 's/.*INITED cov: \([0-9]*\).*/\1/p' "$log" | head -1)
    last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<< "$last")
    corp=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<< "$last")
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    printf '%-22s %9s %8s %9s %9s %6s\n' "$target" "${runs:-?}" "${speed:-?}" "${init:-?}" "${cov:-?}" "${corp:-?}" \
        > "$work/$target.result"
}

# $jobs targets at a time (libFuzzer runs one input at a time per process).
for target in $targets; do
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
    run_target "$target" &
done
wait

failed=()
printf '%-22s %9s %8s %9s %9s %6s\n' target runs exec/s cov-start cov-end corpus
for target in $targets; do
    if [ -f "$work/$target.failed" ]; then
        cat "$work/$target.failed" >&2
        failed+=("$target")
    elif [ -f "$work/$target.result" ]; then
        cat "$work/$target.result"
    else
        echo "fuzz: $target: no result (the runner itself failed); its log:" >&2
        tail -20 "$work/$target.log" >&2 2>/dev/null || true
        failed+=("$target")
    fi
done

if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz: FAILED: ${failed[*]}" >&2
    exit 1
fi
echo "fuzz: $(wc -w <<< "$targets") targets ran ${seconds} s each without a crash, $jobs at a time ($(( $(date +%s) - start )) s in all, build included)"
