#!/usr/bin/env bash
# `make demo`: lplex-server on a simulated boat (or DEMO_SOURCE), journaling
# to ./demo-data/journal with a new file every 30 s, each finished file
# archived at once; a live status line until Ctrl-C, then where every file went.
#
#   make demo                                            # sim: — ten devices, GNSS, AIS, engine, ...
#   make demo DEMO_SOURCE=replay:../shared/data/captures/can0-1.pcap?loop=true
#   make demo DEMO_SOURCE=socketcan:can0                 # a real bus
#   DEMO_S3_BUCKET=my-bucket AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=... make demo
#
# Usage: demo.sh BUILD_DIR
set -uo pipefail

build=${1:-build/release}
bin="$build/apps/lplex-server/lplex-server"
source_uri=${DEMO_SOURCE:-sim:}
port=${DEMO_PORT:-8089}
data="$PWD/demo-data"
journal="$data/journal"
log="$data/lplex-server.log"
mkdir -p "$journal"

if [ -n "${DEMO_S3_BUCKET:-}" ] && [ -n "${AWS_ACCESS_KEY_ID:-}" ] && [ -n "${AWS_SECRET_ACCESS_KEY:-}" ]; then
  target="s3://$DEMO_S3_BUCKET/lplex-demo/"
else
  target="file://$data/archive"
fi

cat <<EOT
lplex-server demo: source $source_uri
  live frames (SSE)   http://127.0.0.1:$port/events
  devices             http://127.0.0.1:$port/devices
  latest values       http://127.0.0.1:$port/values   (decoded: /values/decoded)
  health / metrics    http://127.0.0.1:$port/healthz  http://127.0.0.1:$port/metrics
  journal             $journal (new file every 30 s)
  archive             $target
  server log          $log
Try:  curl -N http://127.0.0.1:$port/events
      $build/apps/lplex/lplex tail --server http://127.0.0.1:$port --decode   (after: make build)
Ctrl-C stops the server cleanly (the open journal file is finished and archived).

EOT

# The shell waits for the server's orderly shutdown instead of dying with it
# (a handler, not "ignore": an ignored SIGINT would be inherited).
trap 'true' INT TERM
"$bin" -source "$source_uri" -port "$port" -journal-dir "$journal" -journal-rotate-duration PT30S \
  -journal-archive-target "$target" -journal-archive-trigger on-rotate -status-line 2>"$log"
rc=$?
trap - INT TERM
echo
if [ "$rc" -ne 0 ]; then
  echo "lplex-server exited with status $rc; the last lines of $log:"
  tail -n 20 "$log"
fi

echo "Where every file went:"
echo "  journal $journal (a file with .archived beside it is safely in the archive):"
ls -l "$journal" | sed 's/^/    /'
if [[ "$target" == s3://* ]]; then
  echo "  archive $target:"
  aws s3 ls --recursive "$target" 2>&1 | sed 's/^/    /'
else
  echo "  archive ${target#file://}:"
  ls -l "${target#file://}" 2>/dev/null | sed 's/^/    /'
fi
unarchived=0
journals=0
for f in "$journal"/*.lpj; do
  [ -e "$f" ] || continue
  journals=$((journals + 1))
  [ -e "$f.archived" ] || { echo "  not archived yet (next start sweeps it): $f"; unarchived=$((unarchived + 1)); }
done
if [ "$journals" -eq 0 ]; then
  echo "  no journal file was written."
elif [ "$unarchived" -eq 0 ]; then
  echo "  every journal file ($journals) is in the archive."
fi
exit "$rc"
