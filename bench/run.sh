#!/bin/bash
# Switchboard vs Janus's stock AudioBridge, side by side, in ONE run: the same
# private Janus process (scripts/janus-private.sh loads both plugins), the same
# machine, the same load (bench/loadgen: plain RTP, pre-encoded Opus speech).
#
#   bench/run.sh            # whole comparison, < 8 minutes
#   BENCH_SCENARIOS=cores bench/run.sh   # scale over cores (opt-in), ~4.5 minutes
#
# Prints a table (CPU of the Janus process per participant for both plugins,
# the ratio switchboard/audiobridge, packets the load generator got back) and
# writes bench/results/latest.json. Janus is killed at the end, also on error.
#
# Environment (defaults in brackets):
#   BENCH_WINDOW [15]        steady measuring window, seconds (active scenarios)
#   BENCH_WARMUP [4]         load before the window starts, seconds
#   BENCH_IDLE_WINDOW [10]   measuring window of the idle-room scenario
#   BENCH_SMALL_ROOMS [20]   number of 3-party rooms
#   BENCH_IDLE_ROOMS [50000] idle rooms for Switchboard (its max_rooms is set
#                            above that in the bench's copy of the config)
#   BENCH_AB_IDLE_ROOMS [1000] idle rooms for AudioBridge (a mixer thread per
#                            room waking every 5 ms: 5,000 saturate a 2-core
#                            machine and take minutes to create; the per-room
#                            figure is measured here and projected to 5,000)
#   BENCH_AB_QUALITY, BENCH_AB_BITRATE  AudioBridge encoder per join (default:
#                            opus_complexity / opus_bitrate of the Switchboard
#                            config, so both encode alike)
#   BENCH_SCENARIOS ["small big nolevels bignolevels phone record latency idle"]
#                            subset to run, plus cores (opt-in, below)
#                            (record: the small scenario with
#                            every room's mix recorded to WAV by each plugin's
#                            own recorder; latency: mouth-to-ear through the
#                            mixer, tone bursts; nolevels / bignolevels: small
#                            and big without RFC 6464 levels, as phone legs
#                            send; phone: 3-party rooms of G.711 mu-law legs
#                            without levels, rooms mixing at BENCH_PHONE_RATE)
#   BENCH_PHONE_RATE [16000] the phone scenario's rooms' mixing rate
#   cores (opt-in, not in the default list; runs last, ~4 minutes on 2 cores):
#                            for each core count, a Janus pinned to that many
#                            cores (taskset) with mixer_threads = the count;
#                            the participant count is ramped (x2 per step,
#                            then halving the gap to a sixth) to the largest
#                            one held:
#                            Switchboard with no late mixer frame, AudioBridge
#                            with Janus under BENCH_CORES_AB_CPU % of its
#                            cores; both with rx/exp >= BENCH_CORES_RX
#   BENCH_CORES ["1 2 4 8 ... nproc"]  core counts of the cores scenario
#   BENCH_CORES_SHAPE [nolevels]  its load: nolevels (3-party Opus rooms without
#                            levels, 1 talker), phone (3-party G.711) or
#                            bignolevels (20-party rooms, 2 talkers)
#   BENCH_CORES_START [30], BENCH_CORES_CAP [1500]  participants of its first
#                            step, and the most it tries
#   BENCH_CORES_WARMUP [2], BENCH_CORES_WINDOW [4]  each step, seconds
#   BENCH_CORES_STEPS [8]    steps per ramp at most
#   BENCH_CORES_RX [0.99], BENCH_CORES_AB_CPU [90]  the criteria above
#   BENCH_CORES_BUDGET [240] seconds for the whole cores scenario
#   BENCH_CORES_LATE [canary]  canary: Switchboard's late frames are read
#                            against stall canaries (a thread per Janus CPU
#                            waking every 20 ms, doing nothing): a step holds
#                            with no late frame beyond theirs; strict: none
#   BENCH_CORES_PRIO [""]    its Janus and loadgen at normal priority; a
#                            nice value (-10), or rr: SCHED_RR priority 10
#                            (chrt), so that other work on a shared machine
#                            does not preempt them (the kernel still leaves
#                            5 % of each CPU to normal tasks)
#   BENCH_CORES_RTP_PORT_RANGE [41000-46999]  Switchboard's plain RTP ports
#                            while it runs (a leg takes one, or two with RTCP)
#   BENCH_LATENCY_ROOMS [5]  3-party rooms of the latency scenario
#   BENCH_LATENCY_WINDOW [15] its window (one burst per room per second)
#   BENCH_LATENCY_FLOOR [60] -dBov of the noise between bursts (127: digital
#                            silence)
#   BENCH_BUDGET [480]       hard limit for the whole run, seconds (runs that
#                            would not fit are skipped and shown as such)
#   BENCH_JANUS_CMD          command that starts Janus in the foreground
#                            (default scripts/janus-private.sh)
#   BENCH_JANUS_HTTP_PORT [38088], BENCH_JANUS_ADMIN_PORT [37088],
#   BENCH_JANUS_WS_PORT [38188], BENCH_SWITCHBOARD_HTTP_PORT [38080],
#   BENCH_SWITCHBOARD_SIP_PORT [35060],
#   BENCH_SWITCHBOARD_RTP_PORT_RANGE [46000-46999], BENCH_JANUS_RTP_PORT_RANGE
#   [47000-47999]            the bench Janus's own ports (janus-private.sh)
#   SWITCHBOARD_PLUGIN_CONFIG  passed through to janus-private.sh
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
bench="$repo/bench"
results="$bench/results"
work="$results/run"
mkdir -p "$results"
rm -rf "$work"
mkdir -p "$work"

WINDOW="${BENCH_WINDOW:-15}"
WARMUP="${BENCH_WARMUP:-4}"
IDLE_WINDOW="${BENCH_IDLE_WINDOW:-10}"
SMALL_ROOMS="${BENCH_SMALL_ROOMS:-20}"
IDLE_ROOMS="${BENCH_IDLE_ROOMS:-50000}"
AB_IDLE_ROOMS="${BENCH_AB_IDLE_ROOMS:-1000}"
# idle first: its memory per room is measured in a Janus that has freed
# nothing yet (later runs reuse what earlier ones freed).
SCENARIOS="${BENCH_SCENARIOS:-idle small big nolevels bignolevels phone record latency}"
PHONE_RATE="${BENCH_PHONE_RATE:-16000}"
LAT_ROOMS="${BENCH_LATENCY_ROOMS:-5}"
LAT_WINDOW="${BENCH_LATENCY_WINDOW:-15}"
LAT_FLOOR="${BENCH_LATENCY_FLOOR:-60}"
BUDGET="${BENCH_BUDGET:-480}"
CORES_SHAPE="${BENCH_CORES_SHAPE:-nolevels}"
CORES_START="${BENCH_CORES_START:-30}"
CORES_CAP="${BENCH_CORES_CAP:-1500}"
CORES_WARMUP="${BENCH_CORES_WARMUP:-2}"
CORES_WINDOW="${BENCH_CORES_WINDOW:-4}"
CORES_STEPS="${BENCH_CORES_STEPS:-8}"
CORES_RX="${BENCH_CORES_RX:-0.99}"
CORES_AB_CPU="${BENCH_CORES_AB_CPU:-90}"
CORES_BUDGET="${BENCH_CORES_BUDGET:-240}"
CORES_PRIO="${BENCH_CORES_PRIO:-}"
CORES_LATE="${BENCH_CORES_LATE:-canary}"
case "$CORES_PRIO" in
"") cores_prio=() ;;
rr) cores_prio=(chrt -r 10) ;;
-* | [0-9]*) cores_prio=(nice -n "$CORES_PRIO") ;;
*) echo "bench: BENCH_CORES_PRIO is empty, rr or a nice value" >&2; exit 2 ;;
esac
CORES_RTP_PORT_RANGE="${BENCH_CORES_RTP_PORT_RANGE:-41000-46999}"
ncpu="$(nproc)"
if [ -n "${BENCH_CORES:-}" ]; then
	CORES="$BENCH_CORES"
else
	CORES=""
	for ((n = 1; n < ncpu; n *= 2)); do CORES="$CORES $n"; done
	CORES="${CORES# } $ncpu"
fi
# Ports of the bench's own Janus: away from the defaults (8088/7088/8188/8080,
# 40000-40999) so that a dev Janus or e2e tests running on the same machine
# neither collide with nor talk to the Janus being measured.
export JANUS_HTTP_PORT="${BENCH_JANUS_HTTP_PORT:-38088}"
export JANUS_ADMIN_PORT="${BENCH_JANUS_ADMIN_PORT:-37088}"
export JANUS_WS_PORT="${BENCH_JANUS_WS_PORT:-38188}"
export SWITCHBOARD_HTTP_PORT="${BENCH_SWITCHBOARD_HTTP_PORT:-38080}"
# (the SIP bridge too: on 5060 the tests' SIP calls reached the bench's Janus)
export SWITCHBOARD_SIP_PORT="${BENCH_SWITCHBOARD_SIP_PORT:-35060}"
export SWITCHBOARD_RTP_PORT_RANGE="${BENCH_SWITCHBOARD_RTP_PORT_RANGE:-46000-46999}"
export JANUS_RTP_PORT_RANGE="${BENCH_JANUS_RTP_PORT_RANGE:-47000-47999}"
JANUS_URL="http://127.0.0.1:$JANUS_HTTP_PORT/janus"
ADMIN_URL="http://127.0.0.1:$JANUS_ADMIN_PORT/admin"
# Janus has no default Admin API secret: the bench's own Janus gets one.
export JANUS_ADMIN_SECRET="${JANUS_ADMIN_SECRET:-bench-$(head -c 18 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')}"
t_start=$(date +%s)

log() { printf '[bench %4ds] %s\n' "$(($(date +%s) - t_start))" "$*" >&2; }

# --- encoder settings: AudioBridge joins use what Switchboard is configured with
sb_conf="${SWITCHBOARD_PLUGIN_CONFIG:-$repo/conf/janus.plugin.switchboard.jcfg}"
conf_val() { sed -n "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*\([0-9]*\).*/\1/p" "$sb_conf" 2>/dev/null | head -1; }
AB_QUALITY="${BENCH_AB_QUALITY:-$(conf_val opus_complexity)}"
AB_BITRATE="${BENCH_AB_BITRATE:-$(conf_val opus_bitrate)}"
AB_QUALITY="${AB_QUALITY:-10}"
# Jitter buffers, shown beside the latency figures: Switchboard's bounds from
# its config; AudioBridge rooms keep their default prebuffering (6 packets in
# 1.1.2; loadgen passes no default_prebuffering / prebuffer) and loadgen reads
# the value back from the Admin API (handle_info prebuffer-count).
SB_JITTER_MIN="$(conf_val jitter_min_frames)"
SB_JITTER_MAX="$(conf_val jitter_max_frames)"
AB_BITRATE="${AB_BITRATE:-32000}"

# --- the plugin (built only when missing: scripts/build.sh is the lead's build)
plugin_so="${SWITCHBOARD_PLUGIN_SO:-$repo/build/plugins/switchboard/.libs/libjanus_switchboard.so}"
if [ -z "${BENCH_JANUS_CMD:-}" ] && [ ! -f "$plugin_so" ]; then
	log "plugin not built: running scripts/build.sh"
	"$repo/scripts/build.sh" >&2
fi

# --- build the load generator
log "building bench/loadgen"
"$bench/build.sh" >/dev/null

# --- speech: espeak-ng, resampled to 48 kHz mono 16-bit
log "making speech with espeak-ng"
espeak-ng -s 165 -w "$work/speech-raw.wav" \
	"Good morning, thank you for calling. I would like to ask about my last invoice, \
because the amount looks higher than usual, and I think I was charged twice for the \
same service in March. Could you please check my account and tell me what happened? \
I have the reference number here if you need it." 
sox "$work/speech-raw.wav" -r 48000 -c 1 -b 16 "$work/speech.wav"

# --- Janus
for port in "$JANUS_HTTP_PORT" "$JANUS_ADMIN_PORT" "$JANUS_WS_PORT" "$SWITCHBOARD_HTTP_PORT" "$SWITCHBOARD_SIP_PORT"; do
	if ss -ltnH "sport = :$port" 2>/dev/null | grep -q .; then
		echo "bench: port $port is already in use (another bench run?); stop it or set BENCH_*_PORT" >&2
		exit 1
	fi
done
janus_pid=""
loadgen_pid=""
cleanup() {
	local rc=$?
	if [ -n "$loadgen_pid" ] && kill -0 "$loadgen_pid" 2>/dev/null; then
		kill -TERM "$loadgen_pid" 2>/dev/null || true
		wait "$loadgen_pid" 2>/dev/null || true
	fi
	if [ -n "$janus_pid" ] && kill -0 "$janus_pid" 2>/dev/null; then
		kill -TERM "$janus_pid" 2>/dev/null || true
		for _ in $(seq 50); do
			kill -0 "$janus_pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$janus_pid" 2>/dev/null || true
		wait "$janus_pid" 2>/dev/null || true
	fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The repo's configuration, with room for the idle rooms (max_rooms).
bench_conf="$work/janus.plugin.switchboard.jcfg"
sed "s/^\([[:space:]]*\)max_rooms[[:space:]]*=.*/\1max_rooms = $((IDLE_ROOMS + 1000))/" "$sb_conf" >"$bench_conf"
grep -q "max_rooms = $((IDLE_ROOMS + 1000))" "$bench_conf" || {
	echo "bench: could not set max_rooms in a copy of $sb_conf" >&2
	exit 1
}
export SWITCHBOARD_PLUGIN_CONFIG="$bench_conf"

# start_janus LOG [CPUS]: Janus in the background (pinned to the CPU list
# CPUS with taskset: every thread it starts inherits the mask), waits for its
# HTTP API; sets janus_pid and info.
start_janus() {
	local logf="$1" cpus="${2:-}" pin=()
	[ -z "$cpus" ] || pin=(taskset -c "$cpus")
	[ -z "$cpus" ] || pin=("${cores_prio[@]}" "${pin[@]}")
	log "starting Janus${cpus:+ on CPUs $cpus} (log: bench/results/run/$(basename "$logf"))"
	# janus-private.sh ends with `exec janus` (and taskset execs it), so $! is
	# the Janus process itself.
	JANUS_DEBUG_LEVEL="${JANUS_DEBUG_LEVEL:-3}" SWITCHBOARD_RUN_DIR="$work/janus" \
		SWITCHBOARD_STATE_DIR="$work/state" \
		"${pin[@]}" ${BENCH_JANUS_CMD:-"$repo/scripts/janus-private.sh"} >"$logf" 2>&1 &
	janus_pid=$!
	info=""
	for _ in $(seq 100); do
		if ! kill -0 "$janus_pid" 2>/dev/null; then
			echo "bench: Janus exited during start-up; last lines of its log:" >&2
			tail -20 "$logf" >&2
			exit 1
		fi
		if info="$(curl -sf --max-time 1 "$JANUS_URL/info")"; then
			break
		fi
		sleep 0.2
	done
	[ -n "$info" ] || { echo "bench: Janus HTTP API did not come up" >&2; exit 1; }
	if [ "$(cat "/proc/$janus_pid/comm" 2>/dev/null)" != "janus" ]; then
		echo "bench: pid $janus_pid is not janus ($(cat "/proc/$janus_pid/comm" 2>/dev/null))" >&2
		exit 1
	fi
}
stop_janus() {
	[ -n "$janus_pid" ] || return 0
	kill -TERM "$janus_pid" 2>/dev/null || true
	for _ in $(seq 100); do
		kill -0 "$janus_pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$janus_pid" 2>/dev/null || true
	wait "$janus_pid" 2>/dev/null || true
	janus_pid=""
}

start_janus "$work/janus.log"
echo "$info" >"$work/janus-info.json"
have_plugin() { python3 -c 'import json,sys; sys.exit(0 if sys.argv[1] in json.load(open(sys.argv[2])).get("plugins",{}) else 1)' "$1" "$work/janus-info.json"; }
sb_loaded=1
ab_loaded=1
have_plugin janus.plugin.switchboard || { sb_loaded=0; log "WARNING: janus.plugin.switchboard is not loaded"; }
have_plugin janus.plugin.audiobridge || { ab_loaded=0; log "WARNING: janus.plugin.audiobridge is not loaded"; }
log "Janus pid $janus_pid up; switchboard loaded=$sb_loaded audiobridge loaded=$ab_loaded"

out="$work/runs.jsonl"
lg_pin=() # cores scenario: loadgen on the cores Janus does not have
: >"$out"
# run_lg LABEL PLUGIN TIME-LIMIT ARGS...: one loadgen run, JSON line appended
run_lg() {
	local label="$1" plugin="$2" limit="$3"
	shift 3
	# whole run bounded by BUDGET seconds (10 s kept for the report and cleanup)
	local left=$((BUDGET - ($(date +%s) - t_start) - 10))
	if [ "$left" -lt 25 ]; then
		log "$label / $plugin: skipped, time budget of ${BUDGET} s used up"
		printf '{"label":"%s","plugin":"%s","ok":false,"errors":1,"skipped":"time budget"}\n' "$label" "$plugin" >>"$out"
		return 0
	fi
	[ "$limit" -le "$left" ] || limit="$left"
	log "$label / $plugin: $*"
	local rc=0
	"${lg_pin[@]}" timeout -k 5 "$limit" "$bench/loadgen" --plugin "$plugin" --janus "$JANUS_URL" \
		--cpu-pid "$janus_pid" --label "$label" --prefix "bench-$label-$plugin" \
		--admin "$ADMIN_URL" --admin-secret "$JANUS_ADMIN_SECRET" \
		--deadline "$((limit - 10))" "$@" >"$work/$label-$plugin.json" 2>"$work/$label-$plugin.log" &
	loadgen_pid=$!
	wait "$loadgen_pid" || rc=$?
	loadgen_pid=""
	if [ -s "$work/$label-$plugin.json" ]; then
		cat "$work/$label-$plugin.json" >>"$out"
	else
		printf '{"label":"%s","plugin":"%s","ok":false,"errors":1,"exit":%d}\n' "$label" "$plugin" "$rc" >>"$out"
	fi
	if [ "$rc" != 0 ]; then
		log "  $label / $plugin FAILED (exit $rc); its log:"
		sed 's/^/    /' "$work/$label-$plugin.log" | tail -15 >&2
	else
		python3 -c 'import json,sys; d=json.loads(open(sys.argv[1]).readline()); l=d.get("latency"); print("  Janus CPU %.1f %% of one core over %.1f s; rx %d pkts; other clients'"'"' sessions: %d" % (d["janus_cpu_pct"], d["window_s"], d.get("rx_window_talkers",0)+d.get("rx_window_listeners",0), d.get("foreign_sessions_max",-1)) + ("; mouth-to-ear p50 %.1f / p95 %.1f / max %.1f ms (%d of %d bursts)" % (l["p50_ms"], l["p95_ms"], l["max_ms"], l["samples"], l["expected"]) if l and l.get("samples") else ""))' \
			"$work/$label-$plugin.json" >&2 || true
	fi
	if ! kill -0 "$janus_pid" 2>/dev/null; then
		echo "bench: Janus died during $label / $plugin; last lines of its log:" >&2
		tail -30 "$work/janus.log" >&2
		janus_pid=""
		exit 1
	fi
	sleep "${lg_rest:-2}" # let destroyed rooms' threads wind down before the next run
}

# The shape of each load scenario, shared by loadgen and the codec floor.
scenario_args() {
	case "$1" in
	small | record) echo "--rooms $SMALL_ROOMS --per-room 3 --talkers 1" ;;
	big) echo "--rooms 1 --per-room 20 --talkers 2" ;;
	nolevels) echo "--rooms $SMALL_ROOMS --per-room 3 --talkers 1 --no-levels" ;;
	bignolevels) echo "--rooms 1 --per-room 20 --talkers 2 --no-levels" ;;
	phone) echo "--rooms $SMALL_ROOMS --per-room 3 --talkers 1 --no-levels --codec pcmu --sampling-rate $PHONE_RATE" ;;
	esac
}

plugins=()
[ "$sb_loaded" = 1 ] && plugins+=(switchboard)
[ "$ab_loaded" = 1 ] && plugins+=(audiobridge)

run_lg baseline audiobridge 30 --idle --rooms 0 --warmup 1 --seconds 5

for sc in $SCENARIOS; do
	for p in "${plugins[@]}"; do
		case "$sc" in
		small)
			run_lg small "$p" 90 $(scenario_args small) \
				--warmup "$WARMUP" --seconds "$WINDOW" --speech "$work/speech.wav" \
				--ab-quality "$AB_QUALITY" --ab-bitrate "$AB_BITRATE"
			;;
		record)
			mkdir -p "$work/recordings-$p"
			run_lg record "$p" 90 $(scenario_args record) \
				--warmup "$WARMUP" --seconds "$WINDOW" --speech "$work/speech.wav" \
				--ab-quality "$AB_QUALITY" --ab-bitrate "$AB_BITRATE" --record "$work/recordings-$p"
			if [ "$p" = switchboard ]; then recdir="$work/state/recordings"; else recdir="$work/recordings-$p"; fi
			log "  recordings: $(find "$recdir" -name '*.wav' 2>/dev/null | wc -l) WAV files, $(du -sh "$recdir" 2>/dev/null | cut -f1)"
			;;
		latency)
			run_lg latency "$p" 60 --rooms "$LAT_ROOMS" --per-room 3 --talkers 1 --latency \
				--latency-floor "$LAT_FLOOR" --warmup "$WARMUP" --seconds "$LAT_WINDOW" \
				--ab-quality "$AB_QUALITY" --ab-bitrate "$AB_BITRATE"
			;;
		big)
			run_lg big "$p" 90 $(scenario_args big) \
				--warmup "$WARMUP" --seconds "$WINDOW" --speech "$work/speech.wav" \
				--ab-quality "$AB_QUALITY" --ab-bitrate "$AB_BITRATE"
			;;
		nolevels)
			run_lg nolevels "$p" 90 $(scenario_args nolevels) \
				--warmup "$WARMUP" --seconds "$WINDOW" --speech "$work/speech.wav" \
				--ab-quality "$AB_QUALITY" --ab-bitrate "$AB_BITRATE"
			;;
		bignolevels)
			run_lg bignolevels "$p" 90 $(scenario_args bignolevels) \
				--warmup "$WARMUP" --seconds "$WINDOW" --speech "$work/speech.wav" \
				--ab-quality "$AB_QUALITY" --ab-bitrate "$AB_BITRATE"
			;;
		phone)
			run_lg phone "$p" 90 $(scenario_args phone) \
				--warmup "$WARMUP" --seconds "$WINDOW" --speech "$work/speech.wav" \
				--ab-quality "$AB_QUALITY" --ab-bitrate "$AB_BITRATE"
			;;
		cores) ;; # after the other scenarios, in Janus processes of its own
		idle)
			if [ "$p" = switchboard ]; then n="$IDLE_ROOMS"; rate=1000; else n="$AB_IDLE_ROOMS"; rate=500; fi
			run_lg idle "$p" 200 --idle --rooms "$n" --create-rate "$rate" \
				--warmup 3 --seconds "$IDLE_WINDOW"
			;;
		*) echo "bench: unknown scenario $sc" >&2 ;;
		esac
	done
done

# The codec floor of each CPU scenario that ran: its decodes and encodes
# alone (bench/floor), on this machine, after the loads (Janus idle).
floor_out="$work/floor.jsonl"
: >"$floor_out"
for sc in $SCENARIOS; do
	args="$(scenario_args "$sc")"
	[ -n "$args" ] || continue
	# shellcheck disable=SC2086
	"$bench/floor" $args --label "$sc" --speech "$work/speech.wav" --seconds 10 \
		--bitrate "$AB_BITRATE" --complexity "$AB_QUALITY" >>"$floor_out" 2>>"$work/floor.log" ||
		log "floor of $sc failed (see bench/results/run/floor.log)"
done

# --- cores: participants held per core count (issue 19 item 5) -------------
# One Janus per core count N, pinned to CPUs 0..N-1 with Switchboard's
# mixer_threads = N; loadgen runs on the other CPUs when there are any. Each
# plugin's load is ramped from BENCH_CORES_START participants, doubling while
# a step holds, then halving the gap between the largest step held and the
# smallest not held until it is within a sixth (or one room) - at most
# BENCH_CORES_STEPS steps, and BENCH_CORES_BUDGET seconds in all, shared
# evenly by the ramps still to run.
cores_out="$work/cores.jsonl"
: >"$cores_out"
case "$CORES_SHAPE" in
bignolevels) cores_per=20 cores_talk=2 cores_extra="--no-levels" ;;
phone) cores_per=3 cores_talk=1 cores_extra="--no-levels --codec pcmu --sampling-rate $PHONE_RATE" ;;
*) CORES_SHAPE=nolevels cores_per=3 cores_talk=1 cores_extra="--no-levels" ;;
esac
# cores_step N PLUGIN ROOMS [AGAIN]: one step; appends its verdict to
# cores.jsonl, succeeds when it held. A step that failed by a hair - a few
# late frames beyond the canaries' (at most 1 % of the ticks) with every
# packet back, or only a starved load generator - is run once more and the
# repeat decides: a stall that hit the mixer and missed the canaries is not
# the mixer running out of time; a mixer out of time is late again.
cores_step() {
	local n="$1" p="$2" rooms="$3" again="${4:-0}" label="cores$1-$2-$3"
	[ "$again" = 0 ] || label="$label-again"
	# shellcheck disable=SC2086
	run_lg "$label" "$p" 30 --rooms "$rooms" --per-room "$cores_per" --talkers "$cores_talk" \
		$cores_extra --warmup "$CORES_WARMUP" --seconds "$CORES_WINDOW" --speech "$work/speech.wav" \
		--ab-quality "$AB_QUALITY" --ab-bitrate "$AB_BITRATE" --canary-cpus "$cpus" --mixer-stats
	# AudioBridge counts no late frame: its mixer thread per room catches up
	# after a late wake-up, so what shows is the cores running out (Janus CPU)
	# or, past that, mixes that never come (rx).
	local rc=0
	python3 - "$work/$label-$p.json" "$n" "$p" "$rooms" "$cores_per" "$CORES_RX" "$CORES_AB_CPU" \
		"$again" "$CORES_LATE" >>"$cores_out" <<'PY' || rc=$?
import json, sys
path, n, plugin, rooms, per, rx_min, ab_cpu, again, strict = sys.argv[1:]
n, rooms, per, again = int(n), int(rooms), int(per), int(again)
rx_min, ab_cpu = float(rx_min), float(ab_cpu)
try:
    r = json.loads(open(path).readline())
except (OSError, ValueError):
    r = {}
v = {"cores": n, "plugin": plugin, "rooms": rooms, "participants": rooms * per,
     "label": r.get("label"), "ok": bool(r.get("ok"))}
why = []
if not r.get("ok"):
    why.append("run failed")
else:
    rx = r["rx_window_talkers"] + r["rx_window_listeners"]
    exp = r["expected_rx_per_participant"] * r["participants"]
    v.update(cpu_pct=r["janus_cpu_pct"], cpu_of_cores=r["janus_cpu_pct"] / (100 * n),
             rx=rx, rx_expected=round(exp), rx_share=rx / exp if exp else 0,
             loadgen_cpu_pct=r.get("loadgen_cpu_pct"), loadgen_late_ticks=r.get("late_ticks"),
             loadgen_max_late_ms=r.get("max_late_ms"), foreign_sessions_max=r.get("foreign_sessions_max"),
             window_s=r["window_s"])
    if v["rx_share"] < rx_min:
        why.append(f"rx {rx}/{round(exp)} < {rx_min}")
    if (r.get("max_late_ms") or 0) > 200:
        why.append(f"load generator starved ({r['max_late_ms']:.0f} ms late)")
    c = r.get("canary") or {}
    v.update(canary_late=c.get("late"), canary_ticks=c.get("ticks"), canary_max_late_ms=c.get("max_late_ms"))
    if plugin == "switchboard":
        m = r.get("mixer")
        if not m or not c:
            why.append("no mixer or canary stats")
        else:
            # the machine's stalls: what an idle thread on each of these
            # CPUs suffered; a mixer late frame beyond them is the mixer's
            allowed = c["late"] if strict == "canary" else 0
            v.update(late_frames=m["late_frames"], ticks=m["ticks"], workers=m["workers"],
                     skipped=m["skipped"], late_allowed=allowed,
                     late_beyond_machine=max(0, m["late_frames"] - allowed))
            if m["late_frames"] > allowed:
                why.append(f"{m['late_frames']} late frames of {m['ticks']}"
                           + (f" (stalls of the machine: {allowed})" if allowed else ""))
            if m["workers"] != n:
                why.append(f"{m['workers']} mixer workers, not {n}")
    elif v["cpu_pct"] > ab_cpu * n:
        why.append(f"Janus CPU {v['cpu_pct']:.0f} % > {ab_cpu:.0f} % of {n} core(s)")
v["held"] = not why
v["why"] = "; ".join(why)
v["repeat"] = bool(again)
# by a hair: only a few late frames, or the load generator was starved
starved = [w for w in why if w.startswith("load generator starved")]
hair = bool(why) and bool(r.get("ok")) and v["rx_share"] >= rx_min and (
    why == starved
    or (plugin == "switchboard" and len(why) == 1 and "late frames" in why[0]
        and v["late_beyond_machine"] <= 0.01 * v["ticks"]))
if hair and not again:
    v["superseded"] = True  # the repeat decides
print(json.dumps(v))
sys.stderr.write(f"  {n} core(s) {plugin} {rooms * per} participants: "
                 + ("held" if v["held"] else "NOT held (" + v["why"] + ")")
                 + (f"; CPU {v['cpu_pct']:.1f} %" if "cpu_pct" in v else "")
                 + (f"; canary late {v['canary_late']}/{v['canary_ticks']}" if v.get("canary_ticks") else "")
                 + (f"; loadgen up to {v['loadgen_max_late_ms']:.0f} ms late" if (v.get('loadgen_max_late_ms') or 0) > 50 else "")
                 + ("; by a hair: once more" if v.get("superseded") else "") + "\n")
sys.exit(0 if v["held"] else 2 if v.get("superseded") else 1)
PY
	[ "$rc" = 2 ] && { cores_step "$n" "$p" "$rooms" 1; return; }
	return "$rc"
}
declare -A cores_held=()
if [[ " $SCENARIOS " == *" cores "* ]]; then
	stop_janus
	t_cores=$(date +%s)
	cores_load="$(cut -d' ' -f1-3 /proc/loadavg)"
	log "cores: load average before: $cores_load"
	cores_conf="$work/janus.plugin.switchboard.cores.jcfg"
	start_rooms=$(((CORES_START + cores_per - 1) / cores_per))
	cap_rooms=$((CORES_CAP / cores_per))
	[ "$cap_rooms" -ge "$start_rooms" ] || cap_rooms=$start_rooms
	cores_list=()
	for n in $CORES; do
		if [ "$n" -gt "$ncpu" ]; then
			log "cores: $n > $ncpu CPUs, skipped"
			continue
		fi
		cores_list+=("$n")
	done
	cores_done=0
	for n in "${cores_list[@]}"; do
		plugin_done=0
		sed "s/^\([[:space:]]*\)mixer_threads[[:space:]]*=.*/\1mixer_threads = $n/" "$bench_conf" >"$cores_conf"
		grep -q "mixer_threads = $n" "$cores_conf" || { echo "bench: could not set mixer_threads" >&2; exit 1; }
		cpus="0-$((n - 1))"
		lg_pin=()
		[ "$n" -ge "$ncpu" ] || lg_pin=(taskset -c "$n-$((ncpu - 1))")
		lg_pin=("${cores_prio[@]}" "${lg_pin[@]}")
		SWITCHBOARD_PLUGIN_CONFIG="$cores_conf" SWITCHBOARD_RTP_PORT_RANGE="$CORES_RTP_PORT_RANGE" \
			start_janus "$work/janus-cores$n.log" "$cpus"
		for p in "${plugins[@]}"; do
			lo=0 hi=0 steps=0
			# what is left of the budget, shared by the ramps still to run
			ramps_left=$(( (${#cores_list[@]} - cores_done) * ${#plugins[@]} - plugin_done ))
			ramp_end=$(( $(date +%s) + (CORES_BUDGET - ($(date +%s) - t_cores)) / ramps_left ))
			plugin_done=$((plugin_done + 1))
			# a bigger machine starts where the smaller core count ended
			r=$start_rooms
			[ -z "${cores_held[$p]:-}" ] || [ "${cores_held[$p]}" -le "$r" ] || r=${cores_held[$p]}
			[ "$r" -le "$cap_rooms" ] || r=$cap_rooms
			while [ "$steps" -lt "$CORES_STEPS" ]; do
				if [ "$(date +%s)" -ge "$ramp_end" ]; then
					log "cores: this ramp's share of BENCH_CORES_BUDGET ($CORES_BUDGET s) used up"
					break
				fi
				steps=$((steps + 1))
				lg_rest=1
				if cores_step "$n" "$p" "$r"; then
					lo=$r
					if [ "$hi" = 0 ]; then
						[ "$r" -lt "$cap_rooms" ] || break
						r=$((r * 2))
						[ "$r" -le "$cap_rooms" ] || r=$cap_rooms
						continue
					fi
				else
					hi=$r
				fi
				gap=$((hi - lo))
				[ "$gap" -gt 1 ] && [ "$gap" -gt $((lo / 6)) ] || break
				r=$(((lo + hi) / 2))
			done
			lg_rest=2
			cores_held[$p]=$lo
			log "cores: $n core(s), $p: $((lo * cores_per)) participants held$([ "$hi" = 0 ] || echo ", $((hi * cores_per)) not")"
		done
		stop_janus
		cores_done=$((cores_done + 1))
	done
	lg_pin=()
	log "cores: $(($(date +%s) - t_cores)) s"
fi

log "done in $(($(date +%s) - t_start)) s"
python3 "$bench/report.py" "$out" "$results/latest.json" \
	--janus-pid "$janus_pid" --janus-info "$work/janus-info.json" \
	--ab-quality "$AB_QUALITY" --ab-bitrate "$AB_BITRATE" --idle-target-rooms "$IDLE_ROOMS" \
	--sb-jitter "${SB_JITTER_MIN:-?}-${SB_JITTER_MAX:-?}" --floor "$floor_out" --phone-rate "$PHONE_RATE" \
	--cores "$cores_out" --cores-shape "$CORES_SHAPE" --cores-prio "$CORES_PRIO" --cores-load "${cores_load:-}" \
	--cores-criteria "rx/exp >= $CORES_RX, loadgen never 200 ms late; switchboard: $([ "$CORES_LATE" = canary ] && echo "no late mixer frame beyond the stalls the canaries saw" || echo "0 late mixer frames"); audiobridge: Janus CPU <= $CORES_AB_CPU % of the cores"
