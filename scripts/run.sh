#!/bin/bash
# Sets everything up on Debian 12 and runs Switchboard in the foreground on
# its embedded defaults: a private Janus with the plugin (Janus API on
# http://127.0.0.1:8088/janus and ws://127.0.0.1:8188, Admin API on
# http://127.0.0.1:7088/admin) and, from the plugin itself, the call page,
# REST routes and /ws/notifications on http://127.0.0.1:8080/.
# For this loopback demo it makes up the REST key and the Admin API secret
# when the environment gives none, and prints them once, here: the plugin
# never logs a secret.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
scripts/deps.sh
scripts/build.sh build
if [ -z "${SWITCHBOARD_API_KEY:-}" ]; then
	SWITCHBOARD_API_KEY="$(head -c 24 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
	export SWITCHBOARD_API_KEY
	echo "Switchboard: generated REST API key for this run (set SWITCHBOARD_API_KEY to choose one):"
	echo "  $SWITCHBOARD_API_KEY"
fi
if [ -z "${JANUS_ADMIN_SECRET:-}" ]; then
	JANUS_ADMIN_SECRET="$(head -c 24 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
	export JANUS_ADMIN_SECRET
	echo "Switchboard: Admin API secret for this run (set JANUS_ADMIN_SECRET to choose one):"
	echo "  $JANUS_ADMIN_SECRET"
fi
echo "Switchboard: open http://127.0.0.1:${SWITCHBOARD_HTTP_PORT:-8080}/ (Ctrl-C stops)"
exec scripts/janus-private.sh
