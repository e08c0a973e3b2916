#!/usr/bin/env bash
# Runs every libFuzzer target of a fuzz build for a bounded time:
#   fuzz/run-smoke.sh BUILD_DIR SECONDS
# Seeds come from fuzz/corpus/<target>/ when present; new inputs go to a
# temporary directory that is removed afterwards (nothing is written to the repo).
set -euo pipefail
build=$1
seconds=${2:-30}
here=$(cd "$(dirname "$0")" && pwd)
status=0
for bin in "$build"/fuzz/*_fuzz; do
  [ -x "$bin" ] || continue
  name=$(basename "$bin")
  work=$(mktemp -d)
  seeds=()
  [ -d "$here/corpus/$name" ] && seeds+=("$here/corpus/$name")
  echo "fuzz: $name for ${seconds}s"
  if ! "$bin" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
       -artifact_prefix="$work/" "$work" "${seeds[@]}" > "$work/log" 2>&1; then
    echo "fuzz: $name FAILED"; tail -50 "$work/log"
    for a in "$work"/crash-* "$work"/leak-* "$work"/timeout-*; do [ -e "$a" ] && od -A x -t x1z "$a" | head -20; done
    status=1
  else
    grep -E "stat::number_of_executed_units|Done" "$work/log" | tail -2
  fi
  rm -rf "$work"
done
exit $status
