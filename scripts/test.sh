#!/bin/bash
# Sets everything up on Debian 12 and runs every test: C unit tests (plain
# and under ASan+UBSan), then the Node integration and browser end-to-end
# tests, each of which starts its own private Janus on loopback.
# The last line is "N passed, N failed".
set -uo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
passed=0
failed=0
summary=()

count_automake() { # build dir, label
	local log="$1/test-suite.log" p f
	p=$(awk '/^# PASS:/ {print $3}' "$log" 2>/dev/null | head -1)
	f=$(awk '/^# (FAIL|ERROR|XPASS):/ {s += $3} END {print s + 0}' "$log" 2>/dev/null)
	p=${p:-0}
	f=${f:-0}
	if [ "$p" = 0 ] && [ "$f" = 0 ]; then f=1; fi # no log: the build failed
	passed=$((passed + p))
	failed=$((failed + f))
	summary+=("$2: $p passed, $f failed")
}

scripts/deps.sh || { echo "0 passed, 1 failed"; exit 1; }

echo "== unit tests"
if scripts/build.sh build; then
	(cd build && make check -j"$(nproc)" >/dev/null 2>&1)
	grep -hE '^(not ok|ok)' build/tests/unit/*.log | grep -v '^ok' || true
fi
count_automake build "unit"

echo "== slow unit tests (every knowledge-base phrase through espeak-ng and pocketsphinx)"
slow=$(build/tests/unit/test_embedded_speech -m slow --tap 2>&1)
echo "$slow" | grep -E '^not ok' || true
p=$(echo "$slow" | grep -cE '^ok [0-9]+ [^#]*$')
f=$(echo "$slow" | grep -cE '^not ok')
[ "$p" = 0 ] && [ "$f" = 0 ] && f=1
passed=$((passed + p))
failed=$((failed + f))
summary+=("unit (slow): $p passed, $f failed")

echo "== unit tests under ASan+UBSan"
if scripts/build.sh build-asan --enable-sanitizers CC=clang; then
	(cd build-asan && ASAN_OPTIONS=detect_leaks=1 make check -j"$(nproc)" >/dev/null 2>&1)
	grep -hE '^(not ok|ok)' build-asan/tests/unit/*.log | grep -v '^ok' || true
fi
count_automake build-asan "unit (asan+ubsan)"

echo "== fuzz targets (libFuzzer, ASan+UBSan, bounded)"
fuzz_out=$(tests/fuzz/run.sh 2>&1)
echo "$fuzz_out" | grep -E '^(ok|not ok)'
p=$(echo "$fuzz_out" | grep -c '^ok ')
f=$(echo "$fuzz_out" | grep -c '^not ok ')
passed=$((passed + p))
failed=$((failed + f))
summary+=("fuzz: $p passed, $f failed")

mkdir -p tests/artifacts
for file in tests/integration/*.test.mjs tests/e2e/*.test.mjs; do
	[ -f "$file" ] || continue
	echo "== $file"
	out=$(timeout 600 node --test --test-reporter=tap "$file" 2>&1)
	rc=$?
	echo "$out" | grep -E '^\s*(not ok|ok) ' | grep -vE '^\s+ok' || true
	echo "$out" | grep -E '^not ok' -A 30 | head -60 || true
	p=$(echo "$out" | awk '/^# pass / {print $3}' | tail -1)
	f=$(echo "$out" | awk '/^# fail / {print $3}' | tail -1)
	p=${p:-0}
	f=${f:-0}
	if [ "$rc" != 0 ] && [ "$f" = 0 ]; then f=1; fi
	passed=$((passed + p))
	failed=$((failed + f))
	summary+=("$file: $p passed, $f failed")
done

echo "== summary"
printf '  %s\n' "${summary[@]}"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
