#!/bin/bash
# Sets everything up on Debian 12 and runs every test: C unit tests (plain
# and under ASan+UBSan), then the Node integration and browser end-to-end
# tests, each of which starts its own private Janus on loopback.
# The last line is "N passed, N failed".
#
# While iterating: SKIP_C_TESTS=1 skips the C stages (unit, ASan, fuzz;
# the build still runs), TEST_FILES="tests/e2e/x.test.mjs …" runs only
# those Node files, FILE_GUARD_S changes the per-file guard.
set -uo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
passed=0
failed=0
summary=()

count_automake() { # build dir, label, seconds
	local log="$1/test-suite.log" p f
	p=$(awk '/^# PASS:/ {print $3}' "$log" 2>/dev/null | head -1)
	f=$(awk '/^# (FAIL|ERROR|XPASS):/ {s += $3} END {print s + 0}' "$log" 2>/dev/null)
	p=${p:-0}
	f=${f:-0}
	if [ "$p" = 0 ] && [ "$f" = 0 ]; then f=1; fi # no log: the build failed
	passed=$((passed + p))
	failed=$((failed + f))
	summary+=("$2: $p passed, $f failed ($3 s)")
}

scripts/deps.sh || { echo "0 passed, 1 failed"; exit 1; }

if [ -n "${SKIP_C_TESTS:-}" ]; then
	# The Node tests still need the plugin and the test programs.
	scripts/build.sh build && (cd build && make check -j"$(nproc)" TESTS= >/dev/null 2>&1) ||
		{ echo "0 passed, 1 failed"; exit 1; }
else
echo "== unit tests"
t=$SECONDS
if scripts/build.sh build; then
	(cd build && make check -j"$(nproc)" >/dev/null 2>&1)
	grep -hE '^(not ok|ok)' build/tests/unit/*.log | grep -v '^ok' || true
fi
count_automake build "unit" $((SECONDS - t))

echo "== slow unit tests (every knowledge-base phrase through espeak-ng and pocketsphinx)"
t=$SECONDS
slow_rc=0
slow=$(build/tests/unit/test_embedded_speech -m slow --tap 2>&1) || slow_rc=$?
echo "$slow" | grep -E '^not ok|^Bail out!|^ERROR:' || true
p=$(echo "$slow" | grep -cE '^ok [0-9]+ [^#]*$')
f=$(echo "$slow" | grep -cE '^not ok')
# A failed g_assert aborts the program with "Bail out!" and no "not ok":
# a run that did not end well is a failure whatever it printed.
[ "$slow_rc" != 0 ] && f=$((f + 1))
[ "$p" = 0 ] && [ "$f" = 0 ] && f=1
passed=$((passed + p))
failed=$((failed + f))
summary+=("unit (slow): $p passed, $f failed ($((SECONDS - t)) s)")

echo "== unit tests under ASan+UBSan"
t=$SECONDS
if scripts/build.sh build-asan --enable-sanitizers CC=clang; then
	(cd build-asan && ASAN_OPTIONS=detect_leaks=1 make check -j"$(nproc)" >/dev/null 2>&1)
	grep -hE '^(not ok|ok)' build-asan/tests/unit/*.log | grep -v '^ok' || true
fi
count_automake build-asan "unit (asan+ubsan)" $((SECONDS - t))

echo "== fuzz targets (libFuzzer, ASan+UBSan, bounded)"
t=$SECONDS
fuzz_out=$(tests/fuzz/run.sh 2>&1)
echo "$fuzz_out" | grep -E '^(ok|not ok)'
p=$(echo "$fuzz_out" | grep -c '^ok ')
f=$(echo "$fuzz_out" | grep -c '^not ok ')
passed=$((passed + p))
failed=$((failed + f))
summary+=("fuzz: $p passed, $f failed ($((SECONDS - t)) s)")
fi

# Counts a TAP stream's leaf tests (suites are not tests): "passed failed".
# For a runner that died: no "# pass"/"# fail" summary, but the results it
# printed before (subtests are indented; a suite's own line carries
# "type: 'suite'" in its YAML block; skipped and todo tests are not counted).
count_tap() {
	awk '
		function flush() { if (r == "ok" && !suite) p++; if (r == "fail" && !suite) f++; r = ""; suite = 0 }
		/^[ \t]*(not )?ok [0-9]+ / {
			flush()
			r = ($0 ~ /^[ \t]*not ok/) ? "fail" : "ok"
			if ($0 ~ /# (SKIP|TODO)/) r = ""
			next
		}
		/^[ \t]*type: .suite.$/ { suite = 1 }
		END { flush(); print p + 0, f + 0 }'
}

# Each file gets its own runner under a guard: every test and hook has its
# own timeout (seconds to a few minutes) and tests/lib/harness.mjs fails a
# file whose runner cannot exit, so the guard only stops a runner stuck
# outside any test. The slowest file took 60 s on a loaded 2-core machine
# (tests/e2e/transfer-phone-baresip.test.mjs); the guard is five times that.
# A file that needs longer (tests/integration/package.test.mjs builds the
# .deb) says so in a line "// file-guard-s: N"; FILE_GUARD_S is the least.
FILE_GUARD_S=${FILE_GUARD_S:-300}
mkdir -p tests/artifacts
for file in ${TEST_FILES:-tests/static/*.test.mjs tests/integration/*.test.mjs tests/e2e/*.test.mjs}; do
	[ -f "$file" ] || continue
	echo "== $file"
	log=$(mktemp)
	start=$(date +%s)
	# timeout runs in a process group of its own (with Janus, baresip,
	# PostgreSQL… under the runner): what is still in it afterwards was
	# left behind.
	guard=$(sed -n 's|^// file-guard-s: \([0-9]\+\)$|\1|p' "$file" | head -1)
	[ -n "$guard" ] && [ "$guard" -gt "$FILE_GUARD_S" ] || guard=$FILE_GUARD_S
	timeout --kill-after=10 "$guard" node --test --test-reporter=tap "$file" >"$log" 2>&1 &
	pid=$!
	wait "$pid"
	rc=$?
	secs=$(($(date +%s) - start))
	# (zombies are not running: an orphan's exit status nobody reaped)
	left=$(ps -e -o pid=,pgid=,stat=,args= | awk -v g="$pid" '$2 == g && $3 !~ /^Z/' | cut -c1-200)
	out=$(cat "$log")
	rm -f "$log"
	echo "$out" | grep -E '^\s*(not ok|ok) ' | grep -vE '^\s+ok' || true
	echo "$out" | grep -E '^not ok' -A 30 | head -60 || true
	p=$(echo "$out" | awk '/^# pass / {print $3}' | tail -1)
	f=$(echo "$out" | awk '/^# fail / {print $3}' | tail -1)
	c=$(echo "$out" | awk '/^# cancelled / {print $3}' | tail -1)
	note=""
	if [ -z "$p" ] && [ -z "$f" ]; then
		# The runner died (the guard, a crash): count what it reported,
		# and its death as one more failure.
		read -r p f <<<"$(echo "$out" | count_tap)"
		f=$((f + 1))
		if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then note="; runner killed after ${secs} s"; else note="; runner died (status $rc)"; fi
		echo "$file: no summary$note; its last lines:"
		echo "$out" | tail -20 | sed 's/^/    /'
	else
		# A timed-out test is "not ok" but counted under "# cancelled".
		f=$(( ${f:-0} + ${c:-0} ))
		p=${p:-0}
		if [ "$rc" != 0 ] && [ "$f" = 0 ]; then f=1; fi
	fi
	if [ -n "$left" ]; then
		echo "$file: left processes running:"
		echo "$left" | sed 's/^/    /'
		kill -KILL -- "-$pid" 2>/dev/null || true
		f=$((f + 1))
		note="$note; left processes running"
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	summary+=("$file: $p passed, $f failed (${secs} s$note)")
done

echo "== summary ($SECONDS s)"
printf '  %s\n' "${summary[@]}"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
