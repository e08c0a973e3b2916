#!/usr/bin/env bash
# Runs the benchmarks of a release build: bench/run.sh BUILD_DIR [extra args]
set -euo pipefail
build=${1:-build/release}
shift || true
shared="$(cd "$(dirname "$0")/../.." && pwd)/shared"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/{print $2}') GiB"
echo "load: $(uptime | sed 's/.*load average/load average/') (the machine may be shared; CPU figures are CPU time)"
"$build/bench/journal_bench" --shared "$shared" "$@"
"$build/bench/keeper_bench"
# The boat server (issue 7): built once src/broker, src/http and apps/lplex-server exist.
for b in broker_bench fanout_bench server_bench; do
  if [ -x "$build/bench/$b" ]; then "$build/bench/$b"; else echo "$b: not built, skipped"; fi
done
# The cloud (issue 8): built once apps/lplex-cloud and the gRPC code exist.
if [ -x "$build/bench/cloud_bench" ]; then "$build/bench/cloud_bench"; else echo "cloud_bench: not built, skipped"; fi
# PGN decoding and lplex dump (issue 9).
"$build/bench/pgn_bench" --shared "$shared"
"$build/bench/dump_bench" --shared "$shared"
