#!/bin/bash
# Installs what Switchboard needs on Debian 12 (as root): build tools and
# libraries, Janus, Chromium and audio tools for the tests, and the npm
# packages of package-lock.json. Safe to run again: it skips what is there.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"

packages=(
	build-essential autoconf automake libtool pkg-config clang libclang-rt-14-dev
	debhelper dpkg-dev binutils
	janus janus-dev libjs-janus-gateway
	libglib2.0-dev libjansson-dev libopus-dev libspeexdsp-dev libspandsp-dev
	libsoup-3.0-dev libjwt-dev libcurl4-openssl-dev libsofia-sip-ua-dev libsrtp2-dev
	baresip-core sipsak sip-tester
	libpocketsphinx-dev libsphinxbase-dev pocketsphinx-en-us pocketsphinx-testdata libespeak-ng-dev
	nodejs npm chromium espeak-ng sox opus-tools procps iproute2 openssl
	libsqlite3-dev libpq-dev postgresql libcrypt-dev kamailio kamailio-postgres-modules
)
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node may come from elsewhere than Debian (a newer one is fine).
if command -v node >/dev/null && command -v npm >/dev/null; then
	missing=("${missing[@]/nodejs/}")
	missing=("${missing[@]/npm/}")
fi
missing=($(printf '%s\n' "${missing[@]}" | grep -v '^$' || true))
if [ ${#missing[@]} -gt 0 ]; then
	echo "deps: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Debian's kamailio service would take 5060 from the tests' nodes: the
# cluster test starts its own Kamailio with conf/kamailio/.
if command -v systemctl >/dev/null && systemctl is-active --quiet kamailio 2>/dev/null; then
	systemctl disable --now kamailio >/dev/null 2>&1 || true
fi
# Only Debian's instance (it runs as user kamailio): a test's or a bench's
# own Kamailio, started as root, may be running beside this.
pkill -u kamailio -x kamailio 2>/dev/null || true
# npm ci again whenever package-lock.json changed since the last install.
lock_hash="$(sha256sum "$repo/package-lock.json" | cut -d' ' -f1)"
if [ "$(cat "$repo/node_modules/.lock-hash" 2>/dev/null)" != "$lock_hash" ]; then
	(cd "$repo" && npm ci --no-audit --no-fund --loglevel=error)
	echo "$lock_hash" >"$repo/node_modules/.lock-hash"
fi
