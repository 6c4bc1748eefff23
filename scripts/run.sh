#!/bin/bash
# Sets everything up on Debian 12 and runs Switchboard in the foreground on
# its embedded defaults: a private Janus with the plugin (Janus API on
# http://127.0.0.1:8088/janus and ws://127.0.0.1:8188, Admin API on
# http://127.0.0.1:7088/admin) and the call page on http://127.0.0.1:8080/.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
scripts/deps.sh
scripts/build.sh build
node scripts/static-server.mjs &
pages=$!
trap 'kill $pages 2>/dev/null || true' EXIT
echo "Switchboard: open http://127.0.0.1:8080/ (Ctrl-C stops)"
scripts/janus-private.sh
