#!/bin/bash
# Builds bench/loadgen and bench/floor (C11, -Wall -Wextra -Werror) with gcc
# and pkg-config. Needs libopus-dev, libjansson-dev, libcurl4-*-dev.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
CC="${CC:-gcc}"
# shellcheck disable=SC2046
"$CC" -std=c11 -O2 -g -Wall -Wextra -Werror -pthread \
	$(pkg-config --cflags opus jansson libcurl) \
	-o "$here/loadgen" "$here/loadgen.c" "$here/latency.c" "$here/audio.c" \
	$(pkg-config --libs opus jansson libcurl) -lm
# shellcheck disable=SC2046
"$CC" -std=c11 -O2 -g -Wall -Wextra -Werror \
	$(pkg-config --cflags opus) \
	-o "$here/floor" "$here/floor.c" "$here/audio.c" \
	$(pkg-config --libs opus) -lm
echo "built $here/loadgen $here/floor"
