#!/usr/bin/env bash
# Runs the benchmarks of a release build: bench/run.sh BUILD_DIR [extra args]
set -euo pipefail
build=${1:-build/release}
shift || true
shared="$(cd "$(dirname "$0")/../.." && pwd)/shared"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/{print $2}') GiB"
"$build/bench/journal_bench" --shared "$shared" "$@"
"$build/bench/keeper_bench"
