#!/bin/bash
# Builds the plugin out of tree: build/ (or $1), configure flags after it.
#   scripts/build.sh                         -> build/
#   scripts/build.sh build-asan --enable-sanitizers
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-build}"
shift || true
cd "$repo"
if [ ! -f configure ] || [ configure.ac -nt configure ] || [ Makefile.am -nt Makefile.in ] ||
	[ -n "$(find . -name "*.mk" -newer Makefile.in -not -path "./node_modules/*" -not -path "./build*" 2>/dev/null)" ]; then
	autoreconf -fi >/dev/null 2>&1 || autoreconf -fi
fi
mkdir -p "$build"
cd "$build"
if [ ! -f Makefile ] || [ "$repo/configure" -nt Makefile ]; then
	"$repo/configure" --quiet "$@"
fi
make -j"$(nproc)" >/dev/null
echo "build: $build/plugins/switchboard/.libs/libjanus_switchboard.so"
