#!/bin/sh
# run.sh SECONDS HARNESS... — run each libFuzzer harness for SECONDS with a seed corpus
# built from ../shared/corpus (captures split into frames for the packet harnesses).
# Findings land in build-fuzz/findings/<harness>/; the executions count is printed.
set -eu
secs=$1; shift
root=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$root/build-fuzz/findings" "$root/build-fuzz/seeds"
for h in "$@"; do
    name=$(basename "$h")
    seeds="$root/build-fuzz/seeds/$name"
    mkdir -p "$seeds" "$root/build-fuzz/findings/$name"
    if [ -z "$(ls -A "$seeds")" ]; then
        python3 "$root/tests/fuzz/seeds.py" "$name" "$seeds" "$root/../shared/corpus" || true
    fi
    echo "fuzz: $name for ${secs}s"
    "$h" -max_total_time="$secs" -print_final_stats=1 -artifact_prefix="$root/build-fuzz/findings/$name/" \
        "$seeds" 2>&1 | grep -E 'stat::number_of_executed_units|ERROR|SUMMARY|crash-|leak' || true
done
