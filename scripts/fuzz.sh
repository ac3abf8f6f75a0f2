#!/usr/bin/env bash
# Builds the libFuzzer targets of Fuzz/ (one per decoder, docs/FUZZING.md) and runs each one:
# first the saved crash inputs of Fuzz/Crashes/<target>/ (replayed, not fuzzed), then a bounded
# fuzzing run from the committed corpus Fuzz/Corpus/<target>/.
#
#   scripts/fuzz.sh [SECONDS]     fuzz every target for SECONDS (default 60) — `make fuzz`
#   FUZZ_TARGETS="envelope hello" scripts/fuzz.sh 300     only these targets
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

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=()
printf '%-22s %9s %8s %9s %9s %6s\n' target runs exec/s cov-start cov-end corpus
for target in $targets; do
    [ -d "$fuzz/Corpus/$target" ] || { echo "fuzz: no target '$target'" >&2; failed+=("$target"); continue; }
    findings=$fuzz/.build/findings/$target
    mkdir -p "$findings"
    flags=(-rss_limit_mb=1024 -timeout=10 -artifact_prefix="$findings/")
    # Saved crash and regression inputs: each file is run once, without fuzzing.
    saved=("$fuzz/Crashes/$target"/*)
    if [ -e "${saved[0]}" ]; then
        if ! MESH_FUZZ_TARGET=$target "$bin" "${flags[@]}" "${saved[@]}" > "$work/$target.replay" 2>&1; then
            echo "fuzz: $target: a saved input in Fuzz/Crashes/$target/ crashes again:" >&2
            tail -20 "$work/$target.replay" >&2
            failed+=("$target")
            continue
        fi
    fi
    mkdir -p "$work/$target"
    log=$work/$target.log
    if ! MESH_FUZZ_TARGET=$target "$bin" "${flags[@]}" -use_value_profile=1 -max_total_time="$seconds" \
        -print_final_stats=1 "$work/$target" "$fuzz/Corpus/$target" > "$log" 2>&1; then
        echo "fuzz: $target: crashed; the input is in $findings/ (move it to Fuzz/Crashes/$target/ with the fix):" >&2
        grep -v '^#' "$log" | tail -30 >&2
        failed+=("$target")
        continue
    fi
    init=$(sed -n 's/.*INITED cov: \([0-9]*\).*/\1/p' "$log" | head -1)
    last=$(grep -E '^#[0-9]+' "$log" | tail -1)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<< "$last")
    corp=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<< "$last")
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    printf '%-22s %9s %8s %9s %9s %6s\n' "$target" "${runs:-?}" "${speed:-?}" "${init:-?}" "${cov:-?}" "${corp:-?}"
done

if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz: FAILED: ${failed[*]}" >&2
    exit 1
fi
echo "fuzz: every target ran ${seconds} s without a crash ($(( $(date +%s) - start )) s in all)"
