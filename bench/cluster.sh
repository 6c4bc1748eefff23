#!/bin/bash
# The cluster benchmark (bench/README.md, "The cluster"): SIPp through
# Kamailio into 1, 2 and 3 Switchboard nodes on one PostgreSQL, and SIPp
# straight into one node, the same calls each time. Prints a table and
# writes bench/results/cluster.json.
#   bench/cluster.sh                                  # about 6 minutes
#   BENCH_CLUSTER_RUNS="alone 3" bench/cluster.sh
# Knobs: BENCH_CLUSTER_RUNS ("alone direct 1 2 3"), BENCH_CLUSTER_RATE (5
# calls/s), BENCH_CLUSTER_CALLS (200 per run), BENCH_CLUSTER_HOLD (10 s),
# BENCH_CLUSTER_PORT_BASE (39100), BENCH_BUDGET (900 s for everything).
# Everything it starts is stopped on exit, also on failure or Ctrl-C.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
for tool in sipp kamailio janus node espeak-ng sox; do
	command -v "$tool" >/dev/null || { echo "cluster.sh: $tool is missing (scripts/deps.sh)" >&2; exit 1; }
done
[ -f build/plugins/switchboard/.libs/libjanus_switchboard.so ] || [ -n "${SWITCHBOARD_PLUGIN_SO:-}" ] || scripts/build.sh build

# The bench runs in a process group of its own: on exit (normal, failure,
# Ctrl-C, the budget) the whole group — Janus nodes, Kamailio, PostgreSQL,
# SIPp — gets SIGTERM, then SIGKILL what is left.
pid=
cleanup() {
	[ -n "$pid" ] || return 0
	kill -TERM -- "-$pid" 2>/dev/null || true
	for _ in $(seq 1 50); do kill -0 -- "-$pid" 2>/dev/null || return 0; sleep 0.2; done
	kill -KILL -- "-$pid" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM
setsid timeout --signal=TERM --kill-after=30 "${BENCH_BUDGET:-900}" node bench/cluster-bench.mjs &
pid=$!
wait "$pid"
