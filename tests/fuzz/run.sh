#!/bin/bash
# Builds the libFuzzer targets with clang (ASan+UBSan) and runs each for a
# bounded time. Prints "ok"/"not ok" per target; exit status 1 if any fails.
set -uo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
out="${FUZZ_OUT:-$repo/build-fuzz}"
seconds="${FUZZ_SECONDS:-20}"
mkdir -p "$out"
flags="-std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined"
inc="-I$repo/plugins/switchboard -I/usr/include/janus $(pkg-config --cflags glib-2.0 jansson libsoup-3.0 opus speexdsp spandsp)"
libs="$(pkg-config --libs glib-2.0 opus speexdsp spandsp) -lm"
media="$repo/plugins/switchboard/media"
status=0
n=0
providers="$repo/plugins/switchboard/providers"
sources_fuzz_rtp_media="$media/rtp.c $media/jitter.c $media/codec.c"
sources_fuzz_sse="$repo/plugins/switchboard/net/sse.c"
sip="$repo/plugins/switchboard/sip"
sources_fuzz_sip="$sip/sdp.c $sip/digest.c $sip/admission.c $repo/plugins/switchboard/core/grant.c $media/dtmf.c"
sources_fuzz_twilio="$repo/plugins/switchboard/twilio/signature.c $repo/plugins/switchboard/twilio/twiml.c $(pkg-config --cflags --libs jansson)"
sources_fuzz_livekit="$repo/plugins/switchboard/livekit/token.c $(pkg-config --cflags --libs jansson)"
sources_fuzz_tools="$repo/plugins/switchboard/tools/schema.c $(pkg-config --cflags --libs jansson)"
sources_fuzz_variables="$repo/plugins/switchboard/room/variables.c $repo/tests/unit/janus_log_stub.c $(pkg-config --cflags --libs jansson)"
for target in fuzz_rtp_media fuzz_sse fuzz_sip fuzz_twilio fuzz_livekit fuzz_tools fuzz_variables; do
	n=$((n + 1))
	sources_var="sources_$target"
	# shellcheck disable=SC2086
	if ! clang $flags $inc "$repo/tests/fuzz/$target.c" ${!sources_var} -o "$out/$target" $libs; then
		echo "not ok $n - $target (build)"
		status=1
		continue
	fi
	mkdir -p "$out/$target.corpus"
	if "$out/$target" -max_total_time="$seconds" -rss_limit_mb=2048 \
		-artifact_prefix="$out/" "$out/$target.corpus" >"$out/$target.log" 2>&1; then
		echo "ok $n - $target ($(grep -o 'Done [0-9]* runs' "$out/$target.log"))"
	else
		echo "not ok $n - $target (see $out/$target.log)"
		tail -30 "$out/$target.log"
		status=1
	fi
done
exit $status
