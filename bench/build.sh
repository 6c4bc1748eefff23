#!/bin/bash
# Builds bench/loadgen (C11, -Wall -Wextra -Werror) with gcc and pkg-config.
# Needs libopus-dev, libjansson-dev, libcurl4-*-dev.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
CC="${CC:-gcc}"
# shellcheck disable=SC2046
"$CC" -std=c11 -O2 -g -Wall -Wextra -Werror -pthread \
	$(pkg-config --cflags opus jansson libcurl) \
	-o "$here/loadgen" "$here/loadgen.c" "$here/latency.c" \
	$(pkg-config --libs opus jansson libcurl) -lm
echo "built $here/loadgen"
